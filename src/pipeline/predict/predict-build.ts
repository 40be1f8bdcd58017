// Getting runs to the one prediction path (predict-run.ts): the runs of a Zuul build from the run source
// (the database as the original chose them, Zuul's API, a runs file), each fetched into the cache if it is not there yet (so the
// cache grows as CI runs), and the workspace, source and model opened once for a whole command.
import { ORIGINAL_DB_URI } from "../../io/subunit2sql.ts";
import type { FetchPolicy } from "../../io/log-server.ts";
import { FoundRuns } from "../../io/found-runs.ts";
import { readModelJsonBytes } from "../../io/tfjs-model-files.ts";
import { checkSourceFlags, openRunSource, sourceReadsLocalLogs, type SourceOptions } from "../../io/sources/open-run-source.ts";
import type { RunSource, SourceRun } from "../../io/sources/run-source.ts";
import { subunit2sqlSource } from "../../io/sources/subunit2sql-source.ts";
import { openSubunit2sql, type Subunit2sql } from "../../io/subunit2sql.ts";
import { readUnavailableRuns } from "../../io/unavailable-runs.ts";
import { checkName, openWorkspace, type Workspace } from "../../io/workspace.ts";
import type { S3Access } from "../../io/workspace/s3-settings.ts";
import { ensureRunCached, fetchPolicyFor, type FetchSettings } from "../cache/ensure-run-cached.ts";
import { rowsUsed } from "../dataset/example-vector.ts";
import { CimlError, UsageError } from "../errors.ts";
import type { Emit } from "../events.ts";
import {
  exampleOfCachedRun,
  loadPredictionModel,
  predictExamples,
  type PredictionModel,
  type RunExample,
  type RunPrediction,
} from "./predict-run.ts";

export interface Predictor extends PredictionModel {
  ws: Workspace;
  /** the runs this process cached, indexed for build-dataset */
  found: FoundRuns;
  source: RunSource;
  policy: FetchPolicy;
  /** runs cache-data found without a dstat file anywhere: not asked for again (the original's "ignored by configuration") */
  unavailable: ReadonlySet<string>;
  /**
   * Swaps in a newer model when one was published (model.json changed), looking at most once per
   * `modelCheckSeconds` or at once after a reload request; a newer model that fails to load is warned
   * about and the current one kept.
   */
  refreshModel(): Promise<void>;
}

/** What every prediction command takes beside its own flags. */
export interface PredictorOptions extends SourceOptions, Pick<FetchSettings, "dstatPaths" | "fetch"> {
  dataPath?: string;
  /** how to reach an s3:// data path */
  s3?: S3Access;
  dataset: string;
  experiment: string;
  /** the original's --sample-interval: the dataset's own interval is what the model needs, so only checked */
  sampleInterval?: string;
  /** overall seconds per dstat download (--timeout as given) */
  timeoutSeconds?: string | number;
  /**
   * Connect to the database on first use rather than at once: mqtt-trainer fed only by Zuul's reporter
   * never needs one, and a firehose event that finds it down is retried like a log server that is down.
   */
  lazyDatabase?: boolean;
  /** how often a long-running command looks for a newer model (default 60 s) */
  modelCheckSeconds?: number;
  /** subscribes to reload requests (mqtt-trainer: SIGHUP), so a newer model is looked for at once; returns the unsubscribe */
  onReloadRequest?: (listener: () => void) => () => void;
}

/** A run whose dstat file could not be fetched this time (log server down): worth trying again later. */
export class FetchFailedError extends CimlError {
  override name = "FetchFailedError";
}

/** What a command-line user gets without the flag, for every prediction command. */
export const PREDICTOR_DEFAULTS = {
  defaultDbUri: ORIGINAL_DB_URI,
  dataset: "dataset",
  experiment: "experiment",
  timeoutSeconds: 60,
} satisfies Partial<PredictorOptions>;

/**
 * Opens the workspace, the model and the database once, runs `body`, and lets go of the database however it
 * ends. The dataset and model are checked before the database is touched: they are the likelier mistake.
 * `signal` ends a bucket's requests on Ctrl-C; mqtt-trainer gives none, as it still writes while it drains.
 */
