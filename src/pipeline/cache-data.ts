// `ciml cache-data`: the caching loop of the original with the fixes of docs/compatibility.md — parallel
// downloads, only real dstat data cached, only "not found anywhere" marked unavailable, --limit meaning
// "stop when N runs of this build name are cached", and checkpoints so that Ctrl-C loses nothing.
//
// A run counts as cached when its `.raw/<uuid>.csv.gz` exists: its metadata is written first, then the
// trace, both atomically, so a run is in the cache whole or not at all. The lists (`<build>.json.gz`,
// `unavailable.json.gz`) are an index over those files, saved at checkpoints and at the end.
import { sweepTemps } from "../io/atomic-file.ts";
import { hasTrace, readRunList, writeRunList } from "../io/raw-cache.ts";
import { openSubunit2sql, ORIGINAL_DB_URI, type RunRow } from "../io/subunit2sql.ts";
import { checkName, resolveDataPath, Workspace, WorkspaceError } from "../io/workspace.ts";
import { ensureRunCached, fetchPolicyFor, type FetchSettings, type RunOutcome } from "./cache/ensure-run-cached.ts";
import { AbortedError, UsageError } from "./errors.ts";
import type { Emit, Step } from "./events.ts";
import { TaskPool } from "./task-pool.ts";
import { wholeNumber } from "./whole-number.ts";

export interface CacheOptions extends FetchSettings {
  dataPath?: string;
  buildName: string;
  dbUri: string;
  /** stop once this many runs of the build name are cached; 0 = no limit */
  limit: number;
  /** downloads in flight at once */
  parallel: number;
  /** how long the database may take to answer a connection */
  dbConnectTimeoutMs?: number;
}

/** What a command-line user gets without the flag; the one place these defaults are written. */
export const CACHE_DATA_DEFAULTS = {
  buildName: "tempest-full",
  dbUri: ORIGINAL_DB_URI,
  limit: 0,
  parallel: 8,
  timeoutSeconds: 60,
} satisfies Partial<CacheOptions>;

export interface CacheResult {
  /** runs of the build name in the database */
  total: number;
  /** newly cached in this run */
  cached: number;
  /** cached before */
  already: number;
  /** newly found to have no dstat file anywhere */
  unavailable: number;
  /** skipped because an earlier run found them unavailable */
  ignored: number;
  /** not cached because of an error worth retrying later */
  failed: number;
  /** bytes of dstat data downloaded */
  bytes: number;
  seconds: number;
  /** size of the build's run list after this run */
  stored: number;
}

const CHECKPOINT_RUNS = 50;
const CHECKPOINT_MS = 5000;
const MAX_FAILURE_WARNINGS = 20;
const MAX_PARALLEL = 64;

function checkCacheOptions(o: CacheOptions): void {
  checkName("build name", o.buildName);
  wholeNumber("--limit", o.limit, 0, undefined, "runs; 0 = no limit");
  wholeNumber("--parallel", o.parallel, 1, MAX_PARALLEL);
  if (!(o.timeoutSeconds > 0)) throw new UsageError(`--timeout ${o.timeoutSeconds}: give the seconds allowed per file, e.g. 60`);
  for (const p of o.dstatPaths ?? []) {
    if (!p || p.startsWith("/") || p.split("/").includes(".."))
      throw new UsageError(`--dstat-path ${p}: give a path relative to the run's log root, e.g. logs/dstat-csv_log.txt.gz`);
  }
}

/** The running tallies and the progress line made from them. */
class Tally {
  readonly started = performance.now();
  done = 0;
  cached = 0;
  already = 0;
  unavailable = 0;
  ignored = 0;
  failed = 0;
  bytes = 0;
  total = 0;
  readonly current = new Map<string, string>();
  constructor(private readonly emit: Emit) {}

  get seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  report(): void {
    const seconds = Math.max(this.seconds, 1e-3);
    const rate = this.done / seconds;
    this.emit({
      type: "progress",
      stage: "cache",
      done: this.done,
      total: this.total,
      unit: "runs",
      rate,
      bytes: this.bytes,
      counts: { cached: this.cached, already: this.already, unavailable: this.unavailable + this.ignored, failed: this.failed },
      current: [...this.current.values()],
      ...(rate > 0 ? { etaSeconds: Math.max(0, this.total - this.done) / rate } : {}),
    });
  }
}

