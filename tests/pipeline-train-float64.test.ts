// A dataset stored as float64 (`build-dataset --dtype float64`, and every dataset the original tool built)
// trains exactly like the same dataset stored as float32: the model sees the same float32 values.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJsonGz } from "../src/io/gzip-json.ts";
import { readNpz } from "../src/io/npy.ts";
import { Workspace } from "../src/io/workspace.ts";
import { setupExperiment } from "../src/pipeline/setup-experiment.ts";
import { trainModel } from "../src/pipeline/train-model.ts";
import { writePlantedDataset } from "./helpers/planted-dataset.ts";
import { disk } from "./helpers/disk.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-f64-"));
const ws = new Workspace(root);
const context = { emit: () => {}, signal: new AbortController().signal };
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("train-model on a float64 dataset gives the float32 dataset's model and metrics", async () => {
  await writePlantedDataset(root, "as-f4", { seed: 31 });
  await writePlantedDataset(root, "as-f8", { seed: 31, dtype: "<f8" });
  expect((await readNpz(disk, join(ws.datasetDir("as-f8"), "training.npz"))).examples!.dtype).toBe("<f8");
  await setupExperiment(
    {
      estimator: "dnn",
      hiddenLayers: "8",
      steps: 100000,
      batchSize: 32,
      epochs: 5,
      optimizer: "Adam",
      learningRate: 0.01,
      dataPath: root,
      experiment: "small",
    },
    context,
  );
  for (const dataset of ["as-f4", "as-f8"]) await trainModel({ dataPath: root, dataset, experiment: "small", evalDatasets: [] }, context);
  const metrics = async (dataset: string) =>
    (await readJsonGz(disk, join(ws.modelDir(dataset, "small"), `eval_${dataset}.json.gz`))) as Record<string, unknown>;
  const f4 = await metrics("as-f4");
  expect(f4.accuracy as number).toBeGreaterThan(f4.accuracy_baseline as number);
  expect(await metrics("as-f8")).toEqual(f4);
}, 120_000);