export async function withPredictor<R>(
  options: PredictorOptions,
  { emit, signal }: { emit: Emit; signal?: AbortSignal },
  body: (p: Predictor) => Promise<R>,
): Promise<R> {
  checkSourceFlags(options);
  checkName("dataset", options.dataset);
  checkName("experiment", options.experiment);
  const timeout = Number(options.timeoutSeconds ?? PREDICTOR_DEFAULTS.timeoutSeconds);
  if (!(timeout > 0) || !Number.isFinite(timeout))
    throw new UsageError(`--timeout ${options.timeoutSeconds}: give the seconds allowed per dstat download, e.g. 60`);
  const ws = await openWorkspace(options.dataPath, options.s3, signal);
  emit({ type: "stage", stage: "model", state: "started", detail: `${options.dataset}/${options.experiment}` });
  const model = await loadPredictionModel(ws, options.dataset, options.experiment);
  emit({ type: "stage", stage: "model", state: "finished", detail: `classes ${model.model.classes.join(", ")}` });
  if (options.sampleInterval !== undefined && options.sampleInterval !== model.config.sample_interval) {
    emit({
      type: "warning",
      message: `--sample-interval ${options.sampleInterval} ignored: dataset ${options.dataset} was built with ${model.config.sample_interval ?? "no resampling"}, and its model needs the same`,
    });
  }
  const source = await openSource(options);
  try {
    const policy = fetchPolicyFor(
      { dstatPaths: options.dstatPaths, fetch: options.fetch, timeoutSeconds: timeout },
      source.dstatPaths,
      sourceReadsLocalLogs(options),
    );
    const predictor: Predictor = {
      ...model,
      ws,
      found: new FoundRuns(ws),
      source,
      policy,
      unavailable: await readUnavailableRuns(ws),
      refreshModel: async () => undefined,
    };
    const refresher = modelRefresher(predictor, (options.modelCheckSeconds ?? MODEL_CHECK_SECONDS) * 1000, emit);
    predictor.refreshModel = refresher.refresh;
    const unsubscribe = options.onReloadRequest?.(refresher.request);
    try {
      return await body(predictor);
    } finally {
      unsubscribe?.();
    }
  } finally {
    await source.close();
  }
}

const MODEL_CHECK_SECONDS = 60;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** What refreshModel does: model.json compared with the loaded one's, and a newer model loaded in its place. */
function modelRefresher(p: Predictor, everyMs: number, emit: Emit) {
  let lastCheck = Date.now();
  let requested = false;
  let running: Promise<void> | undefined;
  const check = async () => {
    lastCheck = Date.now();
    requested = false;
    const dir = p.ws.modelDir(p.dataset, p.experiment);
    const manifest = await readModelJsonBytes(p.ws.store, dir);
    if (manifest === undefined || sameBytes(manifest, p.model.manifest)) return;
    let next: PredictionModel;
    try {
      next = await loadPredictionModel(p.ws, p.dataset, p.experiment, manifest);
    } catch (err) {
      emit({ type: "warning", message: `a newer model in ${dir} cannot be loaded, so the current one stays: ${(err as Error).message}` });
      return;
    }
    // Predictions already running keep the old model (plain arrays, freed once nothing holds them).
    p.model = next.model;
    p.config = next.config;
    emit({ type: "info", message: `loaded the newer model published in ${dir}` });
  };
  return {
    request: () => {
      requested = true;
    },
    refresh: () => {
      if (!requested && Date.now() - lastCheck < everyMs) return Promise.resolve();
      running ??= check().finally(() => {
        running = undefined;
      });
      return running;
    },
  };
}

/** The run source; with `lazyDatabase`, a database source that connects on its first query. */
function openSource(options: PredictorOptions): Promise<RunSource> {
  const uri = options.dbUri ?? options.defaultDbUri;
  if (!options.lazyDatabase || options.zuulUrl || options.runsFile || !uri) return openRunSource(options);
  const timeout = options.dbConnectTimeoutMs;
  return Promise.resolve(
    subunit2sqlSource(
      lazySubunit2sql(() => openSubunit2sql(uri, timeout === undefined ? {} : { connectTimeoutMs: timeout })),
      "DB",
    ),
  );
}

/** A database opened by its first query; an open that failed is tried again by the next one. */
function lazySubunit2sql(open: () => Promise<Subunit2sql>): Subunit2sql {
  let opening: Promise<Subunit2sql> | null = null;
  const db = () => {
    opening ??= open().catch((err: unknown) => {
      opening = null;
      throw err;
    });
    return opening;
  };
  return {
    countRunsByKeyValue: async (key, value) => (await db()).countRunsByKeyValue(key, value),
    runsByKeyValue(key, value) {
      // The stream is opened on first read; its counts are the opened stream's.
      let opened: ReturnType<Subunit2sql["runsByKeyValue"]> | undefined;
      async function* rows() {
        opened = (await db()).runsByKeyValue(key, value);
        yield* opened;
      }
      return Object.assign(rows(), {
        get skipped() {
          return opened?.skipped ?? { noUuid: 0, duplicate: 0 };
        },
      });
    },
    runMetadata: async (runUuid) => (await db()).runMetadata(runUuid),
    testRuns: async (runUuid) => (await db()).testRuns(runUuid),
    close: async () => {
      if (opening) await (await opening.catch(() => null))?.close();
    },
  };
}

