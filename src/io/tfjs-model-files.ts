// The standard tfjs layout, model.json + a weights file, written and read without tfjs-node (which cannot
// be installed here): tf.io.withSaveHandler hands us the artefacts, tf.io.fromMemory takes them back.
//
// A model is saved as one unit: model.json is the manifest and is written last. The weights go first to
// a file named by their own hash (`weights-<sha256>.bin`), so the model.json in place keeps pointing at
// the weights it was saved with until the new model.json replaces it in one rename; only then are the
// old weights removed. A crash at any point leaves the old model or the new one, never a mix — and the
// same order works on object storage, where a manifest object is replaced whole. model.json records each
// weights file's size and sha256, and a weights file that does not match them (or, for a model.json
// without them, the size its topology needs) is refused rather than loaded into wrong predictions.
import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { checkFile, WorkspaceFileError } from "./checked-file.ts";
import { type Store, within } from "./workspace/store.ts";

export const MODEL_JSON = "model.json";
const RETRAIN = "train the model again with `ciml train-model`";

/** Weights files we wrote: `weights.bin` (before saves were one unit) and `weights-<hash>.bin`. */
const WEIGHTS_FILE = /^weights(-[0-9a-f]{16})?\.bin$/;
const HASH_PREFIX = 16;

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/**
 * A weights path must be a plain file name in the model's own folder: model.json comes from the data
 * path, which we do not trust to name files elsewhere (`../../x/weights.bin`, `/etc/…`).
 */
const plainFileName = z
  .string()
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/, "must be a file name in the model's folder")
  .refine((name) => !name.includes(".."), "must be a file name in the model's folder");

const weightSpec = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(["float32", "int32", "bool"]),
  quantization: z.looseObject({ dtype: z.enum(["uint8", "uint16", "float16"]) }).optional(),
});

const modelJsonSchema = z.object({
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(z.object({ paths: z.array(plainFileName).min(1), weights: z.array(weightSpec) })).min(1),
  weightsChecksums: z
    .record(z.string(), z.object({ bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }))
    .optional(),
  userDefinedMetadata: z.record(z.string(), z.unknown()).optional(),
});

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export async function saveLayersModel(store: Store, model: tf.LayersModel, dir: string, metadata: Record<string, unknown>): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  if (!artifacts?.weightData || !artifacts.weightSpecs) throw new Error("tfjs returned no weights to save");
  const weights = new Uint8Array(tf.io.concatenateArrayBuffers(([] as ArrayBuffer[]).concat(artifacts.weightData)));
  const hash = sha256(weights);
  const weightsFile = `weights-${hash.slice(0, HASH_PREFIX)}.bin`;
  await store.write(within(dir, weightsFile), weights);
  const modelJson = {
    format: "layers-model",
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs }],
    weightsChecksums: { [weightsFile]: { bytes: weights.length, sha256: hash } },
    userDefinedMetadata: metadata,
  };
  // The commit point: from this rename (or PUT) on, the new model is the model.
  await store.write(within(dir, MODEL_JSON), JSON.stringify(modelJson));
  for (const name of await store.list(dir)) if (WEIGHTS_FILE.test(name) && name !== weightsFile) await store.remove(within(dir, name));
}

interface LoadedModel {
  model: tf.LayersModel;
  metadata: Record<string, unknown>;
}

/** Bytes the weights of a topology take, from their shapes and types. */
function expectedBytes(specs: z.infer<typeof weightSpec>[]): number {
  let total = 0;
  for (const spec of specs) {
    const values = spec.shape.reduce((a, b) => a * b, 1);
    total += values * BYTES_PER_VALUE[spec.quantization?.dtype ?? spec.dtype]!;
  }
  return total;
}

/** model.json's bytes, or undefined when there is no model: what the predict commands watch for a newer model. */
export function readModelJsonBytes(store: Store, dir: string): Promise<Uint8Array | undefined> {
  return store.read(within(dir, MODEL_JSON));
}

function parseModelJson(path: string, bytes: Uint8Array): z.infer<typeof modelJsonSchema> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new WorkspaceFileError(`${path} cannot be read as JSON (${(err as Error).message.split("\n")[0]}); ${RETRAIN}`);
  }
  return checkFile(modelJsonSchema, value, path, RETRAIN);
}

/** Loads a model saved by saveLayersModel (or by ciml before saves were one unit), checking its weights first. */
export async function loadLayersModel(store: Store, dir: string, manifest?: Uint8Array): Promise<LoadedModel> {
  const jsonPath = within(dir, MODEL_JSON);
  const jsonBytes = manifest ?? (await store.read(jsonPath));
  if (jsonBytes === undefined) throw new WorkspaceFileError(`${jsonPath} does not exist; ${RETRAIN}`);
  const json = parseModelJson(jsonPath, jsonBytes);
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers: ArrayBuffer[] = [];
  let total = 0;
  for (const name of json.weightsManifest.flatMap((g) => g.paths)) {
    const path = within(dir, name);
    const bytes = await store.read(path);
    if (bytes === undefined) throw new WorkspaceFileError(`${path}, named in ${MODEL_JSON}, cannot be read (ENOENT); ${RETRAIN}`);
    const recorded = json.weightsChecksums?.[name];
    if (recorded && (bytes.length !== recorded.bytes || sha256(bytes) !== recorded.sha256))
      throw new WorkspaceFileError(`${path} is not the weights ${MODEL_JSON} was saved with (size or sha256 differs); ${RETRAIN}`);
    buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    total += bytes.length;
  }
  const need = expectedBytes(weightSpecs);
  if (total !== need)
    throw new WorkspaceFileError(
      `${within(dir, json.weightsManifest[0]!.paths[0]!)} holds ${total} bytes of weights but the topology in ${MODEL_JSON} needs ${need}; ${RETRAIN}`,
    );
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as tf.io.ModelArtifacts["modelTopology"],
      weightSpecs: weightSpecs as tf.io.WeightsManifestEntry[],
      weightData: tf.io.concatenateArrayBuffers(buffers),
    }),
  );
  return { model, metadata: json.userDefinedMetadata ?? {} };
}
