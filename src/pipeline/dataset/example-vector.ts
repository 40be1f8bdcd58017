// The ONE way a parsed trace becomes a model input: select the dataset's columns, resample,
// drop incomplete rows, fix the length (or aggregate), unroll column-major, normalise with the saved
// training parameters. build-dataset and every prediction path call these functions, so a model
// never sees a vector built differently from the ones it was trained on.
import type { DstatTable } from "../../io/dstat-csv.ts";
import { AGGREGATIONS } from "./aggregation.ts";
import type { DatasetConfig } from "./dataset-config.ts";
import { CimlError, ExampleError } from "../errors.ts";
import { dropIncompleteRows, resampleMean, type TraceColumns } from "./resample.ts";
import type { ResampledTrace } from "./resample-rows.ts";
import { parseSampleInterval } from "./sample-interval.ts";

export type ExampleShape = Pick<DatasetConfig, "columns" | "sample_interval" | "aggregation_functions" | "normalized_length">;

/** The dataset's columns out of a trace; extra columns are ignored, a missing one is an error. */
function selectColumns(table: DstatTable, columns: string[]): TraceColumns {
  const missing = columns.filter((c) => !table.columns.includes(c));
  if (missing.length > 0) {
    throw new ExampleError(
      `columns do not match the dataset: missing ${missing.join(", ")} (the trace has ${table.columns.length} columns)`,
    );
  }
  const values = columns.map((c) => {
    const column = table.values[table.columns.indexOf(c)];
    // Not an input problem: the trace was read without this column (DstatReadOptions.columns).
    if (!column) throw new Error(`column ${c} was not kept when the trace was read`);
    return column;
  });
  return { times: table.times, values, rows: table.rows };
}

/** Columns of `table` whose name the regex finds (re.search), in file order; all of them without one. */
export function matchingColumns(table: DstatTable, regex: RegExp | null): string[] {
  return regex ? table.columns.filter((c) => regex.test(c)) : [...table.columns];
}

/**
 * The dataset's columns of a trace, resampled and without incomplete rows (the original's "downsampled" frame).
 * `resampled`: the same trace's rows, resampled as they were read (then `table` holds only its first rows).
 */
export function prepareTrace(table: DstatTable, shape: ExampleShape, resampled?: ResampledTrace): TraceColumns {
  const selected = selectColumns(table, shape.columns);
  const trace =
    shape.sample_interval === null
      ? dropIncompleteRows(selected)
      : (resampled?.trace() ?? resampleMean(selected, parseSampleInterval(shape.sample_interval).seconds));
  if (trace.rows === 0) throw new ExampleError("no complete samples in the selected columns");
  return trace;
}

/**
 * How many complete rows of a trace its example can use: without resampling or aggregation, the first L
 * (DstatReadOptions.keepRows), so a long trace need not be held whole; all of them otherwise.
 */
export function rowsUsed(shape: ExampleShape): number | undefined {
  return shape.sample_interval === null && shape.aggregation_functions.length === 0 ? shape.normalized_length : undefined;
}

/** Fixed length (zero padding / truncation at the end) or aggregation, unrolled column-major into `out`. */
export function unrollInto(trace: TraceColumns, shape: ExampleShape, out: Float32Array | Float64Array): void {
  const L = shape.normalized_length;
  const aggregations = shape.aggregation_functions;
  trace.values.forEach((column, c) => {
    const base = c * L;
    if (aggregations.length > 0) {
      aggregations.forEach((name, j) => (out[base + j] = AGGREGATIONS[name]!(column)));
      return;
    }
    const n = Math.min(trace.rows, L);
    for (let i = 0; i < n; i++) out[base + i] = column[i]!;
    out.fill(0, base + n, base + L);
  });
}

/**
 * Writes the un-normalised example into `out` (length num_features) and returns how many samples the
 * trace had after resampling, before padding or truncation (the x of sizes_by_result).
 */
export function rawExampleInto(table: DstatTable, shape: ExampleShape, out: Float32Array | Float64Array): number {
  const trace = prepareTrace(table, shape);
  unrollInto(trace, shape, out);
  return trace.rows;
}

/** Parameters as two arrays in label order, read once from the config's {label: [mean, range]}. */
export interface Normalization {
  mean: Float64Array;
  range: Float64Array;
}

function normalizationOf(config: Pick<DatasetConfig, "labels" | "normalization_params">): Normalization {
  const mean = new Float64Array(config.labels.length);
  const range = new Float64Array(config.labels.length);
  config.labels.forEach((label, j) => {
    const p = config.normalization_params[label];
    if (!p) throw new CimlError(`the dataset has no normalisation parameters for feature ${label}; rebuild it with build-dataset --force`);
    mean[j] = p[0];
    range[j] = p[1];
  });
  return { mean, range };
}

/** (x − mean) / range in place. */
export function normalizeInPlace(example: Float32Array | Float64Array, norm: Normalization): void {
  for (let j = 0; j < example.length; j++) example[j] = (example[j]! - norm.mean[j]!) / norm.range[j]!;
}

const cachedNormalization = new WeakMap<DatasetConfig, Normalization>();

/**
 * A parsed trace → the normalised model input of `config`'s dataset. Computed at the dataset's own
 * precision, as build-dataset computed its rows, then handed to the model as float32.
 */
export function exampleFromTable(table: DstatTable, config: DatasetConfig): Float32Array {
  const work = config.dtype === "float64" ? new Float64Array(config.num_features) : new Float32Array(config.num_features);
  rawExampleInto(table, config, work);
  let norm = cachedNormalization.get(config);
  if (!norm) {
    norm = normalizationOf(config);
    cachedNormalization.set(config, norm);
  }
  normalizeInPlace(work, norm);
  return work instanceof Float32Array ? work : Float32Array.from(work);
}
