// `ciml cache-data`: the caching loop of the original with the fixes of docs/compatibility.md — parallel
// downloads, only real dstat data cached, only "not found anywhere" marked unavailable, --limit meaning
// "stop when N runs of this build name are cached", and checkpoints so that Ctrl-C loses nothing.
//
// A run counts as cached when its `.raw/<uuid>.csv.gz` exists and gunzips whole: its metadata is written
// first, then the trace, both atomically, so a run is in the cache whole or not at all; a trace damaged
// since (a copy cut short, a bad disk) is noticed and fetched again. The lists (`<build>.json.gz`, this
// build's unavailable runs) are an index over those files, saved at checkpoints and at the end.
import { ORIGINAL_DB_URI } from "../io/subunit2sql.ts";
import { readJsonGz, writeJsonGz } from "../io/gzip-json.ts";
import { readBuildRuns } from "../io/found-runs.ts";
import { hasTrace, isWholeTrace, writeRunList } from "../io/raw-cache.ts";
import { checkSourceFlags, openRunSource, sourceKey, sourceReadsLocalLogs, type SourceOptions } from "../io/sources/open-run-source.ts";
import type { SourceRun } from "../io/sources/run-source.ts";
import { readOwnUnavailableRuns, readUnavailableRuns, writeOwnUnavailableRuns } from "../io/unavailable-runs.ts";
import { checkName, openWorkspace, type Workspace, WorkspaceError } from "../io/workspace.ts";
import type { S3Access } from "../io/workspace/s3-settings.ts";
import { ensureRunCached, fetchPolicyFor, type FetchSettings, type RunOutcome } from "./cache/ensure-run-cached.ts";
import { AbortedError, CimlError, UsageError } from "./errors.ts";
import type { Emit, Step } from "./events.ts";
import { Slots, TaskPool } from "./task-pool.ts";
import { wholeNumber } from "./whole-number.ts";

export interface CacheOptions extends SourceOptions, FetchSettings {
  dataPath?: string;
  /** how to reach an s3:// data path */
  s3?: S3Access;
  buildName: string;
  /** stop once this many runs of the build name are cached; 0 = no limit */
  limit: number;
  /** downloads in flight at once */
  parallel: number;
}

/** What a command-line user gets without the flag; the one place these defaults are written. */
export const CACHE_DATA_DEFAULTS = {
  buildName: "tempest-full",
  defaultDbUri: ORIGINAL_DB_URI,
  limit: 0,
  parallel: 8,
  timeoutSeconds: 60,
} satisfies Partial<CacheOptions>;

export interface CacheResult {
  /** runs of the build name the source listed (this pass, for a source that stops at what it saw before) */
  total: number;
  /** listed but not test outcomes or without logs, by reason (Zuul results such as POST_FAILURE, "no log_url") */
  excluded: Record<string, number>;
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
  /** cached before but truncated or damaged, so fetched again (counted in cached, unavailable or failed too) */
  damaged: number;
  /** database rows left out: no uuid, or a uuid an earlier row already had */
  skippedRows: number;
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

/** Marks of earlier complete passes, per source key (see RunListing.mark). */
async function readMarks(ws: Workspace, path: string): Promise<Record<string, string>> {
  const value = await readJsonGz(ws.store, path);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string"));
}

function checkCacheOptions(o: CacheOptions): void {
  checkSourceFlags(o);
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
  damaged = 0;
  skippedRows = 0;
  bytes = 0;
  total: number | null = 0;
  readonly excluded: Record<string, number> = {};
  readonly current = new Map<string, string>();
  constructor(private readonly emit: Emit) {}

  get excludedCount(): number {
    return Object.values(this.excluded).reduce((a, b) => a + b, 0);
  }

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
      counts: {
        cached: this.cached,
        already: this.already,
        unavailable: this.unavailable + this.ignored,
        failed: this.failed,
        ...(this.excludedCount > 0 ? { excluded: this.excludedCount } : {}),
      },
      current: [...this.current.values()],
      ...(rate > 0 && this.total !== null ? { etaSeconds: Math.max(0, this.total - this.done) / rate } : {}),
    });
  }
}

