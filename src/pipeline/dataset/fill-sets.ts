// build-dataset's work: each set's cached traces, one at a time, straight into one preallocated matrix
// per set, normalised by the training set, and written as `<set>.npz` with its run list. Runs that cannot
// make an example are left out and warned about — never kept as garbage rows.
import { writeJsonGz } from "../../io/gzip-json.ts";
import { stringArray, writeNpz, type NpyArray } from "../../io/npy.ts";
import { loadCachedRuns } from "../cache/cached-run.ts";
import { Breather } from "../breather.ts";
import { CimlError, ExampleError, throwIfAborted } from "../errors.ts";
import type { Emit } from "../events.ts";
import type { BuildPlan } from "./build-plan.ts";
import { classOf, classVocabulary, isNumericLabel } from "./class-label.ts";
import { balanceHistogram, columnsHistogram, lengthHistogram } from "./dataset-histograms.ts";
import { examplesFolder, writeExamplePlots, writeNormalizedPlot } from "./dataset-plots.ts";
import { SET_NAMES, type SetName, type SplitIndices } from "./dataset-split.ts";
import {
  matchingColumns,
  normalizeInPlace,
  prepareTrace,
  rowsUsed,
  unrollInto,
  type ExampleShape,
  type Normalization,
} from "./example-vector.ts";
import type { TraceColumns } from "./resample.ts";
import { parseSampleInterval } from "./sample-interval.ts";

export interface Exclusion {
  run: string;
  set: SetName;
  reason: string;
}

/** What filling the three sets produced, for the configuration and the report. */
export interface FilledSets {
  /** run ids and classes per set, in row order */
  ids: Record<SetName, string[]>;
  classes: Record<SetName, string[]>;
  /** samples after resampling, per example in build order (training first) */
  lengths: number[];
  excluded: Exclusion[];
  normalization: Normalization;
  vocabulary: string[];
  plots: string[];
}

/** Live histograms are redrawn this often (plain output prints each one as a line). */
const HISTOGRAM_EVERY_MS = 2000;

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
export async function chooseColumns(plan: BuildPlan, runs: string[], signal: AbortSignal): Promise<string[]> {
  let firstProblem = "";
  // Only the names are wanted here: no column's values are kept, and one row's time.
  for await (const [run, loaded] of loadCachedRuns(plan.cache, runs, { columns: [], keepRows: 1, signal })) {
    throwIfAborted(signal);
    if (typeof loaded === "string") {
      firstProblem ||= `${run}: ${loaded}`;
      continue;
    }
    const columns = matchingColumns(loaded.table, plan.regex);
    if (columns.length === 0) {
      throw new CimlError(
        `--features-regex ${JSON.stringify(plan.featuresRegex)} matches no column of run ${run} (its columns: ${loaded.table.columns.join(", ")})`,
      );
    }
    return columns;
  }
  throw new CimlError(`none of the ${runs.length} selected runs could be loaded from the cache (first: ${firstProblem})`);
}

/** What one build accumulates across its three sets. */
interface BuildState {
  readonly plan: BuildPlan;
  readonly shape: ExampleShape;
  readonly features: number;
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
  return classVocabulary(state.plan.classLabel, state.allClasses);
}

/**
 * Loads each run of one set straight into its row of the preallocated matrix; a run that cannot make an
 * example is excluded (warning + list), so the rows stay packed. Returns the matrix and its row count.
 */
