// Resampling while a trace is read: the parser hands each row to this sink (DstatReadOptions.rows), which
// folds it into its bin, so a long trace resampled costs its bins rather than its rows.
import type { DstatRowSink } from "../../io/dstat-csv.ts";
import { BinMeans, dropIncompleteRows, type TraceColumns } from "./resample.ts";

/** A trace's dataset columns, resampled (as resampleMean gives them); throws ExampleError as it does. */
export interface ResampledTrace {
  trace(): TraceColumns;
}

export class ResampleRows implements DstatRowSink, ResampledTrace {
  private bins: BinMeans;
  /** per dataset column: its place among the block's columns (-1: the trace lacks it, and selection says so) */
  private picks: number[] = [];
  private readonly picked: Float64Array;
  /** rows of the trace's block so far */
  rows = 0;
  /**
   * a row came earlier than the one before it, so the bins are not the trace's (pandas sorts the rows first):
   * the rest are only counted, and the trace is read again a few columns at a time (readResampled in
   * cache/resampled-run.ts)
   */
  outOfOrder = false;

  /** `columns`: the dataset's, in its order; `seconds`: the bin width */
  constructor(
    private readonly columns: readonly string[],
    private readonly seconds: number,
  ) {
    this.picked = new Float64Array(columns.length);
    this.bins = new BinMeans(columns.length, seconds);
  }

  block(columns: readonly string[]): void {
    this.bins = new BinMeans(this.columns.length, this.seconds);
    this.picks = this.columns.map((c) => columns.indexOf(c));
    this.rows = 0;
    this.outOfOrder = false;
  }

  row(time: number, values: Float64Array): void {
    this.rows++;
    if (this.outOfOrder) return;
    const picks = this.picks;
    // A column the block lacks (-1) reads undefined, which a Float64Array stores as NaN.
    for (let j = 0; j < picks.length; j++) this.picked[j] = values[picks[j]!]!;
    this.outOfOrder = !this.bins.add(time, this.picked);
  }

  trace(): TraceColumns {
    return dropIncompleteRows(this.bins.finish());
  }
}
