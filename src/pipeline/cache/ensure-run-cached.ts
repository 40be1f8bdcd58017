// One run into the cache: its dstat trace fetched from the log server and its metadata from the database,
// both written atomically. cache-data walks a whole build name through this; the prediction commands
// send each run they are asked about through it, so the cache grows as CI runs.
import { rmSync } from "node:fs";
import { parseDbUri } from "../../io/db-uri.ts";
import { parseDstatCsv } from "../../io/dstat-csv.ts";
import { gzip, isGzip } from "../../io/gzip-json.ts";
import { DEFAULT_DSTAT_PATHS, DEFAULT_FETCH_POLICY, fetchDstat, isInterrupted, type FetchPolicy } from "../../io/log-server.ts";
import { hasTrace, readRunMetadata, readTraceText, writeRunMetadata, writeTraceGz, type RunMetadata } from "../../io/raw-cache.ts";
import { runStatus, type RunRow, type Subunit2sql } from "../../io/subunit2sql.ts";
import type { Workspace } from "../../io/workspace.ts";
import { AbortedError, throwIfAborted } from "../errors.ts";

/** How dstat files are fetched, as the user's flags say it. */
export interface FetchSettings {
  /** replaces the four default dstat paths when given */
  dstatPaths?: string[];
  /** overall seconds per file download */
  timeoutSeconds: number;
  /** finer knobs (read timeout, retries, backoff, size caps); tests shorten them */
  fetch?: Partial<Omit<FetchPolicy, "paths" | "totalTimeoutMs" | "fileRoots">>;
}

export type RunOutcome =
  | { kind: "cached"; url: string; bytes: number }
  | { kind: "already" }
  | { kind: "unavailable"; urls: string[] }
  | { kind: "failed"; url: string; reason: string };

interface EnsureOptions {
  policy: FetchPolicy;
  /** told each URL as it is tried, for progress views */
  onUrl?: (url: string) => void;
}

/** The policy for a CLI run: the defaults, the user's dstat paths and overall timeout, and any finer knobs. */
export function fetchPolicyFor(options: FetchSettings & { dbUri: string }): FetchPolicy {
  return {
    ...DEFAULT_FETCH_POLICY,
    ...options.fetch,
    paths: options.dstatPaths && options.dstatPaths.length > 0 ? options.dstatPaths : DEFAULT_DSTAT_PATHS,
    totalTimeoutMs: options.timeoutSeconds * 1000,
    // Local log trees only behind a local database file the user named (see FetchPolicy.fileRoots).
    fileRoots: parseDbUri(options.dbUri).kind === "sqlite",
  };
}

/** A dstat text is usable when it parses with rows; the reason when it does not. */
function dstatProblem(year: number | undefined) {
  return (text: string): string | null => {
    try {
      parseDstatCsv(text, year === undefined ? {} : { year });
      return null;
    } catch (err) {
      return `not a usable dstat CSV: ${(err as Error).message}`;
    }
  };
}

function runYear(run: RunRow): number | undefined {
  const year = Number(run.run_at?.slice(0, 4));
  return Number.isInteger(year) && year > 1970 ? year : undefined;
}

/** The original's metadata: status first, then the log root, then every run_metadata key (ours win over a key that clashes). */
async function metadataFor(db: Subunit2sql, run: RunRow): Promise<RunMetadata> {
  const metadata: RunMetadata = Object.assign(Object.create(null), { status: runStatus(run), artifact: run.artifacts });
  // Own keys only: `in` would also see Object.prototype's "constructor" or "toString" and drop those keys.
  for (const [k, v] of Object.entries(await db.runMetadata(run.uuid))) if (!Object.hasOwn(metadata, k)) metadata[k] = v;
  return metadata;
}

/**
 * Makes sure one run's dstat trace and metadata are in the cache, fetching them if needed.
 * Shared by cache-data and the prediction path. Never marks anything unavailable itself: it says so.
 */
export async function ensureRunCached(
  ws: Workspace,
  run: RunRow,
  db: Subunit2sql,
  options: EnsureOptions,
  signal: AbortSignal,
): Promise<RunOutcome> {
  throwIfAborted(signal);
  const year = runYear(run);
  if (hasTrace(ws, run.uuid)) {
    let problem: string | null;
    try {
      problem = dstatProblem(year)(readTraceText(ws, run.uuid) ?? "");
    } catch (err) {
      problem = `corrupt cache file (${(err as Error).message})`;
    }
    if (problem === null) {
      if (!readRunMetadata(ws, run.uuid)) writeRunMetadata(ws, run.uuid, await metadataFor(db, run));
      return { kind: "already" };
    }
    // The original fell through to a fresh download when its cached copy did not parse; so do we.
    rmSync(ws.rawTrace(run.uuid), { force: true });
  }
  if (!run.artifacts) return { kind: "unavailable", urls: [] };
  let fetched: Awaited<ReturnType<typeof fetchDstat>>;
  try {
    fetched = await fetchDstat(run.artifacts, options.policy, dstatProblem(year), signal, options.onUrl);
  } catch (err) {
    if (isInterrupted(err)) throw new AbortedError();
    throw err;
  }
  if (fetched.kind === "missing") return { kind: "unavailable", urls: fetched.urls };
  if (fetched.kind === "failed") return fetched;
  const metadata = await metadataFor(db, run);
  throwIfAborted(signal);
  writeRunMetadata(ws, run.uuid, metadata);
  writeTraceGz(ws, run.uuid, isGzip(fetched.body) ? fetched.body : gzip(fetched.body));
  return { kind: "cached", url: fetched.url, bytes: fetched.body.length };
}
