// One run into the cache: its dstat trace fetched from the log server and its metadata from the run source,
// both written atomically. cache-data walks a whole build name through this; the prediction commands
// send each run they are asked about through it, so the cache grows as CI runs.
import { DstatParseError, readDstat, type DstatTable } from "../../io/dstat-csv.ts";
import { gzipInBackground, isGzip } from "../../io/gzip-json.ts";
import { DEFAULT_FETCH_POLICY, fetchDstat, fetchDstatAt, isInterrupted, type FetchPolicy } from "../../io/log-server.ts";
import { hasTrace, readRunMetadata, readTraceText, writeRunMetadata, writeTraceGz, type RunMetadata } from "../../io/raw-cache.ts";
import { LogFetchError, type SourceRun } from "../../io/sources/run-source.ts";
import type { Workspace } from "../../io/workspace.ts";
import { StoreError } from "../../io/workspace/store.ts";
import { AbortedError, throwIfAborted } from "../errors.ts";

/** How dstat files are fetched, as the user's flags say it. */
export interface FetchSettings {
  /** replaces the source's default dstat paths when given */
  dstatPaths?: string[];
  /** overall seconds per file download */
  timeoutSeconds: number;
  /** finer knobs (read timeout, retries, backoff, size caps); tests shorten them */
  fetch?: Partial<Omit<FetchPolicy, "paths" | "totalTimeoutMs" | "fileRoots">>;
}

/**
 * `table` is the trace as the cache check parsed it, and `metadata` what was cached with a fresh download,
 * for a caller that goes on to use them (without reading back files that may still be being written).
 */
export type RunOutcome =
  | { kind: "cached"; url: string; bytes: number; table: DstatTable; metadata: RunMetadata }
  | { kind: "already"; table: DstatTable }
  | { kind: "unavailable"; urls: string[] }
  | { kind: "failed"; url: string; reason: string };

interface EnsureOptions {
  policy: FetchPolicy;
  /**
   * the columns the caller goes on to use from `table` (the dataset's); the others are checked and dropped,
   * so a trace costs the memory of those columns only. All when absent; none for cache-data, which only checks.
   */
  columns?: readonly string[];
  /** the rows the caller's example can use (DstatReadOptions.keepRows); all when absent */
  keepRows?: number;
  /** told each URL as it is tried, for progress views */
  onUrl?: (url: string) => void;
  /**
   * Hands over the writes of a fresh download (trace and metadata) instead of waiting for them, for a
   * caller that can use the parsed trace meanwhile (a prediction) and waits for them later.
   */
  writeBehind?: (saving: Promise<void>) => void;
}

/**
 * The policy for a CLI run: the defaults, the user's dstat paths (else the source's) and overall timeout,
 * and any finer knobs. `fileRoots`: whether file:// log roots may be read (see FetchPolicy.fileRoots).
 */
export function fetchPolicyFor(options: FetchSettings, sourcePaths: readonly string[], fileRoots: boolean): FetchPolicy {
  return {
    ...DEFAULT_FETCH_POLICY,
    ...options.fetch,
    paths: options.dstatPaths && options.dstatPaths.length > 0 ? options.dstatPaths : sourcePaths,
    totalTimeoutMs: options.timeoutSeconds * 1000,
    fileRoots,
  };
}

/**
 * A dstat text is usable when it parses with rows; the reason when it does not. The text is read as it
 * arrives (from the download or the cache file) and never held. The last good parse is kept in `parsed`.
 */
function dstatCheck(year: number | undefined, columns: readonly string[] | undefined, keepRows: number | undefined, signal: AbortSignal) {
  const check = {
    parsed: undefined as DstatTable | undefined,
    /** `expectedBytes`: the text's length when known (a cached gzip says it), to size the columns once */
    async read(text: AsyncIterable<Uint8Array>, expectedBytes?: number): Promise<string | null> {
      try {
        check.parsed = await readDstat(text, { year, columns, keepRows, expectedBytes, signal });
        return null;
      } catch (err) {
        if (err instanceof DstatParseError) return `not a usable dstat CSV: ${err.message}`;
        throw err;
      }
    },
    /** as a download's body check */
    problem: (text: AsyncIterable<Uint8Array>) => check.read(text),
  };
  return check;
}

