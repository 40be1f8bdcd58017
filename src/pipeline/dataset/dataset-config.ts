// A dataset's configuration, stored as `<dataset>/model_config.json.gz` (the original's file name, kept so
// its datasets still load): how the dataset was built, so that training and every
// prediction path turn a new trace into exactly the vector the model was trained on.
import { z } from "zod";
import { checkFile } from "../../io/checked-file.ts";
import { readJsonGz, writeJsonGz } from "../../io/gzip-json.ts";
import type { Workspace } from "../../io/workspace.ts";
import { CimlError } from "../errors.ts";
import { AGGREGATIONS } from "./aggregation.ts";
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

/** The example length L: the number of aggregation functions, else bins covering 5500 s. */
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

/** L beyond this is no dstat trace we could have made examples from (5500 one-second samples is the default). */
const MAX_LENGTH = 1_000_000;

const finite = z.number().refine(Number.isFinite, "must be a finite number");
const fraction = z.number().min(0).max(1);

/**
 * Every field of a model_config.json.gz, ours or the original's (which has no columns, dtype, seed or
 * classes), and how they must agree: a zero or negative normalized_length once made the prediction
 * commands loop for ever while memory grew.
 */
const datasetConfigSchema = z
  .looseObject({
    build_name: z.string(),
    sample_interval: z
      .string()
      .refine((alias) => {
        try {
          parseSampleInterval(alias);
          return true;
        } catch {
          return false;
        }
      }, "is not a pandas offset alias such as 1min")
      .nullish()
      .transform((v) => v ?? null),
    features_regex: z
      .string()
      .nullish()
      .transform((v) => v ?? null),
    class_label: z.string().min(1),
    aggregation_functions: z
      .array(z.string().refine((name) => Object.hasOwn(AGGREGATIONS, name), "is not an aggregation function ciml knows"))
      .nullish()
      .transform((v) => v ?? []),
    training_set: fraction,
    dev_set: fraction,
    test_set: fraction,
    normalized_length: z.number().int().min(1).max(MAX_LENGTH),
    labels: z.array(z.string()).min(1),
    num_columns: z.number().int().min(1),
    num_features: z.number().int().min(1),
    normalization_params: z.record(z.string(), z.tuple([finite, finite.refine((r) => r !== 0, "range must not be 0")])),
    columns: z.array(z.string()).min(1).optional(),
    dtype: z.enum(["float32", "float64"]).nullish(),
    seed: z.number().int().nullish(),
    split_order: z.enum(["random", "time"]).nullish(),
    classes: z.array(z.string()).optional(),
  })
  .superRefine((c, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (c.num_features !== c.labels.length) problem("num_features", `is ${c.num_features} but there are ${c.labels.length} labels`);
    if (c.labels.length !== c.num_columns * c.normalized_length)
      problem("labels", `has ${c.labels.length} names, not num_columns × normalized_length = ${c.num_columns * c.normalized_length}`);
    if (c.columns && c.columns.length !== c.num_columns)
      problem("columns", `names ${c.columns.length} columns, not num_columns = ${c.num_columns}`);
    if (c.aggregation_functions.length > 0 && c.aggregation_functions.length !== c.normalized_length)
      problem("normalized_length", `must be the number of aggregation functions (${c.aggregation_functions.length})`);
    const missing = c.labels.find((label) => !Object.hasOwn(c.normalization_params, label));
    if (missing !== undefined) problem("normalization_params", `has no [mean, range] for label ${missing}`);
  });

export async function readDatasetConfig(ws: Workspace, dataset: string): Promise<DatasetConfig> {
  const path = ws.datasetFile(dataset, "model_config.json.gz");
  const fix = `rebuild it with build-dataset --dataset ${dataset} --force`;
  const raw = await readJsonGz(ws.store, path, fix);
  if (raw === undefined)
    throw new CimlError(`dataset ${dataset} does not exist in ${ws.root}; create it with build-dataset --dataset ${dataset}`);
  const value = checkFile(datasetConfigSchema, raw, path, fix);
  const base = {
    ...value,
    dtype: value.dtype ?? "float64",
    seed: value.seed ?? null,
    split_order: value.split_order ?? "random",
  } as DatasetConfig;
  return {
    ...base,
    columns: value.columns ?? columnsFromLabels(base),
    classes: value.classes ?? (base.class_label === "status" ? ["0", "1"] : []),
  };
}

export function writeDatasetConfig(ws: Workspace, dataset: string, config: DatasetConfig): Promise<void> {
  return writeJsonGz(ws.store, ws.datasetFile(dataset, "model_config.json.gz"), config);
}
