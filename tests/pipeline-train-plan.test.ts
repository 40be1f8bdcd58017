// train-model's plan reads and checks everything before TensorFlow starts: these run without training.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CimlError } from "../src/pipeline/errors.ts";
import type { ExperimentFlags } from "../src/pipeline/model/experiment.ts";
import { planTraining } from "../src/pipeline/model/train-plan.ts";
import { setupExperiment } from "../src/pipeline/setup-experiment.ts";
import { writePlantedDataset } from "./helpers/planted-dataset.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-train-plan-"));
const base: ExperimentFlags = {
  estimator: "dnn",
  hiddenLayers: "8/4",
  steps: 1000,
  batchSize: 16,
  epochs: 3,
  optimizer: "Adam",
  learningRate: 0.01,
};
const experiment = (name: string, flags: Partial<ExperimentFlags>) =>
  setupExperiment(
    { ...base, ...flags, dataPath: root, experiment: name, force: true },
    { emit: () => undefined, signal: new AbortController().signal },
  );

beforeAll(async () => {
  await writePlantedDataset(root, "status", { seed: 3 });
  await writePlantedDataset(root, "providers", {
    seed: 4,
    classes: [
      { name: "ovh", share: 0.5 },
      { name: "rax", share: 0.5 },
    ],
  });
  await experiment("dnn", {});
  await experiment("svm", { estimator: "svm", optimizer: "SGD" });
  await experiment("weighted", { classWeights: "0=1,3=2" });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("planTraining", () => {
  test("a DNN on a binary dataset: sigmoid head, the experiment's layers and loop settings", async () => {
    const plan = await planTraining({ dataPath: root, dataset: "status", experiment: "dnn" });
    expect(plan.classes).toEqual(["0", "1"]);
    expect(plan.head).toBe("sigmoid");
    expect(plan.hidden).toEqual([8, 4]);
    expect(plan.loop).toMatchObject({ batchSize: 16, epochs: 3, maxSteps: 1000, l2: 0, seed: 42 });
    expect(plan.training.labels.length).toBe(plan.training.set.n);
    expect(plan.description).toBe("DNN 8/4, Adam 0.01, batch 16, 3 epochs, ≤1000 steps");
  });

  test("an SVM has no hidden layers, a hinge head and the default penalty", async () => {
    const plan = await planTraining({ dataPath: root, dataset: "status", experiment: "svm" });
    expect(plan.head).toBe("hinge");
    expect(plan.hidden).toEqual([]);
    expect(plan.loop.l2).toBe(0.01);
    expect(plan.loop.dropout).toBe(0);
  });

  test("an eval dataset with another class label is refused before anything is trained", async () => {
    await expect(planTraining({ dataPath: root, dataset: "status", experiment: "dnn", evalDatasets: ["providers"] })).rejects.toThrow(
      CimlError,
    );
    await expect(planTraining({ dataPath: root, dataset: "status", experiment: "dnn", evalDatasets: ["providers"] })).rejects.toThrow(
      /eval dataset providers has class label/,
    );
  });

  test("class weights naming a class the dataset does not have are refused", async () => {
    await expect(planTraining({ dataPath: root, dataset: "status", experiment: "weighted" })).rejects.toThrow(
      /class_weights names class "3", which is not one of 0, 1/,
    );
  });
});
