// Getting runs to the one prediction path (predict-run.ts): the runs of a Zuul build from the database
// (as the original chose them), each fetched into the cache if it is not there yet (so the cache grows as CI runs), and the
// workspace, database and model opened once for a whole command.
import type { FetchPolicy } from "../../io/log-server.ts";
import { readRunList, writeRunList } from "../../io/raw-cache.ts";
import { openSubunit2sql, ORIGINAL_DB_URI, type RunRow, type Subunit2sql } from "../../io/subunit2sql.ts";
import { checkName, resolveDataPath, Workspace } from "../../io/workspace.ts";
import { ensureRunCached, fetchPolicyFor, type FetchSettings } from "../cache/ensure-run-cached.ts";
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

interface Predictor extends PredictionModel {
  ws: Workspace;
  db: Subunit2sql;
  policy: FetchPolicy;
  /** runs cache-data found without a dstat file anywhere: not asked for again (the original's "ignored by configuration") */
  unavailable: ReadonlySet<string>;
}

/** What every prediction command takes beside its own flags. */
export interface PredictorOptions extends Pick<FetchSettings, "dstatPaths" | "fetch"> {
  dataPath?: string;
  dbUri: string;
  dataset: string;
  experiment: string;
  /** the original's --sample-interval: the dataset's own interval is what the model needs, so only checked */
  sampleInterval?: string;
  /** how long the database may take to answer a connection */
  dbConnectTimeoutMs?: number;
  /** overall seconds per dstat download (--timeout as given) */
  timeoutSeconds?: string | number;
}

/** A run whose dstat file could not be fetched this time (log server down): worth trying again later. */
class FetchFailedError extends CimlError {
  override name = "FetchFailedError";
}

/** What a command-line user gets without the flag, for every prediction command. */
export const PREDICTOR_DEFAULTS = {
  dbUri: ORIGINAL_DB_URI,
  dataset: "dataset",
  experiment: "experiment",
  timeoutSeconds: 60,
} satisfies Partial<PredictorOptions>;

/**
 * Opens the workspace, the model and the database once, runs `body`, and lets go of all three however it
 * ends. The dataset and model are checked before the database is touched: they are the likelier mistake.
 */
export async function withPredictor<R>(options: PredictorOptions, emit: Emit, body: (p: Predictor) => Promise<R>): Promise<R> {
  const ws = new Workspace(resolveDataPath(options.dataPath));
  checkName("dataset", options.dataset);
  checkName("experiment", options.experiment);
  const timeout = Number(options.timeoutSeconds ?? PREDICTOR_DEFAULTS.timeoutSeconds);
  if (!(timeout > 0) || !Number.isFinite(timeout))
    throw new UsageError(`--timeout ${options.timeoutSeconds}: give the seconds allowed per dstat download, e.g. 60`);
  const policy = fetchPolicyFor({ dstatPaths: options.dstatPaths, fetch: options.fetch, timeoutSeconds: timeout });
  emit({ type: "stage", stage: "model", state: "started", detail: `${options.dataset}/${options.experiment}` });
  const model = await loadPredictionModel(ws, options.dataset, options.experiment);
  emit({ type: "stage", stage: "model", state: "finished", detail: `classes ${model.model.classes.join(", ")}` });
  if (options.sampleInterval !== undefined && options.sampleInterval !== model.config.sample_interval) {
    emit({
      type: "warning",
      message: `--sample-interval ${options.sampleInterval} ignored: dataset ${options.dataset} was built with ${model.config.sample_interval ?? "no resampling"}, and its model needs the same`,
    });
  }
  try {
    const db = await openSubunit2sql(
      options.dbUri,
      options.dbConnectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.dbConnectTimeoutMs },
    );
    try {
      ws.ensureDirs();
      return await body({ ...model, ws, db, policy, unavailable: new Set(readRunList(ws.unavailableRuns)) });
    } finally {
      await db.close();
    }
  } finally {
    model.model.dispose();
  }
}

