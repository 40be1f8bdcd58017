// Training curves as one row of block characters each: the whole run squeezed into the columns there
// are, on a scale that starts at 0 so that a move from 0.896 to 0.899 looks as small as it is.

const BLOCKS = "▁▂▃▄▅▆▇█";

/** Metrics that live in [0, 1]: drawn against 1, not against their own best value. */
const UNIT_METRICS = /(accuracy|auc|precision|recall)$/;

interface Sparkline {
  text: string;
  /** the value the full-height block stands for; the lowest block stands for 0 (or `low` if negative) */
  high: number;
  low: number;
}

/** Averages `values` into at most `width` buckets, first to last, so the whole run stays visible. */
export function downsample(values: number[], width: number): number[] {
  if (values.length <= width) return values;
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * values.length) / width);
    const to = Math.max(from + 1, Math.floor(((i + 1) * values.length) / width));
    let sum = 0;
    for (let j = from; j < to; j++) sum += values[j]!;
    out.push(sum / (to - from));
  }
  return out;
}

export function sparkline(name: string, values: number[], width: number): Sparkline {
  const finite = values.filter(Number.isFinite);
  const low = Math.min(0, ...finite);
  const high = UNIT_METRICS.test(name) ? Math.max(1, ...finite) : Math.max(...finite, low);
  const span = high - low;
  const text = downsample(finite, Math.max(1, width))
    .map((v) => BLOCKS[span === 0 ? 0 : Math.round(((v - low) / span) * (BLOCKS.length - 1))])
    .join("");
  return { text, high, low };
}