export const cacheData: Step<CacheOptions, CacheResult> = async (options, { emit, signal }) => {
  checkCacheOptions(options);
  const ws = new Workspace(resolveDataPath(options.dataPath));
  ws.ensureDirs();
  sweepTemps(ws.rawDir);
  sweepTemps(ws.metadataDir);
  const policy = fetchPolicyFor(options);
  const listPath = ws.buildRuns(options.buildName);
  const dataRuns = new Set(readRunList(listPath));
  const noDataRuns = new Set(readRunList(ws.unavailableRuns));
  const save = () => {
    writeRunList(listPath, dataRuns);
    writeRunList(ws.unavailableRuns, noDataRuns);
  };

  emit({ type: "stage", stage: "query", state: "started", detail: `runs named ${options.buildName}` });
  const db = await openSubunit2sql(
    options.dbUri,
    options.dbConnectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.dbConnectTimeoutMs },
  );
  const tally = new Tally(emit);
  // A failure other than one run's own problem ends the whole command, once the downloads in flight end.
  const pool = new TaskPool(options.parallel);
  try {
    tally.total = await db.countRunsByKeyValue("build_name", options.buildName);
    emit({ type: "info", message: `Obtained ${tally.total} runs named ${options.buildName} from the DB` });
    emit({ type: "stage", stage: "query", state: "finished" });
    emit({ type: "stage", stage: "cache", state: "started", detail: `${options.parallel} downloads at a time into ${ws.rawDir}` });

    let sinceCheckpoint = 0;
    let lastCheckpoint = performance.now();
    const limitReached = () => options.limit > 0 && dataRuns.size >= options.limit;
    const checkpoint = () => {
      if (sinceCheckpoint < CHECKPOINT_RUNS && performance.now() - lastCheckpoint < CHECKPOINT_MS) return;
      save();
      emit({ type: "info", message: `Check-point ${tally.done}/${tally.total}, saved ${dataRuns.size}, skipped ${noDataRuns.size}` });
      sinceCheckpoint = 0;
      lastCheckpoint = performance.now();
    };
    const finish = (run: RunRow, outcome: RunOutcome) => {
      tally.done++;
      sinceCheckpoint++;
      tally.current.delete(run.uuid);
      switch (outcome.kind) {
        case "cached":
          tally.cached++;
          tally.bytes += outcome.bytes;
          dataRuns.add(run.uuid);
          break;
        case "already":
          tally.already++;
          dataRuns.add(run.uuid);
          break;
        case "unavailable":
          tally.unavailable++;
          noDataRuns.add(run.uuid);
          break;
        case "failed":
          tally.failed++;
          if (tally.failed <= MAX_FAILURE_WARNINGS)
            emit({
              type: "warning",
              subject: run.uuid,
              message: `${run.uuid}: ${outcome.reason} (${outcome.url}); not cached, the next cache-data will try again`,
            });
          if (tally.failed === MAX_FAILURE_WARNINGS + 1)
            emit({ type: "warning", message: "more runs failed to download; the summary counts them" });
          break;
      }
      checkpoint();
      tally.report();
    };
    const start = (run: RunRow) =>
      pool.start(async () => {
        try {
          finish(run, await ensureRunCached(ws, run, db, { policy, onUrl: (url) => tally.current.set(run.uuid, url) }, signal));
        } catch (err) {
          // A run id that cannot name a file is that run's problem, not a reason to stop the others.
          if (!(err instanceof WorkspaceError)) throw err;
          finish(run, { kind: "failed", url: run.artifacts ?? "", reason: err.message });
        }
      });

    if (limitReached())
      emit({ type: "info", message: `${dataRuns.size} runs of ${options.buildName} are cached already (--limit ${options.limit})` });
    else {
      for await (const run of db.runsByKeyValue("build_name", options.buildName)) {
        if (signal.aborted || pool.failed) break;
        if (noDataRuns.has(run.uuid)) {
          tally.ignored++;
          tally.done++;
          tally.report();
          continue;
        }
        if (dataRuns.has(run.uuid) && hasTrace(ws, run.uuid)) {
          tally.already++;
          tally.done++;
          tally.report();
          continue;
        }
        // Never start more downloads than --limit can still use; a failure frees a slot for the next run.
        await pool.room((running) => options.limit > 0 && dataRuns.size + running >= options.limit);
        if (limitReached() || signal.aborted || pool.failed) break;
        start(run);
        tally.report();
      }
    }
    await pool.drain();
  } finally {
    // Whatever happened, the lists describe exactly the files that are complete on disk.
    save();
    await db.close().catch(() => undefined);
  }
  if (signal.aborted) throw new AbortedError();
  emit({ type: "stage", stage: "cache", state: "finished" });
  const result: CacheResult = {
    total: tally.total,
    cached: tally.cached,
    already: tally.already,
    unavailable: tally.unavailable,
    ignored: tally.ignored,
    failed: tally.failed,
    bytes: tally.bytes,
    seconds: Number(tally.seconds.toFixed(2)),
    stored: dataRuns.size,
  };
  emit({
    type: "result",
    stage: "cache-data",
    summary: { ...result },
    lines: [
      `Stored ${dataRuns.size} run IDs in .raw for build name ${options.buildName}`,
      ...(tally.failed > 0 ? [`${tally.failed} runs could not be fetched this time; run cache-data again to retry them`] : []),
    ],
  });
  return result;
};
