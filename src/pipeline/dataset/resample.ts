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
 * resample().mean() of rows handed over one at a time in time order, holding one running sum per column and
 * the finished bins, never the rows: a long trace costs its bins. resampleMean feeds it the sorted rows of a
 * held trace, so both ways do the same additions in the same order and give the same doubles.
 */
export class BinMeans {
  private readonly width: number;
  private origin = Number.NaN;
  private last = Number.NEGATIVE_INFINITY;
  /** the bin being summed (NaN before the first row), and the left edge of each finished one */
  private bin = Number.NaN;
  private readonly edges: number[] = [];
  // The running Kahan sum of the current bin, per column (pandas' grouped mean compensates its sums).
  private readonly sum: Float64Array;
  private readonly comp: Float64Array;
  private readonly count: Float64Array;
  /** per column: the finished bins' means, room for `capacity` bins; grows by doubling */
  private means: Float64Array[];
  private capacity = 64;

  constructor(columns: number, seconds: number) {
    this.width = seconds * 1000;
    this.sum = new Float64Array(columns);
    this.comp = new Float64Array(columns);
    this.count = new Float64Array(columns);
    this.means = Array.from({ length: columns }, () => new Float64Array(this.capacity));
  }

  /**
   * One row: its unix ms (a row without one is left out) and a value per column (NaN is skipped, as pandas
   * does). False, and the row is not taken, when it is earlier than the row before: pandas sorts the rows
   * before it bins them, which needs them all (resampleMean).
   */
  add(time: number, values: ArrayLike<number>): boolean {
    if (!Number.isFinite(time)) return true;
    if (time < this.last) return false;
    this.last = time;
    // The first row is the earliest: bins count from midnight of its day.
    if (this.origin !== this.origin) this.origin = Math.floor(time / DAY_MS) * DAY_MS;
    const b = Math.floor((time - this.origin) / this.width);
    if (b !== this.bin) {
      if (this.bin === this.bin) this.close();
      this.bin = b;
    }
    const { sum, comp, count } = this;
    for (let c = 0; c < sum.length; c++) {
      const v = values[c]!;
      if (v !== v) continue;
      const y = v - comp[c]!;
      const t = sum[c]! + y;
      comp[c] = t - sum[c]! - y;
      sum[c] = t;
      count[c]!++;
    }
    return true;
  }

  /** The bins with every column's mean, NaN where a column had no value (before dropna). */
  finish(): TraceColumns {
    if (this.bin !== this.bin)
      throw new ExampleError("the trace has no time column, so it cannot be resampled; build the dataset without --sample-interval");
    this.close();
    this.bin = Number.NaN;
    const groups = this.edges.length;
    return {
      times: Float64Array.from(this.edges, (b) => this.origin + b * this.width),
      values: this.means.map((m) => m.subarray(0, groups)),
      rows: groups,
    };
  }

  /** The current bin's means go into their columns; its sums start again. */
  private close(): void {
    const g = this.edges.length;
    if (g === this.capacity) {
      this.capacity *= 2;
      this.means = this.means.map((m) => grown(m, this.capacity));
    }
    for (let c = 0; c < this.sum.length; c++) {
      this.means[c]![g] = this.count[c] === 0 ? Number.NaN : this.sum[c]! / this.count[c]!;
      this.sum[c] = 0;
      this.comp[c] = 0;
      this.count[c] = 0;
    }
    this.edges.push(this.bin);
  }
}

function grown(a: Float64Array, length: number): Float64Array {
  const b = new Float64Array(length);
  b.set(a);
  return b;
}

/**
 * Mean of every non-NaN value per bin and column (pandas skips NaN), then only bins in which every
 * column has a value survive (the dropna that shifts later samples earlier). Rows without a time are
 * ignored; rows out of time order are sorted first, as pandas' resample does.
 */
export function resampleMean(trace: TraceColumns, seconds: number): TraceColumns {
  return dropIncompleteRows(binMeansOf(trace, seconds));
}

/**
 * resampleMean before its dropna: each column's bins depend on the times and that column alone, so the columns
 * of a trace may be binned a few at a time and put side by side.
 */
export function binMeansOf(trace: TraceColumns, seconds: number): TraceColumns {
  // Row numbers in a typed array: 4 bytes a row, where a long trace would otherwise cost a JS array.
  const timed = new Uint32Array(trace.rows);
  let count = 0;
  for (let r = 0; r < trace.rows; r++) if (Number.isFinite(trace.times[r]!)) timed[count++] = r;
  const order = timed.subarray(0, count);
  let sorted = true;
  for (let i = 1; i < order.length; i++) if (trace.times[order[i]!]! < trace.times[order[i - 1]!]!) sorted = false;
  if (!sorted) order.sort((a, b) => trace.times[a]! - trace.times[b]! || a - b);
  const d = trace.values.length;
  const bins = new BinMeans(d, seconds);
  const row = new Float64Array(d);
  for (const r of order) {
    for (let c = 0; c < d; c++) row[c] = trace.values[c]![r]!;
    bins.add(trace.times[r]!, row);
  }
  return bins.finish();
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