async function fillSet(state: BuildState, set: SetName, list: string[]): Promise<{ matrix: Float32Array | Float64Array; rows: number }> {
  const { shape, features, emit, plan } = state;
  const matrix = plan.dtype === "float32" ? new Float32Array(list.length * features) : new Float64Array(list.length * features);
  const progress = progressEmitter(emit, set, list.length);
  const ids = state.ids[set];
  const classes = state.classes[set];
  let excludedHere = 0;
  const exclude = (run: string, reason: string) => {
    excludedHere++;
    state.excluded.push({ run, set, reason });
    emit({ type: "warning", message: `run ${run} (${set}) excluded: ${reason}`, subject: run });
  };
  // A raw plot draws the whole trace; without one, an unresampled example needs only its first rows.
  const keepRows = plan.plotExamples > 0 ? undefined : rowsUsed(shape);
  let i = 0;
  // A resampled example needs every row, but only in bins: they are resampled as they are read.
  const resampleSeconds = shape.sample_interval === null ? undefined : parseSampleInterval(shape.sample_interval).seconds;
  const options = { columns: shape.columns, keepRows, resampleSeconds, signal: state.signal };
  for await (const [run, loaded] of loadCachedRuns(plan.cache, list, options)) {
    await state.breather.maybe(state.signal);
    progress(i++, excludedHere, run);
    if (typeof loaded === "string") {
      exclude(run, loaded);
      continue;
    }
    shape.columns.forEach((c, j) => (loaded.table.columns.includes(c) ? state.present[j]!++ : state.missing[j]!++));
    let cls: string;
    let trace: TraceColumns;
    try {
      cls = classOf(loaded.metadata, plan.classLabel);
      trace = prepareTrace(loaded.table, shape, loaded.resampled);
    } catch (err) {
      if (!(err instanceof ExampleError)) throw err;
      exclude(run, err.message);
      continue;
    }
    const row = matrix.subarray(ids.length * features, (ids.length + 1) * features);
    unrollInto(trace, shape, row);
    if (set === "training" && ids.length < plan.plotExamples) {
      state.plots.push(
        ...(await writeExamplePlots(
          examplesFolder(plan.dataPlotsFolder, plan.dataset),
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
    // The whole trace's length, also where only its first rows were stored.
    state.allLengths.push(loaded.table.completeRows ?? trace.rows);
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

/** `<set>.npz` (none for an empty set) and the set's run list, in row order. */
async function writeSet(state: BuildState, set: SetName, matrix: Float32Array | Float64Array, rows: number): Promise<void> {
  const { plan, features } = state;
  const ids = state.ids[set];
  const classes = state.classes[set];
  // An empty set has no archive, as in the original (the new dataset's folder starts empty, and
  // io/staged-dataset.ts removes the old dataset's archive of that set).
  if (rows > 0) {
    const classArray: NpyArray = isNumericLabel(plan.classLabel)
      ? { dtype: "<i8", shape: [rows], data: BigInt64Array.from(classes, (c) => BigInt(c)) }
      : stringArray(classes);
    await writeNpz(plan.target.store, plan.target.datasetFile(plan.dataset, `${set}.npz`), {
      examples: { dtype: plan.dtype === "float32" ? "<f4" : "<f8", shape: [rows, features], data: matrix.subarray(0, rows * features) },
      example_ids: stringArray(
        ids,
        ids.reduce((m, id) => Math.max(m, id.length), 36),
      ),
      classes: classArray,
    });
  }
  await writeJsonGz(plan.target.store, plan.target.datasetFile(plan.dataset, `${set}.json.gz`), ids);
  state.emit({ type: "info", message: `${set} set: examples: (${rows}, ${features}), classes: (${rows},), example IDs: (${rows},)` });
}

/**
 * Fills and writes the three sets in turn. Training comes first: its rows fix the normalisation, which
 * dev and test rows then get as they are filled.
 */
export async function fillSets(
  plan: BuildPlan,
  runs: string[],
  indices: SplitIndices,
  shape: ExampleShape,
  features: number,
  emit: Emit,
  signal: AbortSignal,
): Promise<FilledSets> {
  const state: BuildState = {
    plan,
    shape,
    features,
    emit,
    signal,
    breather: new Breather(),
    excluded: [],
    ids: { training: [], dev: [], test: [] },
    classes: { training: [], dev: [], test: [] },
    allLengths: [],
    allClasses: [],
    present: new Int32Array(shape.columns.length),
    missing: new Int32Array(shape.columns.length),
    plots: [],
    normalization: null,
    lastHistogram: performance.now(),
  };
  for (const set of SET_NAMES) {
    const list = indices[set].map((i) => runs[i]!);
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
      for (let r = 0; r < Math.min(rows, plan.plotExamples); r++) {
        state.plots.push(
          await writeNormalizedPlot(
            examplesFolder(plan.dataPlotsFolder, plan.dataset),
            shape.sample_interval,
            r,
            matrix.subarray(r * features, (r + 1) * features),
          ),
        );
      }
    }
    await writeSet(state, set, matrix, rows);
  }
  const vocabulary = vocabularyOf(state);
  emit(lengthHistogram(state.allLengths, state.allClasses, vocabulary, shape.normalized_length));
  emit(balanceHistogram(state.classes, vocabulary));
  emit(columnsHistogram(shape.columns, state.present, state.missing));
  return {
    ids: state.ids,
    classes: state.classes,
    lengths: state.allLengths,
    excluded: state.excluded,
    normalization: state.normalization!,
    vocabulary,
    plots: state.plots,
  };
}