/**
 * As the original: the runs whose metadata says `build_uuid = <uuid>`, keeping those whose build_name is the wanted
 * one and that are not multinode. `skipped` holds the original's line for each run left out.
 */
async function runsOfBuild(db: Subunit2sql, buildUuid: string, buildName: string): Promise<{ runs: RunRow[]; skipped: string[] }> {
  const found: RunRow[] = [];
  // Drained before the metadata queries: a MySQL stream holds its pooled connection until it ends, and
  // builds predicted concurrently would otherwise wait on each other's connections for ever.
  for await (const run of db.runsByKeyValue("build_uuid", buildUuid)) found.push(run);
  const runs: RunRow[] = [];
  const skipped: string[] = [];
  for (const run of found) {
    const name = (await db.runMetadata(run.uuid)).build_name;
    if (name !== buildName) skipped.push(`Build uuid: ${buildUuid} is not of proper build_name, skipping`);
    else if (name.includes("multinode")) skipped.push(`Build uuid: ${buildUuid} is a multinode build, skipping`);
    else runs.push(run);
  }
  return { runs, skipped };
}

/**
 * A run from the database as a model input, downloading it into the cache first if needed. A fetch that
 * failed for now throws FetchFailedError; "no dstat file anywhere" is final. `downloaded` says the cache grew.
 */
export async function exampleOfRun(p: Predictor, run: RunRow, signal: AbortSignal): Promise<RunExample & { downloaded: boolean }> {
  if (p.unavailable.has(run.uuid))
    return {
      kind: "unusable",
      runUuid: run.uuid,
      reason: `${run.uuid}: ignored by configuration (no dstat file; listed in .raw/unavailable.json.gz)`,
      downloaded: false,
    };
  const cached = await ensureRunCached(p.ws, run, p.db, { policy: p.policy }, signal);
  if (cached.kind === "failed") throw new FetchFailedError(`${run.uuid}: ${cached.reason} (${cached.url})`);
  if (cached.kind === "unavailable")
    return {
      kind: "unusable",
      runUuid: run.uuid,
      reason: `${run.uuid}: no dstat file at ${cached.urls.length > 0 ? cached.urls.join(", ") : "(no log root in the database)"}`,
      downloaded: false,
    };
  return { ...exampleOfCachedRun(p.ws, p, run.uuid, cached.table), downloaded: cached.kind === "cached" };
}

/**
 * Adds newly downloaded runs to the build's run list, so build-dataset sees the cache grow as CI runs.
 * The list is an index over the files: a lost update (two processes at once) is repaired by cache-data.
 */
export function indexRuns(ws: Workspace, buildName: string, runUuids: string[]): void {
  if (runUuids.length === 0) return;
  const path = ws.buildRuns(buildName);
  writeRunList(path, [...readRunList(path), ...runUuids]);
}

/** One build end to end: its runs, their data through the cache, one model call. */
export async function predictBuild(
  p: Predictor,
  buildUuid: string,
  buildName: string,
  signal: AbortSignal,
  emit?: Emit,
): Promise<{ predictions: RunPrediction[]; skipped: string[] }> {
  const { runs, skipped } = await runsOfBuild(p.db, buildUuid, buildName);
  const examples = await Promise.all(runs.map((run) => exampleOfRun(p, run, signal)));
  const usable: Extract<RunExample, { kind: "example" }>[] = [];
  for (const e of examples) {
    if (e.kind === "unusable") skipped.push(e.reason);
    else {
      usable.push(e);
      emit?.({ type: "info", message: `Obtained dstat file for ${e.runUuid}` });
    }
  }
  indexRuns(
    p.ws,
    buildName,
    examples.filter((e) => e.downloaded).map((e) => e.runUuid),
  );
  return { predictions: await predictExamples(p, usable), skipped };
}
