// --sample-interval takes pandas offset aliases as the original passed them to DataFrame.resample:
// an optional count and a unit (s/S/sec, min/T, h/H). Bins are that many seconds wide.
import { UsageError } from "../errors.ts";

interface SampleInterval {
  alias: string;
  seconds: number;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, S: 1, sec: 1, min: 60, T: 60, h: 3600, H: 3600 };

export function parseSampleInterval(alias: string): SampleInterval {
  const m = /^(\d*)(s|S|sec|min|T|h|H)$/.exec(alias.trim());
  const count = m ? (m[1] === "" ? 1 : Number(m[1])) : 0;
  if (!m || count <= 0) {
    throw new UsageError(
      `--sample-interval ${JSON.stringify(alias)} is not a pandas offset alias; use e.g. 1s, 10s, 30s, 1min, 5min, 10min or 1h`,
    );
  }
  return { alias: alias.trim(), seconds: count * UNIT_SECONDS[m[2]!]! };
}

/** The original's base length: 5500 one-second samples. */
const BASE_LENGTH_SECONDS = 5500;

/** L = number of bins covering 5500 s: ceil(5500 / interval), or 5500 without resampling. */
export function normalizedLength(interval: SampleInterval | null): number {
  return interval ? Math.ceil(BASE_LENGTH_SECONDS / interval.seconds) : BASE_LENGTH_SECONDS;
}
