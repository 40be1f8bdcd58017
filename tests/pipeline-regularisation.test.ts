// Dropout and L2 must reach the training loop: each changes the trained model in the way it should,
// compared with the same experiment trained without it (same data, same seed, so training is repeatable).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readNpz } from "../src/io/npy.ts";
import { Workspace } from "../src/io/workspace.ts";
import type { ExperimentFlags } from "../src/pipeline/model/experiment.ts";
import { loadTrainedModel } from "../src/pipeline/model/trained-model.ts";
import { setupExperiment } from "../src/pipeline/setup-experiment.ts";
import { trainModel } from "../src/pipeline/train-model.ts";
import { writePlantedDataset } from "./helpers/planted-dataset.ts";
import { disk } from "./helpers/disk.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-regularisation-"));
const ws = new Workspace(root);
const context = { emit: () => {}, signal: new AbortController().signal };
const base: ExperimentFlags = {
  estimator: "dnn",
  hiddenLayers: "16/16",
  steps: 100000,
  batchSize: 32,
  epochs: 8,
  optimizer: "Adam",
  learningRate: 0.01,
};

/** Dev-set probabilities of the class "1" after training `flags` on the planted dataset. */
async function trainAndPredict(name: string, flags: Partial<ExperimentFlags>): Promise<Float32Array> {
  await setupExperiment({ ...base, ...flags, dataPath: root, experiment: name, force: true }, context);
  await trainModel({ dataPath: root, dataset: "status", experiment: name, evalDatasets: [] }, context);
  const dev = await readNpz(disk, join(ws.datasetDir("status"), "dev.npz"));
  const examples = dev.examples!;
  const n = examples.shape[0]!;
  const model = await loadTrainedModel(ws, "status", name);
  const p = model.predict(Float32Array.from(examples.data as ArrayLike<number>), n);
  return Float32Array.from({ length: n }, (_, i) => p[i * 2 + 1]!);
}

const confidence = (p: Float32Array) => p.reduce((sum, x) => sum + Math.abs(x - 0.5), 0) / p.length;

let plain: Float32Array;
beforeAll(async () => {
  await writePlantedDataset(root, "status", { seed: 21 });
  plain = await trainAndPredict("plain", {});
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("training is repeatable: the same experiment twice gives the same model", async () => {
  const again = await trainAndPredict("plain-again", {});
  expect(Array.from(again)).toEqual(Array.from(plain));
}, 120_000);

test("dropout changes what is learnt", async () => {
  const dropped = await trainAndPredict("dropout", { dropout: 0.5 });
  const changed = dropped.filter((p, i) => Math.abs(p - plain[i]!) > 1e-4).length;
  expect(changed).toBeGreaterThan(plain.length / 2);
}, 120_000);

test("a strong L2 penalty shrinks the weights, so predictions are less confident", async () => {
  const shrunk = await trainAndPredict("l2", { l2: 2 });
  expect(confidence(shrunk)).toBeLessThan(confidence(plain) * 0.8);
}, 120_000);