/**
 * A run from the source as a model input, downloading it into the cache first if needed. A fetch that
 * failed for now throws FetchFailedError; "no dstat file anywhere" is final. `downloaded` says the cache grew.
 * With `writes`, the cache files of a download are written while the caller goes on (see CacheWrites).
 */
export async function exampleOfRun(
  p: Predictor,
  run: SourceRun,
  signal: AbortSignal,
  /** where to look under the log root, when not the source's usual paths (a Zuul build beside a database) */
  policy: FetchPolicy = p.policy,
  writes?: CacheWrites,
): Promise<RunExample & { downloaded: boolean }> {
  if (p.unavailable.has(run.id))
    return {
      kind: "unusable",
      runUuid: run.id,
      reason: `${run.id}: ignored by configuration (no dstat file; cache-data listed it as unavailable)`,
      downloaded: false,
    };
  // Only the dataset's columns of the trace are kept from the cache check, and only the rows the model
  // input below uses.
  const cached = await ensureRunCached(
    p.ws,
    run,
    { policy, columns: p.config.columns, keepRows: rowsUsed(p.config), writeBehind: writes?.add },
    signal,
  );
  if (cached.kind === "failed") throw new FetchFailedError(`${run.id}: ${cached.reason} (${cached.url})`);
  if (cached.kind === "unavailable")
    return {
      kind: "unusable",
      runUuid: run.id,
      reason: `${run.id}: no dstat file at ${cached.urls.length > 0 ? cached.urls.join(", ") : `(no log root in the ${p.source.description})`}`,
      downloaded: false,
    };
  const metadata = cached.kind === "cached" ? cached.metadata : undefined;
  return { ...(await exampleOfCachedRun(p.ws, p, run.id, cached.table, metadata)), downloaded: cached.kind === "cached" };
}

/**
 * The cache writes a prediction left under way. mqtt-trainer publishes a prediction first and waits for
 * these after: the cache is for later datasets, and a crash before they land loses only files the next
 * event or cache-data fetches again. A run joins this process's found-runs list once its files are written,
 * so the list never names a run whose files did not land.
 */
export class CacheWrites {
  private readonly pending: Promise<void>[] = [];
  /** a download's writes; their failure is reported by `settled`, never as an unhandled rejection */
  readonly add = (saving: Promise<void>): void => {
    saving.catch(() => undefined);
    this.pending.push(saving);
  };

  /** Waits for the writes, then lists `downloaded` in the found-runs list of `buildName`. */
  settled(p: Predictor, buildName: string, downloaded: string[]): Promise<void> {
    const done = Promise.all(this.pending).then(() => p.found.add(buildName, downloaded));
    done.catch(() => undefined);
    return done;
  }
}

/**
 * One build end to end: its runs, their data through the cache, one model call. `admit` picks the runs
 * to predict (mqtt-trainer: those not predicted yet); `found` counts the build's runs in the source.
 * `saved` settles once the runs downloaded are in the cache and the found-runs list (CacheWrites).
 */
export async function predictBuild(
  p: Predictor,
  buildUuid: string,
  buildName: string,
  signal: AbortSignal,
  emit?: Emit,
  admit: (runId: string) => boolean = () => true,
): Promise<{ predictions: RunPrediction[]; skipped: string[]; found: number; admitted: number; saved: Promise<void> }> {
  await p.refreshModel();
  const { runs: all, skipped } = await p.source.runsOfBuild(buildUuid, buildName, signal);
  // Runs of other build names are in `skipped`, one line each.
  const found = all.length + skipped.length;
  const runs = all.filter((run) => admit(run.id));
  const writes = new CacheWrites();
  const examples = await Promise.all(runs.map((run) => exampleOfRun(p, run, signal, p.policy, writes)));
  const usable: Extract<RunExample, { kind: "example" }>[] = [];
  for (const e of examples) {
    if (e.kind === "unusable") skipped.push(e.reason);
    else {
      usable.push(e);
      emit?.({ type: "info", message: `Obtained dstat file for ${e.runUuid}` });
    }
  }
  const saved = writes.settled(
    p,
    buildName,
    examples.filter((e) => e.downloaded).map((e) => e.runUuid),
  );
  return { predictions: predictExamples(p, usable), skipped, found, admitted: runs.length, saved };
}