export const cacheData: Step<CacheOptions, CacheResult> = async (options, { emit, signal }) => {
  checkCacheOptions(options);
  const ws = await openWorkspace(options.dataPath, options.s3, signal);
  for (const folder of [ws.rawDir, ws.metadataDir, ws.unavailableDir]) await ws.store.sweep(folder);
  const listPath = ws.buildRuns(options.buildName);
  // With the runs the predictors cached: this build's list is cache-data's alone to write (found-runs.ts).
  const dataRuns = new Set(await readBuildRuns(ws, options.buildName));
  // Skipped: what any cache-data found unavailable. Written: only what this build name's runs found.
  const noDataRuns = await readUnavailableRuns(ws);
  const ownNoDataRuns = await readOwnUnavailableRuns(ws, options.buildName);
  // Saves run one after another, each writing the lists as they are when it starts, so a slow write can
  // never land after a newer one and put an older list back.
  let saving: Promise<void> = Promise.resolve();
  const save = () => {
    saving = saving
      .catch(() => undefined)
      .then(async () => {
        await writeRunList(ws.store, listPath, dataRuns);
        await writeOwnUnavailableRuns(
          ws,
          options.buildName,
          [...ownNoDataRuns].filter((run) => !dataRuns.has(run)),
        );
      });
    return saving;
  };

  emit({ type: "stage", stage: "query", state: "started", detail: `runs named ${options.buildName}` });
  const source = await openRunSource(options);
  const policy = fetchPolicyFor(options, source.dstatPaths, sourceReadsLocalLogs(options));
  const key = sourceKey(options);
  const marksPath = ws.sourceMarks(options.buildName);
  const marks = key === undefined ? {} : await readMarks(ws, marksPath);
  const since = key === undefined ? undefined : marks[key];
  const tally = new Tally(emit);
  // A failure other than one run's own problem ends the whole command, once the runs in flight end. A run
  // holds one of --parallel download slots while it downloads and checks its trace, then frees it for the
  // next run while its two files are written: a write waits on the disk (two fsyncs, milliseconds each on
  // a busy disk), and a download slot held through it is a download not made. The pool counts the run
  // until its files are on the disk (the lists and --limit count only those), so at most --parallel runs
  // wait for their writes, with their bodies in memory, beside the --parallel downloads.
  const pool = new TaskPool(2 * options.parallel);
  const downloads = new Slots(options.parallel);
  let listedAll = false;
  let newMark: string | undefined;
  try {
    tally.total = await source.count(options.buildName, signal);
    if (tally.total !== null)
      emit({ type: "info", message: `Obtained ${tally.total} runs named ${options.buildName} from the ${source.description}` });
    else
      emit({
        type: "info",
        message: `Listing runs named ${options.buildName} from ${source.description}, newest first${since ? `, down to ${since} (seen by the last complete pass)` : ""}`,
      });
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
    const finish = (run: SourceRun, outcome: RunOutcome) => {
      tally.done++;
      sinceCheckpoint++;
      tally.current.delete(run.id);
      switch (outcome.kind) {
        case "cached":
          tally.cached++;
          tally.bytes += outcome.bytes;
          dataRuns.add(run.id);
          break;
        case "already":
          tally.already++;
          dataRuns.add(run.id);
          break;
        case "unavailable":
          tally.unavailable++;
          noDataRuns.add(run.id);
          ownNoDataRuns.add(run.id);
          break;
        case "failed":
          tally.failed++;
          if (tally.failed <= MAX_FAILURE_WARNINGS)
            emit({
              type: "warning",
              subject: run.id,
              message: `${run.id}: ${outcome.reason} (${outcome.url}); not cached, the next cache-data will try again`,
            });
          if (tally.failed === MAX_FAILURE_WARNINGS + 1)
            emit({ type: "warning", message: "more runs failed to download; the summary counts them" });
          break;
      }
      checkpoint();
      tally.report();
    };
    const start = (run: SourceRun) =>
      pool.start(async () => {
        let outcome: RunOutcome;
        let saving: Promise<void> | undefined;
        const writeBehind = (writes: Promise<void>) => {
          saving = writes;
          // Awaited below; until then its failure must not count as unhandled.
          writes.catch(() => undefined);
        };
        await downloads.take();
        try {
          // columns: none: cache-data only checks each trace, so none of its values is kept.
          outcome = await ensureRunCached(
            ws,
            run,
            { policy, columns: [], keepRows: 1, onUrl: (url) => tally.current.set(run.id, url), writeBehind },
            signal,
          );
        } catch (err) {
          // A run id that cannot name a file is that run's problem, not a reason to stop the others.
          if (!(err instanceof WorkspaceError)) throw err;
          outcome = { kind: "failed", url: run.logRoot ?? "", reason: err.message };
        } finally {
          downloads.release();
          tally.current.delete(run.id);
        }
        // A write that fails (a full disk) ends the command as it did when the download waited for it.
        if (saving) await saving;
        finish(run, outcome);
      });

    let skipped = { noUuid: 0, duplicate: 0 };
    if (limitReached())
      emit({ type: "info", message: `${dataRuns.size} runs of ${options.buildName} are cached already (--limit ${options.limit})` });
    else {
      const listing = source.list(options.buildName, { since, signal });
      let stopped = false;
      for await (const item of listing.items) {
        if (signal.aborted || pool.failed) {
          stopped = true;
          break;
        }
        if (item.kind === "excluded") {
          tally.excluded[item.tally] = (tally.excluded[item.tally] ?? 0) + 1;
          tally.done++;
          tally.report();
          continue;
        }
        const run = item.run;
        if (noDataRuns.has(run.id)) {
          tally.ignored++;
          tally.done++;
          tally.report();
          continue;
        }
        if (dataRuns.has(run.id) && (await hasTrace(ws, run.id))) {
          if (await isWholeTrace(ws, run.id, policy.maxTextBytes)) {
            tally.already++;
            tally.done++;
            tally.report();
            continue;
          }
          // ensureRunCached finds the same damage, removes the file and downloads the run again.
          tally.damaged++;
          dataRuns.delete(run.id);
        }
        // Never start more downloads than --limit can still use; a failure frees a slot for the next run.
        await pool.room((running) => options.limit > 0 && dataRuns.size + running >= options.limit);
        if (limitReached() || signal.aborted || pool.failed) {
          stopped = true;
          break;
        }
        // No progress event here: a start changes no count, and the run's URL shows at the next one (finish's).
        start(run);
      }
      listedAll = !stopped && !signal.aborted && !pool.failed;
      newMark = listing.mark();
      skipped = listing.skipped?.() ?? skipped;
    }
    await pool.drain();
    const { noUuid, duplicate } = skipped;
    tally.skippedRows = noUuid + duplicate;
    if (tally.skippedRows > 0)
      emit({
        type: "warning",
        message: `the database has ${noUuid} runs of ${options.buildName} without a uuid and ${duplicate} repeating an earlier run's uuid; skipped them`,
      });
  } finally {
    // Whatever happened, the lists describe exactly the files that are complete on disk.
    await save();
    await source.close().catch(() => undefined);
  }
  // Only a pass that saw every build and left none to retry may let the next one stop where it began.
  if (key !== undefined && listedAll && tally.failed === 0 && newMark !== undefined && newMark !== since)
    await writeJsonGz(ws.store, marksPath, { ...marks, [key]: newMark });
  if (signal.aborted) throw new AbortedError();
  if (tally.done === 0 && since === undefined && dataRuns.size === 0 && source.emptyMessage)
    throw new CimlError(source.emptyMessage(options.buildName));
  emit({ type: "stage", stage: "cache", state: "finished" });
  const result: CacheResult = {
    total: tally.total ?? tally.done,
    excluded: { ...tally.excluded },
    cached: tally.cached,
    already: tally.already,
    unavailable: tally.unavailable,
    ignored: tally.ignored,
    failed: tally.failed,
    damaged: tally.damaged,
    skippedRows: tally.skippedRows,
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
      ...(tally.excludedCount > 0
        ? [
            `Skipped ${tally.excludedCount} listed runs that are not test outcomes or have no logs: ${Object.entries(tally.excluded)
              .sort()
              .map(([k, n]) => `${k} ${n}`)
              .join(", ")}`,
          ]
        : []),
      ...(tally.damaged > 0 ? [`${tally.damaged} cached traces were truncated or damaged and were fetched again`] : []),
      ...(tally.failed > 0 ? [`${tally.failed} runs could not be fetched this time; run cache-data again to retry them`] : []),
    ],
  });
  return result;
};
