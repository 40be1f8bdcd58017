// One run into the cache: its dstat trace fetched from the log server and its metadata from the database,
// both written atomically. cache-data walks a whole build name through this; the prediction commands
// send each run they are asked about through it, so the cache grows as CI runs.
import { rmSync } from "node:fs";
import { parseDstatCsv, type DstatTable } from "../../io/dstat-csv.ts";
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
  fetch?: Partial<Omit<FetchPolicy, "paths" | "totalTimeoutMs">>;
}

/** `table` is the trace as the cache check parsed it, for a caller that goes on to use it. */
export type RunOutcome =
  | { kind: "cached"; url: string; bytes: number; table: DstatTable }
  | { kind: "already"; table: DstatTable }
  | { kind: "unavailable"; urls: string[] }
  | { kind: "failed"; url: string; reason: string };

interface EnsureOptions {
  policy: FetchPolicy;
  /** told each URL as it is tried, for progress views */
  onUrl?: (url: string) => void;
}

/** The policy for a CLI run: the defaults, the user's dstat paths and overall timeout, and any finer knobs. */
export function fetchPolicyFor(options: FetchSettings): FetchPolicy {
  return {
    ...DEFAULT_FETCH_POLICY,
    ...options.fetch,
    paths: options.dstatPaths && options.dstatPaths.length > 0 ? options.dstatPaths : DEFAULT_DSTAT_PATHS,
    totalTimeoutMs: options.timeoutSeconds * 1000,
  };
}

/** A dstat text is usable when it parses with rows; the reason when it does not. The last good parse is kept in `parsed`. */
function dstatCheck(year: number | undefined) {
  const check = {
    parsed: undefined as DstatTable | undefined,
    problem(text: string): string | null {
      try {
        check.parsed = parseDstatCsv(text, year === undefined ? {} : { year });
        return null;
      } catch (err) {
        return `not a usable dstat CSV: ${(err as Error).message}`;
      }
    },
  };
  return check;
}

function runYear(run: RunRow): number | undefined {
  const year = Number(run.run_at?.slice(0, 4));
  return Number.isInteger(year) && year > 1970 ? year : undefined;
}

/** The original's metadata: status first, then the log root, then every run_metadata key (ours win over a key that clashes). */
async function metadataFor(db: Subunit2sql, run: RunRow): Promise<RunMetadata> {
  const metadata: RunMetadata = { status: runStatus(run), artifact: run.artifacts };
  for (const [k, v] of Object.entries(await db.runMetadata(run.uuid))) if (!(k in metadata)) metadata[k] = v;
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
  const check = dstatCheck(runYear(run));
  if (hasTrace(ws, run.uuid)) {
    let problem: string | null;
    try {
      problem = check.problem(readTraceText(ws, run.uuid) ?? "");
    } catch (err) {
      problem = `corrupt cache file (${(err as Error).message})`;
    }
    if (problem === null && check.parsed) {
      if (!readRunMetadata(ws, run.uuid)) writeRunMetadata(ws, run.uuid, await metadataFor(db, run));
      return { kind: "already", table: check.parsed };
    }
    // The original fell through to a fresh download when its cached copy did not parse; so do we.
    rmSync(ws.rawTrace(run.uuid), { force: true });
  }
  if (!run.artifacts) return { kind: "unavailable", urls: [] };
  let fetched: Awaited<ReturnType<typeof fetchDstat>>;
  try {
    fetched = await fetchDstat(run.artifacts, options.policy, check.problem, signal, options.onUrl);
  } catch (err) {
    if (isInterrupted(err)) throw new AbortedError();
    throw err;
  }
  if (fetched.kind === "missing") return { kind: "unavailable", urls: fetched.urls };
  if (fetched.kind === "failed") return fetched;
  if (!check.parsed) throw new Error(`${fetched.url}: accepted without passing the dstat check`);
  const metadata = await metadataFor(db, run);
  throwIfAborted(signal);
  writeRunMetadata(ws, run.uuid, metadata);
  writeTraceGz(ws, run.uuid, isGzip(fetched.body) ? fetched.body : gzip(fetched.body));
  return { kind: "cached", url: fetched.url, bytes: fetched.body.length, table: check.parsed };
}
