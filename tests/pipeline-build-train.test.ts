// The pieces meet: a raw cache → build-dataset → setup-experiment → train-model → the prediction path's
// loadTrainedModel + exampleFromTable on a run's own trace gives the class train-model predicted for it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDstatCsv } from "../src/io/dstat-csv.ts";
import { gunzip, readJsonGz } from "../src/io/gzip-json.ts";
import { Workspace } from "../src/io/workspace.ts";
import { buildDataset } from "../src/pipeline/build-dataset.ts";
import { readDatasetConfig } from "../src/pipeline/dataset/dataset-config.ts";
import { exampleFromTable } from "../src/pipeline/dataset/example-vector.ts";
import type { PipelineEvent } from "../src/pipeline/events.ts";
import { argmaxRows } from "../src/pipeline/model/metrics.ts";
import { setupExperiment } from "../src/pipeline/setup-experiment.ts";
import { trainModel } from "../src/pipeline/train-model.ts";
import { loadTrainedModel } from "../src/pipeline/model/trained-model.ts";
import { syntheticDstat, uuidFor, writeCache } from "./dataset-cache.ts";
import { disk } from "./helpers/disk.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-build-train-"));
const ctx = { emit: (_: PipelineEvent) => {}, signal: new AbortController().signal };
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  // Failed runs are shorter and busier, as in the real traces.
  const runs = Array.from({ length: 60 }, (_, i) => {
    const failed = i % 4 === 0;
    return {
      uuid: uuidFor(i),
      status: (failed ? 1 : 0) as 0 | 1,
      trace: syntheticDstat(failed ? 1800 + 20 * i : 3600 + 10 * i, i + 1, undefined, failed ? 45 : 10),
    };
  });
  await writeCache(root, "tempest-full", runs);
  await buildDataset(
    {
      dataPath: root,
      dataset: "usr_1m-1min-status",
      buildName: "tempest-full",
      slicer: ":",
      sampleInterval: "1min",
      featuresRegex: "(usr|1m)",
      classLabel: "status",
      tdtSplit: ["6", "2", "2"],
      force: false,
      visualize: false,
      dataPlotsFolder: root,
      aggregationFunctions: [],
      seed: 1,
      dtype: "float32",
    },
    ctx,
  );
  await setupExperiment(
    {
      dataPath: root,
      experiment: "dnn-3x10",
      estimator: "dnn",
      hiddenLayers: "10/10/10",
      steps: 1000,
      batchSize: 8,
      epochs: 30,
      optimizer: "Adagrad",
      learningRate: 0.05,
    },
    ctx,
  );
  await trainModel({ dataPath: root, dataset: "usr_1m-1min-status", experiment: "dnn-3x10" }, ctx);
  // Training on 2 shared cores can outlast bun's 5 s default for hooks.
}, 120_000);

test("a model trained on build-dataset's output predicts a run's trace like train-model predicted its dev row", async () => {
  const ws = new Workspace(root);
  const model = await loadTrainedModel(ws, "usr_1m-1min-status", "dnn-3x10");
  const config = await readDatasetConfig(ws, "usr_1m-1min-status");
  const rows = (await readJsonGz(disk, join(root, "usr_1m-1min-status", "dnn-3x10", "prediction_usr_1m-1min-status.json.gz"))) as [
    string,
    { probabilities: number[]; classes: string[] },
    number,
  ][];
  expect(rows.length).toBe(12);
  for (const [runUuid, prediction, actual] of rows) {
    const table = parseDstatCsv(new TextDecoder().decode(gunzip(readFileSync(join(root, ".raw", `${runUuid}.csv.gz`)))));
    const p = model.predict(exampleFromTable(table, config), 1);
    expect(Array.from(p)[1]).toBeCloseTo(prediction.probabilities[1]!, 5);
    expect(model.classes[argmaxRows(p, 2)[0]!]).toBe(prediction.classes[0]!);
    expect(typeof actual).toBe("number");
  }
  const m = (await readJsonGz(disk, join(root, "usr_1m-1min-status", "dnn-3x10", "eval_usr_1m-1min-status.json.gz"))) as Record<
    string,
    number
  >;
  expect(m.accuracy).toBeGreaterThanOrEqual(0.9);
});
