// The time-series half of §5.2: pandas `df.resample(alias).mean()` (bins aligned to midnight of the
// first sample's day, labelled by their left edge) followed by `dropna()`, on the selected columns.
import { CimlError } from "./errors.ts";

/** Columns of one trace after selection: `values[c][row]`, `rows` long. */
export interface TraceColumns {
  times: Float64Array;
  values: Float64Array[];
  rows: number;
}

const DAY_MS = 86_400_000;

/**
 * Mean of every non-NaN value per bin and column (pandas skips NaN), then only bins in which every
 * column has a value survive (the dropna that shifts later samples earlier). Rows without a time are
 * ignored; rows out of time order are sorted first, as pandas' resample does.
 */
export function resampleMean(trace: TraceColumns, seconds: number): TraceColumns {
  const order: number[] = [];
  for (let r = 0; r < trace.rows; r++) if (Number.isFinite(trace.times[r]!)) order.push(r);
  if (order.length === 0) throw new CimlError("the trace has no time column, so it cannot be resampled; build the dataset without --sample-interval");
  let sorted = true;
  for (let i = 1; i < order.length; i++) if (trace.times[order[i]!]! < trace.times[order[i - 1]!]!) sorted = false;
  if (!sorted) order.sort((a, b) => trace.times[a]! - trace.times[b]! || a - b);
  const width = seconds * 1000;
  const origin = Math.floor(trace.times[order[0]!]! / DAY_MS) * DAY_MS;
  const d = trace.values.length;
  const outTimes = new Float64Array(order.length);
  const outValues = Array.from({ length: d }, () => new Float64Array(order.length));
  // Kahan sums: pandas' grouped mean compensates too, so long bins round the same way.
  const sum = new Float64Array(d);
  const comp = new Float64Array(d);
  const count = new Int32Array(d);
  let out = 0;
  let bin = Number.NaN;
  const flush = () => {
    for (let c = 0; c < d; c++) if (count[c] === 0) return;
    for (let c = 0; c < d; c++) outValues[c]![out] = sum[c]! / count[c]!;
    outTimes[out++] = origin + bin * width;
  };
  for (const r of order) {
    const b = Math.floor((trace.times[r]! - origin) / width);
    if (b !== bin) {
      if (bin === bin) flush();
      bin = b;
      sum.fill(0);
      comp.fill(0);
      count.fill(0);
    }
    for (let c = 0; c < d; c++) {
      const v = trace.values[c]![r]!;
      if (v !== v) continue;
      const y = v - comp[c]!;
      const t = sum[c]! + y;
      comp[c] = t - sum[c]! - y;
      sum[c] = t;
      count[c]!++;
    }
  }
  flush();
  return { times: outTimes.subarray(0, out), values: outValues.map((v) => v.subarray(0, out)), rows: out };
}

/** Without resampling, dropna() alone: rows with a NaN in any selected column go. */
export function dropIncompleteRows(trace: TraceColumns): TraceColumns {
  const d = trace.values.length;
  let keep = 0;
  const times = new Float64Array(trace.rows);
  const values = Array.from({ length: d }, () => new Float64Array(trace.rows));
  for (let r = 0; r < trace.rows; r++) {
    let complete = true;
    for (let c = 0; c < d && complete; c++) complete = trace.values[c]![r] === trace.values[c]![r];
    if (!complete) continue;
    for (let c = 0; c < d; c++) values[c]![keep] = trace.values[c]![r]!;
    times[keep++] = trace.times[r]!;
  }
  return { times: times.subarray(0, keep), values: values.map((v) => v.subarray(0, keep)), rows: keep };
}
