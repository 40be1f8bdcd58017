// A dataset's numpy archives as the trainer needs them: float32 rows, run ids and class labels,
// with every shape checked against the dataset's own config so a damaged or mismatched file stops the run
// with one line instead of training on garbage.
import { readNpz, type NpyArray } from "../../io/npy.ts";
import type { Workspace } from "../../io/workspace.ts";
import { StoreError } from "../../io/workspace/store.ts";
import { readDatasetConfig, type DatasetConfig } from "./dataset-config.ts";
import type { SetName } from "./dataset-split.ts";
import { CimlError } from "../errors.ts";
import type { Matrix } from "../model/training-loop.ts";

export interface SplitArrays extends Matrix {
  ids: string[];
  /** class of each example as stored: a number for int64 classes (status), else a string */
  classes: (number | string)[];
}

export interface DatasetArrays {
  name: string;
  config: DatasetConfig;
  labels: string[];
  splits: Partial<Record<SetName, SplitArrays>>;
}

function rebuildHint(dataset: string): string {
  return `rebuild it with \`ciml build-dataset --dataset ${dataset} --force\``;
}

function toFloat32(a: NpyArray): Float32Array {
  if (a.data instanceof Float32Array) return a.data;
  if (a.data instanceof Float64Array) return Float32Array.from(a.data);
  throw new Error(`examples have dtype ${a.dtype}, not a float type`);
}

function toClasses(a: NpyArray): (number | string)[] {
  if (a.data instanceof BigInt64Array) return Array.from(a.data, Number);
  if (Array.isArray(a.data)) return a.data;
  return Array.from(a.data as Float32Array | Float64Array);
}

async function readArchive(ws: Workspace, dataset: string, file: string): Promise<Record<string, NpyArray>> {
  try {
    return await readNpz(ws.store, ws.datasetFile(dataset, file));
  } catch (err) {
    if (err instanceof StoreError) throw err;
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new CimlError(`dataset ${dataset}: ${file} cannot be read (${reason}); ${rebuildHint(dataset)}`);
  }
}

async function readSplit(ws: Workspace, dataset: string, split: SetName, features: number): Promise<SplitArrays | undefined> {
  const file = `${split}.npz`;
  if (!(await ws.store.exists(ws.datasetFile(dataset, file)))) return undefined;
  const arrays = await readArchive(ws, dataset, file);
  const { examples, example_ids: ids, classes } = arrays;
  if (!examples || !classes)
    throw new CimlError(`dataset ${dataset}: ${file} lacks the "examples" or "classes" array; ${rebuildHint(dataset)}`);
  const [n, f] = examples.shape;
  if (examples.shape.length !== 2 || f !== features) {
    throw new CimlError(
      `dataset ${dataset}: ${file} holds examples of shape (${examples.shape.join(", ")}) but the dataset has ${features} features (labels.npz); ${rebuildHint(dataset)}`,
    );
  }
  if (classes.shape[0] !== n || (ids && ids.shape[0] !== n)) {
    throw new CimlError(
      `dataset ${dataset}: ${file} has ${n} examples but ${classes.shape[0]} classes${ids ? ` and ${ids.shape[0]} example ids` : ""}; ${rebuildHint(dataset)}`,
    );
  }
  let x: Float32Array;
  try {
    x = toFloat32(examples);
  } catch (err) {
    throw new CimlError(`dataset ${dataset}: ${file} ${(err as Error).message}; ${rebuildHint(dataset)}`);
  }
  const idList = ids && Array.isArray(ids.data) ? ids.data : Array.from({ length: n! }, (_, i) => `${split}-${i}`);
  return { x, n: n!, features, ids: idList, classes: toClasses(classes) };
}

/** Reads config, labels and the requested splits; a missing training or test split is reported by the caller. */
export async function readDatasetArrays(ws: Workspace, dataset: string, splits: SetName[]): Promise<DatasetArrays> {
  if (!(await ws.datasetExists(dataset)))
    throw new CimlError(`Dataset ${dataset} not found in ${ws.root}; build it with \`ciml build-dataset --dataset ${dataset}\``);
  const config = await readDatasetConfig(ws, dataset);
  const labelsArchive = (await ws.store.exists(ws.datasetFile(dataset, "labels.npz")))
    ? await readArchive(ws, dataset, "labels.npz")
    : undefined;
  const labels = labelsArchive?.labels && Array.isArray(labelsArchive.labels.data) ? labelsArchive.labels.data : config.labels;
  const out: DatasetArrays = { name: dataset, config, labels, splits: {} };
  for (const split of splits) out.splits[split] = await readSplit(ws, dataset, split, labels.length);
  return out;
}

/**
 * Re-expresses `from`'s examples (normalised with its own training statistics) in `to`'s normalisation:
 * x_to = ((x·range_from + mean_from) − mean_to) / range_to, feature by feature (a fix: docs/compatibility.md, "--eval-dataset uses the model's normalisation"). Undoing the
 * saved affine map is exact up to float32 rounding and needs neither the raw cache nor the runs.
 */
export function renormalise(x: Float32Array, labels: string[], from: DatasetConfig, to: DatasetConfig): Float32Array {
  const f = labels.length;
  const scale = new Float64Array(f);
  const shift = new Float64Array(f);
  labels.forEach((label, j) => {
    const [meanFrom, rangeFrom] = from.normalization_params[label] ?? [0, 1];
    const [meanTo, rangeTo] = to.normalization_params[label] ?? [0, 1];
    scale[j] = rangeFrom / rangeTo;
    shift[j] = (meanFrom - meanTo) / rangeTo;
  });
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const j = i % f;
    out[i] = x[i]! * scale[j]! + shift[j]!;
  }
  return out;
}
