// `ciml build-dataset` (§6): cached traces of one build name → normalised training/dev/test numpy
// archives plus the configuration every later step reads. Cache only, one trace in memory at a time,
// each set's examples written straight into one preallocated matrix. Runs that cannot make an example
// are left out, warned about and listed in excluded.json.gz — never kept as garbage rows (§12.6–9).
import { existsSync, rmSync } from "node:fs";
import { DstatParseError, parseDstatCsv, type DstatTable } from "../io/dstat-csv.ts";
import { writeJsonGz } from "../io/gzip-json.ts";
import { stringArray, writeNpz, type NpyArray } from "../io/npy.ts";
import { readRunList, readRunMetadata, readTraceText, type RunMetadata } from "../io/raw-cache.ts";
import { resolveDataPath, Workspace } from "../io/workspace.ts";
import { checkAggregations } from "./dataset/aggregation.ts";
import { classOf, classVocabulary, isNumericLabel } from "./dataset/class-label.ts";
import { exampleLength, featureLabels, writeModelConfig, type ExampleDtype, type ModelConfig } from "./dataset/dataset-config.ts";
import { balanceHistogram, columnsHistogram, lengthHistogram } from "./dataset/dataset-histograms.ts";
import { writeExamplePlots, writeNormalizedPlot, writeSizesByResult } from "./dataset/dataset-plots.ts";
import {
  chronologicalSplit,
  loadOrMakeSplit,
  parseSplitOrder,
  parseTdtSplit,
  pythonSlice,
  type SplitIndices,
} from "./dataset/dataset-split.ts";
import { CimlError, throwIfAborted, UsageError } from "./errors.ts";
import type { Emit, Step } from "./events.ts";
import {
  matchingColumns,
  normalizeInPlace,
  prepareTrace,
  unrollInto,
  type ExampleShape,
  type Normalization,
} from "./dataset/example-vector.ts";
import type { TraceColumns } from "./dataset/resample.ts";
import { parseSampleInterval } from "./dataset/sample-interval.ts";

export interface BuildDatasetOptions {
  /** --data-path as given: the workspace holding the raw cache (.raw, .metadata); resolved like every command's */
  dataPath?: string;
  /** --target-data-path as given: where the dataset, its run lists and _splits go; default: the data path */
  targetDataPath?: string;
  dataset: string;
  buildName: string;
  slicer: string;
  sampleInterval?: string;
  featuresRegex?: string;
  classLabel: string;
  /** the three values of --tdt-split */
  tdtSplit: string[];
  force: boolean;
  visualize: boolean;
  dataPlotsFolder: string;
  /** with visualize: draw §6.9's per-example plots for this many training examples (0 = none) */
  plotExamples?: number | string;
  aggregationFunctions: string[];
  seed?: string | number;
  dtype: string;
  /** random (seeded, the default) or time: ordered by run_at, training the oldest, test the newest */
  splitOrder?: string;
}

export type SetName = "training" | "dev" | "test";
export const SET_NAMES: readonly SetName[] = ["training", "dev", "test"];

export interface Exclusion {
  run: string;
  set: SetName;
  reason: string;
}

export interface BuildDatasetResult {
  config: ModelConfig;
  examples: Record<SetName, number>;
  excluded: Exclusion[];
  plots: string[];
}

export const DEFAULT_SEED = 42;

/** Live histograms are redrawn this often (plain output prints each one as a line). */
const HISTOGRAM_EVERY_MS = 2000;

function parseSeed(seed: string | number | undefined): number {
  if (seed === undefined || seed === "") return DEFAULT_SEED;
  const n = Number(seed);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`--seed ${seed} must be a whole number from 0 to 4294967295`);
  return n;
}

