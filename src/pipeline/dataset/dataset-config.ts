// A dataset's configuration, stored as `<dataset>/model_config.json.gz` (the original's file name, kept so
// its datasets still load): how the dataset was built (§6.8), so that training and every
// prediction path turn a new trace into exactly the vector the model was trained on.
import { readJsonGz, writeJsonGz } from "../../io/gzip-json.ts";
import type { Workspace } from "../../io/workspace.ts";
import { CimlError } from "../errors.ts";
import { normalizedLength, parseSampleInterval } from "./sample-interval.ts";

export type ExampleDtype = "float32" | "float64";

export interface DatasetConfig {
  build_name: string;
  /** pandas offset alias, or null for no resampling */
  sample_interval: string | null;
  features_regex: string | null;
  class_label: string;
  /** names of numpy functions; [] means fixed-length examples */
  aggregation_functions: string[];
  training_set: number;
  dev_set: number;
  test_set: number;
  /** L: samples per column (or number of aggregation functions) */
  normalized_length: number;
  /** feature names, column-major: usr0..usr91, 1m0..1m91 (or usr_mean, usr_std, ...) */
  labels: string[];
  num_columns: number;
  num_features: number;
  /** per label: [mean, max − min (1 when zero)] of the training set */
  normalization_params: Record<string, [number, number]>;
  // Ours, beyond the original's keys:
  /** dstat columns the examples are made of, in order (the original derived them from the first run) */
  columns: string[];
  dtype: ExampleDtype;
  /** seed of the split, or null when an existing `_splits` file was reused or the split is by time */
  seed: number | null;
  /** random (seeded) or time (training the oldest runs by run_at, test the newest) */
  split_order: "random" | "time";
  /** sorted class vocabulary; a model's output i means classes[i] */
  classes: string[];
}

export function featureLabels(columns: string[], length: number, aggregations: string[]): string[] {
  const labels: string[] = [];
  for (const column of columns) {
    if (aggregations.length > 0) for (const fn of aggregations) labels.push(`${column}_${fn}`);
    else for (let i = 0; i < length; i++) labels.push(`${column}${i}`);
  }
  return labels;
}

/** L of §6.3: the number of aggregation functions, else bins covering 5500 s. */
export function exampleLength(sampleInterval: string | null, aggregations: string[]): number {
  if (aggregations.length > 0) return aggregations.length;
  return normalizedLength(sampleInterval === null ? null : parseSampleInterval(sampleInterval));
}

/** Columns of a config the original wrote (no `columns` key): every L-th label minus its suffix. */
function columnsFromLabels(config: Omit<DatasetConfig, "columns"> & { columns?: string[] }): string[] {
  const aggregations = config.aggregation_functions ?? [];
  const step = config.normalized_length;
  const out: string[] = [];
  for (let i = 0; i < config.labels.length; i += step) {
    const label = config.labels[i]!;
    out.push(aggregations.length > 0 ? label.slice(0, -(aggregations[0]!.length + 1)) : label.slice(0, -1));
  }
  return out;
}

export function readDatasetConfig(ws: Workspace, dataset: string): DatasetConfig {
  const path = ws.datasetFile(dataset, "model_config.json.gz");
  const value = readJsonGz(path) as (Partial<DatasetConfig> & Record<string, unknown>) | undefined;
  if (value === undefined)
    throw new CimlError(`dataset ${dataset} does not exist in ${ws.root}; create it with build-dataset --dataset ${dataset}`);
  if (!Array.isArray(value.labels) || typeof value.normalized_length !== "number" || typeof value.normalization_params !== "object") {
    throw new CimlError(`${path} is not a dataset configuration; rebuild it with build-dataset --dataset ${dataset} --force`);
  }
  const base = {
    ...value,
    sample_interval: value.sample_interval ?? null,
    features_regex: value.features_regex ?? null,
    aggregation_functions: value.aggregation_functions ?? [],
    dtype: value.dtype ?? "float64",
    seed: value.seed ?? null,
    split_order: value.split_order ?? "random",
  } as DatasetConfig;
  return {
    ...base,
    columns: Array.isArray(value.columns) ? value.columns : columnsFromLabels(base),
    classes: Array.isArray(value.classes) ? value.classes : base.class_label === "status" ? ["0", "1"] : [],
  };
}

export function writeDatasetConfig(ws: Workspace, dataset: string, config: DatasetConfig): void {
  writeJsonGz(ws.datasetFile(dataset, "model_config.json.gz"), config);
}
