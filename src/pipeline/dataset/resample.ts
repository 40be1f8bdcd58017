// The time-series half of reading a trace: pandas `df.resample(alias).mean()` (bins aligned to midnight of the
// first sample's day, labelled by their left edge) followed by `dropna()`, on the selected columns.
import { ExampleError } from "../errors.ts";

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
  // Row numbers in a typed array: 4 bytes a row, where a long trace would otherwise cost a JS array.
  const timed = new Uint32Array(trace.rows);
  let count = 0;
  for (let r = 0; r < trace.rows; r++) if (Number.isFinite(trace.times[r]!)) timed[count++] = r;
  const order = timed.subarray(0, count);
  if (order.length === 0)
    throw new ExampleError("the trace has no time column, so it cannot be resampled; build the dataset without --sample-interval");
  let sorted = true;
  for (let i = 1; i < order.length; i++) if (trace.times[order[i]!]! < trace.times[order[i - 1]!]!) sorted = false;
  if (!sorted) order.sort((a, b) => trace.times[a]! - trace.times[b]! || a - b);
  const width = seconds * 1000;
  const origin = Math.floor(trace.times[order[0]!]! / DAY_MS) * DAY_MS;
  // Rows in time order fall into runs of equal bins: groupStart[g]..groupStart[g+1] is bin groupBin[g].
  const groupStart: number[] = [];
  const groupBin: number[] = [];
  let bin = Number.NaN;
  order.forEach((r, i) => {
    const b = Math.floor((trace.times[r]! - origin) / width);
    if (b !== bin) {
      groupStart.push(i);
      groupBin.push(b);
      bin = b;
    }
  });
  groupStart.push(order.length);
  const groups = groupBin.length;
  // Column by column (each column is one contiguous array), Kahan sums as pandas' grouped mean does.
  const means = trace.values.map((column) => {
    const out = new Float64Array(groups);
    for (let g = 0; g < groups; g++) {
      let sum = 0;
      let comp = 0;
      let count = 0;
      for (let i = groupStart[g]!; i < groupStart[g + 1]!; i++) {
        const v = column[order[i]!]!;
        if (v !== v) continue;
        const y = v - comp;
        const t = sum + y;
        comp = t - sum - y;
        sum = t;
        count++;
      }
      out[g] = count === 0 ? Number.NaN : sum / count;
    }
    return out;
  });
  return dropIncompleteRows({ times: Float64Array.from(groupBin, (b) => origin + b * width), values: means, rows: groups });
}

/** Without resampling, dropna() alone: rows with a NaN in any selected column go (the trace itself when none does). */
export function dropIncompleteRows(trace: TraceColumns): TraceColumns {
  const d = trace.values.length;
  // No copy of a trace that is complete already: a long trace's columns would be held twice.
  if (trace.values.every((column) => column.subarray(0, trace.rows).every((v) => v === v))) return trace;
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
