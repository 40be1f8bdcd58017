// Resampling while a trace is read: the parser hands each row to this sink (DstatReadOptions.rows), which
// folds it into its bin, so a long trace resampled costs its bins rather than its rows.
import type { DstatRowSink } from "../../io/dstat-csv.ts";
import { BinMeans, type TraceColumns } from "./resample.ts";

export class ResampleRows implements DstatRowSink {
  private bins: BinMeans;
  /** per dataset column: its place among the block's columns (-1: the trace lacks it, and selection says so) */
  private picks: number[] = [];
  private readonly picked: Float64Array;

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
  }

  /** Throws RowsOutOfOrder at the first row earlier than the one before: the trace must then be held whole and sorted. */
  row(time: number, values: Float64Array): void {
    const picks = this.picks;
    for (let j = 0; j < picks.length; j++) this.picked[j] = picks[j]! < 0 ? Number.NaN : values[picks[j]!]!;
    this.bins.add(time, this.picked);
  }

  /** The dataset's columns resampled, as resampleMean gives them for the whole trace. */
  trace(): TraceColumns {
    return this.bins.finish();
  }
}
