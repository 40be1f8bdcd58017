// Reading one run back out of the cache: its dstat trace parsed and its metadata, exactly as build-dataset
// and every prediction command see it, so a model is always fed what it was trained on.
import { DstatParseError, readDstat, type DstatTable } from "../../io/dstat-csv.ts";
import { GzipError } from "../../io/gzip-json.ts";
import { readRunMetadata, readTraceText, type RunMetadata } from "../../io/raw-cache.ts";
import type { Workspace } from "../../io/workspace.ts";
import { StoreError } from "../../io/workspace/store.ts";
import { AbortedError } from "../errors.ts";
import type { ResampledTrace } from "../dataset/resample-rows.ts";
import { NOT_CACHED, readResampled } from "./resampled-run.ts";

interface LoadedRun {
  table: DstatTable;
  metadata: RunMetadata;
  /** `columns` resampled as the trace was read (LoadOptions.resampleSeconds); `table` then holds only its first rows */
  resampled?: ResampledTrace | undefined;
}

interface LoadOptions {
  /** the columns whose values are kept (the dataset's; none when just the names are wanted); all when absent */
  columns?: readonly string[];
  /** store only the rows up to this many complete ones (DstatReadOptions.keepRows); all when absent */
  keepRows?: number;
  /** the same trace already parsed by the cache check */
  parsed?: DstatTable;
  /** its metadata as the cache check just wrote it (the file may still be on its way to the disk) */
  metadata?: RunMetadata;
  /** Ctrl-C stops the reading of a long trace */
  signal?: AbortSignal;
  /**
   * with `columns`: resample them into bins of this many seconds while the trace streams in (LoadedRun.resampled),
   * so a long trace costs its bins, not its rows (a trace out of time order is read again, a few columns at a
   * time: see resampled-run.ts).
   */
  resampleSeconds?: number;
}

/**
 * A cached run, or the one-line reason it cannot be used. The trace streams from its gzip file through the
 * parser, and only `columns` are kept, so a run costs those columns' memory, never its whole text.
 * `parsed` is reused, so the prediction path reads and parses each trace once, unless its `dd-mm` times
 * were read with another year than the metadata gives (then the trace is parsed again, as it always was).
 */
export async function loadCachedRun(ws: Workspace, run: string, options: LoadOptions = {}): Promise<LoadedRun | string> {
  const { columns, keepRows, parsed, signal } = options;
  let metadata = options.metadata;
  try {
    metadata ??= await readRunMetadata(ws, run);
  } catch (err) {
    if (err instanceof StoreError) throw err;
    return `unreadable cache file: ${(err as Error).message}`;
  }
  if (metadata === undefined) return "no metadata in the cache (.metadata)";
  const runAt = typeof metadata.run_at === "string" ? Number(metadata.run_at.slice(0, 4)) : Number.NaN;
  const year = Number.isInteger(runAt) ? runAt : undefined;
  if (parsed && (parsed.assumedYear === undefined || parsed.assumedYear === (year ?? new Date().getUTCFullYear())))
    return { table: parsed, metadata };
  try {
    if (columns && options.resampleSeconds !== undefined) {
      const read = await readResampled(ws, run, { year, columns, seconds: options.resampleSeconds, signal });
      return typeof read === "string" ? read : { ...read, metadata };
    }
    const text = await readTraceText(ws, run);
    if (text === undefined) return NOT_CACHED;
    return { table: await readDstat(text.chunks, { year, columns, keepRows, expectedBytes: text.size, signal }), metadata };
  } catch (err) {
    if (signal?.aborted) throw new AbortedError();
    if (err instanceof StoreError) throw err;
    if (err instanceof DstatParseError) return err.message;
    if (err instanceof GzipError) return `unreadable cache file: ${err.message}`;
    if (err instanceof Error && "code" in err) return `unreadable cache file: ${err.message}`;
    throw err;
  }
}

/**
 * Loads `runs` in order, keeping up to the store's `readsInFlight` of the next ones loading while the
 * caller works on the current one: on S3 each load is a round trip, so they overlap.
 */
export async function* loadCachedRuns(
  ws: Workspace,
  runs: string[],
  options: Omit<LoadOptions, "parsed" | "metadata"> = {},
): AsyncGenerator<[string, LoadedRun | string]> {
  const ahead = Math.max(1, ws.store.readsInFlight);
  const loading: Promise<LoadedRun | string>[] = [];
  const start = (i: number) => {
    const p = loadCachedRun(ws, runs[i]!, options);
    // Awaited below unless the caller stops early; then its failure is not an unhandled rejection.
    p.catch(() => undefined);
    loading.push(p);
  };
  for (let i = 0; i < Math.min(ahead, runs.length); i++) start(i);
  for (let i = 0; i < runs.length; i++) {
    const next = loading.shift()!;
    if (i + ahead < runs.length) start(i + ahead);
    yield [runs[i]!, await next];
  }
}