function parsePlotExamples(value: number | string | undefined): number {
  const n = Number(value ?? 0);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--plot-examples ${value} must be a whole number of examples (0 for none)`);
  return n;
}

function parseDtype(dtype: string): ExampleDtype {
  if (dtype === "float32" || dtype === "float64") return dtype;
  throw new UsageError(`--dtype ${dtype} is not supported; use float32 or float64`);
}

function compileRegex(source: string | undefined): RegExp | null {
  if (source === undefined || source === "") return null;
  try {
    return new RegExp(source);
  } catch (err) {
    throw new CimlError(`--features-regex ${JSON.stringify(source)} is not a valid regular expression: ${(err as Error).message}`);
  }
}

export interface LoadedRun {
  table: DstatTable;
  metadata: RunMetadata;
}

/** A cached run, or the one-line reason it cannot be used. */
export function loadCachedRun(ws: Workspace, run: string): LoadedRun | string {
  let metadata: RunMetadata | undefined;
  let text: string | undefined;
  try {
    metadata = readRunMetadata(ws, run);
    if (metadata === undefined) return "no metadata in the cache (.metadata)";
    text = readTraceText(ws, run);
  } catch (err) {
    return `unreadable cache file: ${(err as Error).message}`;
  }
  if (text === undefined) return "no dstat file in the cache (.raw)";
  const runAt = typeof metadata.run_at === "string" ? Number(metadata.run_at.slice(0, 4)) : Number.NaN;
  try {
    return { table: parseDstatCsv(text, Number.isInteger(runAt) ? { year: runAt } : {}), metadata };
  } catch (err) {
    if (err instanceof DstatParseError) return err.message;
    throw err;
  }
}

/** Per-feature mean and max − min of the first `rows` rows (zero range → 1), accumulated row by row. */
function trainingNormalization(matrix: Float32Array | Float64Array, rows: number, features: number): Normalization {
  const sum = new Float64Array(features);
  const min = new Float64Array(features).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(features).fill(Number.NEGATIVE_INFINITY);
  for (let r = 0; r < rows; r++) {
    const base = r * features;
    for (let j = 0; j < features; j++) {
      const v = matrix[base + j]!;
      sum[j]! += v;
      if (v < min[j]!) min[j] = v;
      if (v > max[j]!) max[j] = v;
    }
  }
  const range = new Float64Array(features);
  for (let j = 0; j < features; j++) {
    sum[j]! /= rows;
    const r = max[j]! - min[j]!;
    range[j] = r === 0 ? 1 : r;
  }
  return { mean: sum, range };
}

/** Lets the faces draw and Ctrl-C arrive between traces without slowing the loop down. */
class Breather {
  private last = performance.now();
  async maybe(signal: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    if (performance.now() - this.last < 50) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.last = performance.now();
    throwIfAborted(signal);
  }
}

function progressEmitter(emit: Emit, stage: SetName, total: number) {
  const started = performance.now();
  let lastEmit = 0;
  return (done: number, excluded: number, current: string | undefined, force = false) => {
    const now = performance.now();
    if (!force && now - lastEmit < 100 && done < total) return;
    lastEmit = now;
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? done / seconds : undefined;
    emit({
      type: "progress",
      stage,
      done,
      total,
      unit: "runs",
      rate,
      etaSeconds: rate ? (total - done) / rate : undefined,
      counts: { excluded },
      current: current ? [current] : undefined,
    });
  };
}

/** The first run that loads fixes the columns (the original took the first run, loadable or not). */
function chooseColumns(
  cache: Workspace,
  runs: string[],
  regex: RegExp | null,
  featuresRegex: string | undefined,
  signal: AbortSignal,
): string[] {
  let firstProblem = "";
  for (const run of runs) {
    throwIfAborted(signal);
    const loaded = loadCachedRun(cache, run);
    if (typeof loaded === "string") {
      firstProblem ||= `${run}: ${loaded}`;
      continue;
    }
    const columns = matchingColumns(loaded.table, regex);
    if (columns.length === 0) {
      throw new CimlError(
        `--features-regex ${JSON.stringify(featuresRegex)} matches no column of run ${run} (its columns: ${loaded.table.columns.join(", ")})`,
      );
    }
    return columns;
  }
  throw new CimlError(`none of the ${runs.length} selected runs could be loaded from the cache (first: ${firstProblem})`);
}

/** What one build accumulates across its three sets. */
interface BuildState {
  readonly options: BuildDatasetOptions;
  readonly cache: Workspace;
  readonly target: Workspace;
  readonly shape: ExampleShape;
  readonly features: number;
  readonly dtype: ExampleDtype;
  readonly plotExamples: number;
  readonly emit: Emit;
  readonly signal: AbortSignal;
  readonly breather: Breather;
  readonly excluded: Exclusion[];
  readonly ids: Record<SetName, string[]>;
  readonly classes: Record<SetName, string[]>;
  /** samples after resampling, per example in build order, with allClasses beside it */
  readonly allLengths: number[];
  readonly allClasses: string[];
  /** per selected column: loaded traces that had it / lacked it */
  readonly present: Int32Array;
  readonly missing: Int32Array;
  readonly plots: string[];
  normalization: Normalization | null;
  lastHistogram: number;
}

function vocabularyOf(state: BuildState): string[] {
  return classVocabulary(state.options.classLabel, state.allClasses);
}

/**
 * Loads each run of one set straight into its row of the preallocated matrix; a run that cannot make an
 * example is excluded (warning + list), so the rows stay packed. Returns the matrix and its row count.
 */
async function fillSet(state: BuildState, set: SetName, list: string[]): Promise<{ matrix: Float32Array | Float64Array; rows: number }> {
  const { shape, features, emit, options } = state;
  const matrix = state.dtype === "float32" ? new Float32Array(list.length * features) : new Float64Array(list.length * features);
  const progress = progressEmitter(emit, set, list.length);
  const ids = state.ids[set];
  const classes = state.classes[set];
  let excludedHere = 0;
  const exclude = (run: string, reason: string) => {
    excludedHere++;
    state.excluded.push({ run, set, reason });
    emit({ type: "warning", message: `run ${run} (${set}) excluded: ${reason}`, subject: run });
  };
  for (let i = 0; i < list.length; i++) {
    await state.breather.maybe(state.signal);
    const run = list[i]!;
    progress(i, excludedHere, run);
    const loaded = loadCachedRun(state.cache, run);
    if (typeof loaded === "string") {
      exclude(run, loaded);
      continue;
    }
    shape.columns.forEach((c, j) => (loaded.table.columns.includes(c) ? state.present[j]!++ : state.missing[j]!++));
    let cls: string;
    let trace: TraceColumns;
    try {
      cls = classOf(loaded.metadata, options.classLabel);
      trace = prepareTrace(loaded.table, shape);
    } catch (err) {
      if (!(err instanceof CimlError)) throw err;
      exclude(run, err.message);
      continue;
    }
    const row = matrix.subarray(ids.length * features, (ids.length + 1) * features);
    unrollInto(trace, shape, row);
    if (set === "training" && ids.length < state.plotExamples) {
      state.plots.push(
        ...(await writeExamplePlots(
          state.target.datasetFile(options.dataset, "plots"),
          shape.sample_interval,
          ids.length,
          shape.columns,
          trace,
          row,
          shape.normalized_length,
        )),
      );
    }
    if (state.normalization) normalizeInPlace(row, state.normalization);
    ids.push(run);
    classes.push(cls);
    state.allLengths.push(trace.rows);
    state.allClasses.push(cls);
    if (performance.now() - state.lastHistogram > HISTOGRAM_EVERY_MS) {
      state.lastHistogram = performance.now();
      emit(lengthHistogram(state.allLengths, state.allClasses, vocabularyOf(state), shape.normalized_length));
      emit(columnsHistogram(shape.columns, state.present, state.missing));
    }
  }
  progress(list.length, excludedHere, undefined, true);
  emit({ type: "stage", stage: set, state: "finished", detail: `${ids.length} examples, ${excludedHere} excluded` });
  return { matrix, rows: ids.length };
}

/** `<set>.npz` as §6.10 (none for an empty set) and the set's run list, in row order. */
function writeSet(state: BuildState, set: SetName, matrix: Float32Array | Float64Array, rows: number): void {
  const { target, options, features } = state;
  const ids = state.ids[set];
  const classes = state.classes[set];
  const npzPath = target.datasetFile(options.dataset, `${set}.npz`);
  if (rows > 0) {
    const classArray: NpyArray = isNumericLabel(options.classLabel)
      ? { dtype: "<i8", shape: [rows], data: BigInt64Array.from(classes, (c) => BigInt(c)) }
      : stringArray(classes);
    writeNpz(npzPath, {
      examples: { dtype: state.dtype === "float32" ? "<f4" : "<f8", shape: [rows, features], data: matrix.subarray(0, rows * features) },
      example_ids: stringArray(
        ids,
        ids.reduce((m, id) => Math.max(m, id.length), 36),
      ),
      classes: classArray,
    });
  } else {
    // An empty set has no archive (§6.10); a stale one from an earlier build must not linger.
    rmSync(npzPath, { force: true });
  }
  writeJsonGz(target.datasetFile(options.dataset, `${set}.json.gz`), ids);
  state.emit({ type: "info", message: `${set} set: examples: (${rows}, ${features}), classes: (${rows},), example IDs: (${rows},)` });
}

/**
 * --split-order time: the cached runs ordered by their run_at, oldest first (ties by id). Runs cached
 * without a start time cannot be placed in time: they are left out, with one warning.
 */
function oldestFirst(cache: Workspace, runs: string[], emit: Emit): string[] {
  const timed: [string, string][] = [];
  let untimed = 0;
  for (const run of runs) {
    const at = readRunMetadata(cache, run)?.run_at;
    if (typeof at === "string" && at !== "") timed.push([at, run]);
    else untimed++;
  }
  if (timed.length === 0)
    throw new CimlError(
      "--split-order time: no cached run has a run_at; run cache-data again (it records start times) or use --split-order random",
    );
  if (untimed > 0) emit({ type: "warning", message: `--split-order time: ${untimed} cached runs have no run_at and are left out` });
  timed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
  return timed.map(([, run]) => run);
}

export const buildDataset: Step<BuildDatasetOptions, BuildDatasetResult> = async (options, { emit, signal }) => {
  const dtype = parseDtype(options.dtype);
  const seed = parseSeed(options.seed);
  const split = parseTdtSplit(options.tdtSplit);
  const splitOrder = parseSplitOrder(options.splitOrder);
  const interval = options.sampleInterval ? parseSampleInterval(options.sampleInterval) : null;
  const aggregations = checkAggregations(options.aggregationFunctions);
  const regex = compileRegex(options.featuresRegex);
  const plotExamples = options.visualize ? parsePlotExamples(options.plotExamples) : 0;
  const cache = new Workspace(resolveDataPath(options.dataPath));
  const target = options.targetDataPath === undefined ? cache : new Workspace(resolveDataPath(options.targetDataPath));
  const dataset = options.dataset;
  target.datasetDir(dataset);

  const replacing = target.datasetExists(dataset);
  if (replacing && !options.force)
    throw new CimlError(`Dataset ${dataset} already configured in ${target.root}; use --force to overwrite it`);

  const runListPath = cache.buildRuns(options.buildName);
  if (!existsSync(runListPath)) {
    throw new CimlError(
      `no cached runs for build name ${options.buildName} in ${cache.rawDir}; run cache-data --build-name ${options.buildName} first`,
    );
  }
  const cached = readRunList(runListPath);
  const allRuns = splitOrder === "time" ? oldestFirst(cache, cached, emit) : cached;
  const runs = pythonSlice(allRuns, options.slicer);
  if (runs.length === 0) {
    throw new CimlError(`--slicer ${options.slicer} selects no runs of the ${allRuns.length} cached for build name ${options.buildName}`);
  }
  emit({ type: "info", message: `Obtained ${runs.length} runs for build ${options.buildName}` });

  let splitFile: { indices: SplitIndices; reused: boolean };
  if (splitOrder === "time") {
    // Not shared through _splits: those are random index sets, this one depends on the runs' times.
    splitFile = { indices: chronologicalSplit(runs.length, split), reused: false };
    emit({
      type: "info",
      message: `Split by time: the oldest ${Math.round(split.training * 100)}% of ${runs.length} runs train, the newest test`,
    });
  } else {
    const made = loadOrMakeSplit(target, runs.length, split, seed);
    splitFile = made;
    emit({
      type: "info",
      message: made.reused
        ? `Splits found for size ${runs.length}: ${made.path} (seed not used)`
        : `Splits not found. Size ${runs.length}, t ${split.training}, d ${split.dev}; seed ${seed}. Splits saved to ${made.path}`,
    });
  }

  emit({ type: "stage", stage: "columns", state: "started" });
  const columns = chooseColumns(cache, runs, regex, options.featuresRegex, signal);
  emit({ type: "stage", stage: "columns", state: "finished", detail: columns.join(", ") });

  if (replacing) {
    // From here on the old archives get replaced. Until the new configuration is written the dataset
    // does not exist, so an interrupted rebuild never leaves an old config describing new archives.
    rmSync(target.datasetFile(dataset, "model_config.json.gz"));
  }

  const L = exampleLength(interval?.alias ?? null, aggregations);
  const labels = featureLabels(columns, L, aggregations);
  if (plotExamples > 0 && aggregations.length > 0) {
    emit({
      type: "warning",
      message: "per-example plots need fixed-length examples; --plot-examples is ignored with --aggregation-functions",
    });
  }
  const state: BuildState = {
    options,
    cache,
    target,
    shape: { columns, sample_interval: interval?.alias ?? null, aggregation_functions: aggregations, normalized_length: L },
    features: labels.length,
    dtype,
    plotExamples: aggregations.length === 0 ? plotExamples : 0,
    emit,
    signal,
    breather: new Breather(),
    excluded: [],
    ids: { training: [], dev: [], test: [] },
    classes: { training: [], dev: [], test: [] },
    allLengths: [],
    allClasses: [],
    present: new Int32Array(columns.length),
    missing: new Int32Array(columns.length),
    plots: [],
    normalization: null,
    lastHistogram: performance.now(),
  };
  const features = state.features;

  for (const set of SET_NAMES) {
    const list = splitFile.indices[set].map((i) => runs[i]!);
    emit({ type: "stage", stage: set, state: "started", detail: `${list.length} runs` });
    const { matrix, rows } = await fillSet(state, set, list);
    if (set === "training") {
      if (rows === 0) {
        throw new CimlError(
          `no training examples: none of the ${list.length} training runs could be used (${state.excluded[0]?.reason ?? "the training split is empty"}); check the cache or --tdt-split`,
        );
      }
      // Dev and test rows are normalised as they are filled; training rows only once all are in.
      state.normalization = trainingNormalization(matrix, rows, features);
      for (let r = 0; r < rows; r++) normalizeInPlace(matrix.subarray(r * features, (r + 1) * features), state.normalization);
      for (let r = 0; r < Math.min(rows, state.plotExamples); r++) {
        state.plots.push(
          await writeNormalizedPlot(
            options.dataPlotsFolder,
            state.shape.sample_interval,
            r,
            matrix.subarray(r * features, (r + 1) * features),
          ),
        );
      }
    }
    writeSet(state, set, matrix, rows);
  }

  const vocabulary = vocabularyOf(state);
  emit(lengthHistogram(state.allLengths, state.allClasses, vocabulary, L));
  emit(balanceHistogram(state.classes, vocabulary));
  emit(columnsHistogram(columns, state.present, state.missing));

  const norm = state.normalization!;
  const config: ModelConfig = {
    build_name: options.buildName,
    sample_interval: interval?.alias ?? null,
    features_regex: options.featuresRegex ?? null,
    class_label: options.classLabel,
    aggregation_functions: aggregations,
    training_set: split.training,
    dev_set: split.dev,
    test_set: split.test,
    normalized_length: L,
    labels,
    num_columns: columns.length,
    num_features: features,
    normalization_params: Object.fromEntries(labels.map((label, j) => [label, [norm.mean[j]!, norm.range[j]!]])),
    columns,
    dtype,
    seed: splitFile.reused || splitOrder === "time" ? null : seed,
    split_order: splitOrder,
    classes: vocabulary,
  };
  const excluded = state.excluded;
  writeNpz(target.datasetFile(dataset, "labels.npz"), { labels: stringArray(labels) });
  const left = new Set(excluded.map((e) => e.run));
  writeJsonGz(
    target.datasetFile(dataset, "runs.json.gz"),
    runs.filter((r) => !left.has(r)),
  );
  writeJsonGz(target.datasetFile(dataset, "excluded.json.gz"), excluded);

  if (options.visualize) {
    emit({ type: "stage", stage: "visualize", state: "started" });
    // sizes_by_result is of the training set: its examples come first in build order.
    const training = state.ids.training.length;
    state.plots.push(
      ...(await writeSizesByResult(
        options.dataPlotsFolder,
        state.allLengths.slice(0, training),
        state.classes.training,
        vocabulary,
        config.sample_interval,
      )),
    );
    emit({ type: "stage", stage: "visualize", state: "finished", detail: options.dataPlotsFolder });
  }
  writeModelConfig(target, dataset, config);

  const examples = { training: state.ids.training.length, dev: state.ids.dev.length, test: state.ids.test.length };
  const lines = [
    `Done creating dataset ${dataset}: ${features} features (${columns.length} columns × ${L}), classes ${vocabulary.join(", ")}`,
  ];
  if (excluded.length > 0) lines.push(`${excluded.length} runs excluded (listed in ${target.datasetFile(dataset, "excluded.json.gz")})`);
  emit({
    type: "result",
    stage: "build-dataset",
    summary: { dataset, ...examples, excluded: excluded.length, features, length: L, columns: columns.join(","), seed: config.seed, dtype },
    lines,
  });
  return { config, examples, excluded, plots: state.plots };
};
