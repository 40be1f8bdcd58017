// A cached trace read for a resampled dataset: resampled as it streams in when its rows come in time order
// (ResampleRows), so only the bins are held. Rows out of order are binned the way pandas bins them, after
// sorting, which needs every row at once: then the trace is read again a few columns at a time, each read
// holding the times and those columns only (a column's bins depend on the times and that column alone).
import { type DstatTable, readDstat } from "../../io/dstat-csv.ts";
import { readTraceText } from "../../io/raw-cache.ts";
import type { Workspace } from "../../io/workspace.ts";
import { ExampleError } from "../errors.ts";
import { binMeansOf, dropIncompleteRows, type TraceColumns } from "../dataset/resample.ts";
import { ResampleRows, type ResampledTrace } from "../dataset/resample-rows.ts";

/**
 * Rows × (columns + 1) × 8 bytes held at once by the reads of a trace out of order: at most about the text's
 * size (the goal is a peak under twice the text), and never fewer than this, so a short trace is read once.
 */
const HELD_BYTES = 64 * 1024 * 1024;

export const NOT_CACHED = "no dstat file in the cache (.raw)";

interface ReadOptions {
  year: number | undefined;
  columns: readonly string[];
  seconds: number;
  signal: AbortSignal | undefined;
  /** most bytes of rows a read holds: the text's size, at least HELD_BYTES, unless told (tests make a short trace take several reads) */
  heldBytes?: number;
}

/** The trace's table (its columns and first row, for the dataset's checks) and its columns resampled; or why not. */
export async function readResampled(
  ws: Workspace,
  run: string,
  options: ReadOptions,
): Promise<{ table: DstatTable; resampled: ResampledTrace | undefined } | string> {
  const { year, columns, seconds, signal } = options;
  const text = await readTraceText(ws, run);
  if (text === undefined) return NOT_CACHED;
  const rows = new ResampleRows(columns, seconds);
  const table = await readDstat(text.chunks, { year, columns, signal, rows, expectedBytes: text.size });
  if (!rows.outOfOrder && !table.rowsStale) return { table, resampled: rows };
  // A column the trace lacks: the dataset's checks exclude it, nothing to resample.
  if (columns.some((c) => !table.columns.includes(c))) return { table, resampled: undefined };
  const heldBytes = options.heldBytes ?? Math.max(HELD_BYTES, text.size ?? 0);
  const perRead = Math.max(1, Math.floor(heldBytes / (8 * Math.max(1, rows.rows))) - 1);
  const values: Float64Array[] = [];
  let times: Float64Array = new Float64Array(0);
  for (let i = 0; i < columns.length; i += perRead) {
    const some = columns.slice(i, i + perRead);
    // The last read's columns (and text chunks) are garbage now, but the collector frees them when it likes,
    // which may be after this read has stored as many again: the peak would be two reads' columns, not one.
    Bun.gc(true);
    const bins = await binnedRead(ws, run, some, options);
    if (bins === NOT_CACHED) return NOT_CACHED;
    // No time to bin by: the same for every column, said when the dataset asks for the trace.
    if (bins instanceof ExampleError) {
      return {
        table,
        resampled: {
          trace: () => {
            throw bins;
          },
        },
      };
    }
    times = bins.times;
    values.push(...bins.values);
  }
  const trace = dropIncompleteRows({ times, values, rows: times.length });
  return { table, resampled: { trace: () => trace } };
}

/**
 * One read of the trace keeping `some` columns, binned. A function of its own so that the rows it held are
 * referenced by nothing once it returns: read inline, the last read's columns were still alive at the next
 * read's start, and the peak was two reads' rows.
 */
async function binnedRead(
  ws: Workspace,
  run: string,
  some: readonly string[],
  { year, seconds, signal }: ReadOptions,
): Promise<TraceColumns | ExampleError | typeof NOT_CACHED> {
  const text = await readTraceText(ws, run);
  if (text === undefined) return NOT_CACHED;
  const held = await readDstat(text.chunks, { year, columns: some, signal, expectedBytes: text.size });
  const picked = some.map((c) => held.values[held.columns.indexOf(c)]!);
  try {
    return binMeansOf({ times: held.times, values: picked, rows: held.rows }, seconds);
  } catch (err) {
    if (!(err instanceof ExampleError)) throw err;
    return err;
  }
}
