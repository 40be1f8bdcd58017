// The one prediction path (docs/compatibility.md, "Prediction uses the dataset's saved normalisation"): db-predict, db-batch-predict and mqtt-trainer all turn
// a cached run into a prediction here — the trace read exactly as build-dataset reads it, the dataset's own
// exampleFromTable (regex, interval, length, unroll, saved normalisation), the experiment's saved model.
// Getting the run into the cache first is predict-build.ts's part.
import type { DstatTable } from "../../io/dstat-csv.ts";
import type { RunMetadata } from "../../io/raw-cache.ts";
import type { Workspace } from "../../io/workspace.ts";
import { loadCachedRun } from "../cache/cached-run.ts";
import { classOf } from "../dataset/class-label.ts";
import { readDatasetConfig, type DatasetConfig } from "../dataset/dataset-config.ts";
import { CimlError, ExampleError } from "../errors.ts";
import type { PredictionEvent } from "../events.ts";
import { exampleFromTable, rowsUsed } from "../dataset/example-vector.ts";
import { loadTrainedModel, type TrainedModel } from "../model/trained-model.ts";

/** One run's prediction, as every face and the MQTT message report it. */
export interface RunPrediction {
  runUuid: string;
  buildUuid: string | null;
  buildName: string;
  predictedClass: string;
  /** class → probability, summing to 1 */
  probabilities: Record<string, number>;
  /** the run's class by the dataset's --class-label, when its metadata has it */
  actualClass: string | null;
}

/** The event every prediction command emits for one run; `latencyMs` when the command measures it. */
export function predictionEvent(p: RunPrediction, latencyMs?: number): PredictionEvent {
  return {
    type: "prediction",
    runUuid: p.runUuid,
    ...(p.buildUuid !== null ? { buildUuid: p.buildUuid } : {}),
    predictedClass: p.predictedClass,
    probabilities: p.probabilities,
    ...(p.actualClass !== null ? { actualClass: p.actualClass } : {}),
    ...(latencyMs !== undefined ? { latencyMs } : {}),
  };
}

/** A dataset's config with the experiment's model: what predicting needs, loaded once per process. */
export interface PredictionModel {
  dataset: string;
  experiment: string;
  config: DatasetConfig;
  model: TrainedModel;
}

/** `manifest`: the model.json bytes to load, when the caller has read them already (to compare them). */
export async function loadPredictionModel(
  ws: Workspace,
  dataset: string,
  experiment: string,
  manifest?: Uint8Array,
): Promise<PredictionModel> {
  const config = await readDatasetConfig(ws, dataset);
  const model = await loadTrainedModel(ws, dataset, experiment, { manifest });
  const vocabulary = config.classes?.map(String);
  // A model trained on another build of the dataset would silently mean other classes by the same outputs.
  if (vocabulary && vocabulary.join("\u0000") !== model.classes.join("\u0000")) {
    throw new CimlError(
      `experiment ${experiment} was trained with classes ${model.classes.join(", ")} but dataset ${dataset} now has ${vocabulary.join(", ")}; train it again with \`ciml train-model --dataset ${dataset} --experiment ${experiment}\``,
    );
  }
  return { dataset, experiment, config, model };
}

export type RunExample =
  | { kind: "example"; runUuid: string; example: Float32Array; metadata: RunMetadata }
  | { kind: "unusable"; runUuid: string; reason: string };

/**
 * A cached run as the model's input, or why it cannot be one (no cache entry, junk file, other columns).
 * `parsed` is its trace (and `metadata` its metadata) when the caller has just fetched it (the cache
 * check), so neither is read back.
 */
export async function exampleOfCachedRun(
  ws: Workspace,
  m: PredictionModel,
  runUuid: string,
  parsed?: DstatTable,
  metadata?: RunMetadata,
): Promise<RunExample> {
  const loaded = await loadCachedRun(ws, runUuid, { columns: m.config.columns, keepRows: rowsUsed(m.config), parsed, metadata });
  if (typeof loaded === "string") return { kind: "unusable", runUuid, reason: `${runUuid}: ${loaded}` };
  try {
    return { kind: "example", runUuid, example: exampleFromTable(loaded.table, m.config), metadata: loaded.metadata };
  } catch (err) {
    // A trace without the dataset's columns (another dstat version; docs/compatibility.md, "Traces without
    // the dataset's columns are excluded") can never be predicted; anything else (a dataset whose
    // normalisation is broken) would fail every run alike, so it ends the command.
    if (err instanceof ExampleError) return { kind: "unusable", runUuid, reason: `${runUuid}: ${err.message}` };
    throw err;
  }
}

/** One model call over a batch of examples; predictions in the order given. */
export function predictExamples(m: PredictionModel, examples: Extract<RunExample, { kind: "example" }>[]): RunPrediction[] {
  if (examples.length === 0) return [];
  const width = m.config.num_features;
  const rows = new Float32Array(examples.length * width);
  examples.forEach((e, i) => rows.set(e.example, i * width));
  const probs = m.model.predict(rows, examples.length);
  const classes = m.model.classes;
  return examples.map((e, i) => {
    const row = probs.subarray(i * classes.length, (i + 1) * classes.length);
    // No prototype: class names come from the data, and a class named "__proto__" must stay a key.
    const probabilities: Record<string, number> = Object.create(null);
    classes.forEach((c, k) => (probabilities[c] = row[k]!));
    let best = 0;
    for (let k = 1; k < classes.length; k++) if (row[k]! > row[best]!) best = k;
    return {
      runUuid: e.runUuid,
      buildUuid: stringOrNull(e.metadata.build_uuid),
      buildName: stringOrNull(e.metadata.build_name) ?? m.config.build_name,
      predictedClass: classes[best]!,
      probabilities,
      actualClass: actualClass(e.metadata, m.config.class_label),
    };
  });
}

function actualClass(metadata: RunMetadata, classLabel: string): string | null {
  try {
    return classOf(metadata, classLabel);
  } catch (err) {
    // A run without the label is still predicted; its actual class is just unknown.
    if (err instanceof ExampleError) return null;
    throw err;
  }
}

function stringOrNull(v: string | number | null | undefined): string | null {
  return v === undefined || v === null ? null : String(v);
}