function runYear(run: SourceRun): number | undefined {
  const year = Number(run.runAt?.slice(0, 4));
  return Number.isInteger(year) && year > 1970 ? year : undefined;
}

/**
 * The original's metadata: status first, then the log root, then the start time (for the chronological
 * split), then every metadata key of the source (ours win over a key that clashes).
 */
async function metadataFor(run: SourceRun, policy: FetchPolicy, signal: AbortSignal): Promise<RunMetadata> {
  const metadata: RunMetadata = Object.assign(Object.create(null), { status: run.status, artifact: run.logRoot ?? run.dstatUrl ?? null });
  if (run.runAt) metadata.run_at = run.runAt;
  // Own keys only: `in` would also see Object.prototype's "constructor" or "toString" and drop those keys.
  for (const [k, v] of Object.entries(await run.metadata(policy, signal))) if (!Object.hasOwn(metadata, k)) metadata[k] = v;
  return metadata;
}

/**
 * Makes sure one run's dstat trace and metadata are in the cache, fetching them if needed.
 * Shared by cache-data and the prediction path. Never marks anything unavailable itself: it says so.
 */
export async function ensureRunCached(ws: Workspace, run: SourceRun, options: EnsureOptions, signal: AbortSignal): Promise<RunOutcome> {
  throwIfAborted(signal);
  const check = dstatCheck(runYear(run), options.columns, options.keepRows, signal);
  try {
    if (await hasTrace(ws, run.id)) {
      let problem: string | null;
      try {
        const text = await readTraceText(ws, run.id);
        problem = text ? await check.read(text.chunks, text.size) : "no dstat file in the cache (.raw)";
      } catch (err) {
        // Ctrl-C while the file was read says nothing about the file: it stays.
        if (signal.aborted) throw new AbortedError();
        if (err instanceof StoreError) throw err;
        // The gzip of the file does not check out (GzipError), or it cannot be read.
        problem = `corrupt cache file (${(err as Error).message})`;
      }
      if (problem === null && check.parsed) {
        if (!(await readRunMetadata(ws, run.id))) await writeRunMetadata(ws, run.id, await metadataFor(run, options.policy, signal));
        return { kind: "already", table: check.parsed };
      }
      // The original fell through to a fresh download when its cached copy did not parse ; so do we.
      await ws.store.remove(ws.rawTrace(run.id));
    }
    if (!run.logRoot && !run.dstatUrl) return { kind: "unavailable", urls: [] };
    const fetched = run.dstatUrl
      ? await fetchDstatAt([run.dstatUrl], options.policy, check.problem, signal, options.onUrl)
      : await fetchDstat(run.logRoot!, options.policy, check.problem, signal, options.onUrl);
    if (fetched.kind === "missing") return { kind: "unavailable", urls: fetched.urls };
    if (fetched.kind === "failed") return fetched;
    if (!check.parsed) throw new Error(`${fetched.url}: accepted without passing the dstat check`);
    const metadata = await metadataFor(run, options.policy, signal);
    throwIfAborted(signal);
    // A body that came as text (a plain file, or gzip undone by Content-Encoding as logs.openstack.org
    // serves it) is stored gzipped; compressed off the event loop and behind the prediction, as the
    // writes are. The metadata first: a trace in the cache is the sign that the run is cached whole.
    const body = fetched.body;
    const gz = isGzip(body) ? Promise.resolve(body) : gzipInBackground(body);
    const saving = writeRunMetadata(ws, run.id, metadata).then(async () => writeTraceGz(ws, run.id, await gz));
    // Awaited through `saving`; a failed metadata write must not leave this one unhandled.
    gz.catch(() => undefined);
    if (options.writeBehind) options.writeBehind(saving);
    else await saving;
    return { kind: "cached", url: fetched.url, bytes: fetched.body.length, table: check.parsed, metadata };
  } catch (err) {
    if (isInterrupted(err) || signal.aborted) throw new AbortedError();
    // Metadata that needed a fetch (Zuul's inventory) failed for now: the run is tried again next time.
    if (err instanceof LogFetchError) return { kind: "failed", url: err.url, reason: err.message };
    throw err;
  }
}
