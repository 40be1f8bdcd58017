// The standard tfjs layout, model.json + weights.bin, written and read without tfjs-node (which cannot be
// installed here): tf.io.withSaveHandler hands us the artefacts, tf.io.fromMemory takes them back.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "./atomic-file.ts";

export const MODEL_JSON = "model.json";
const WEIGHTS_BIN = "weights.bin";

export async function saveLayersModel(model: tf.LayersModel, dir: string, metadata: Record<string, unknown>): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  if (!artifacts?.weightData || !artifacts.weightSpecs) throw new Error("tfjs returned no weights to save");
  const weights = new Uint8Array(tf.io.concatenateArrayBuffers(([] as ArrayBuffer[]).concat(artifacts.weightData)));
  // weights.bin first: a model.json is only ever visible beside the weights it describes.
  writeFileAtomic(join(dir, WEIGHTS_BIN), weights);
  const modelJson = {
    format: "layers-model",
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
    userDefinedMetadata: metadata,
  };
  writeFileAtomic(join(dir, MODEL_JSON), JSON.stringify(modelJson));
}

interface LoadedModel {
  model: tf.LayersModel;
  metadata: Record<string, unknown>;
}

interface ModelJson {
  modelTopology: tf.io.ModelArtifacts["modelTopology"];
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

export async function loadLayersModel(dir: string): Promise<LoadedModel> {
  const json = JSON.parse(readFileSync(join(dir, MODEL_JSON), "utf8")) as ModelJson;
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers = json.weightsManifest
    .flatMap((g) => g.paths)
    .map((p) => {
      const b = readFileSync(join(dir, p));
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    });
  const weightData = tf.io.concatenateArrayBuffers(buffers);
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
  return { model, metadata: json.userDefinedMetadata ?? {} };
}
