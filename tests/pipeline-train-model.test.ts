import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJsonGz } from "../src/io/gzip-json.ts";
import { readNpz } from "../src/io/npy.ts";
import { Workspace } from "../src/io/workspace.ts";
import type { EpochEvent, PipelineEvent } from "../src/pipeline/events.ts";
import type { ExperimentFlags } from "../src/pipeline/model/experiment.ts";
import { argmaxRows } from "../src/pipeline/model/metrics.ts";
import { setupExperiment } from "../src/pipeline/setup-experiment.ts";
import { trainModel, type TrainModelResult } from "../src/pipeline/train-model.ts";
import { loadTrainedModel } from "../src/pipeline/model/trained-model.ts";
import { writePlantedDataset } from "./helpers/planted-dataset.ts";
import { readEventFile } from "./helpers/tfevents-reader.ts";
import { disk } from "./helpers/disk.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-train-"));
const ws = new Workspace(root);
const PROVIDERS = [
  { name: "ovh", share: 0.3 },
  { name: "rax", share: 0.5 },
  { name: "vexxhost", share: 0.2 },
];

async function run<O, R>(step: (o: O, c: { emit: (e: PipelineEvent) => void; signal: AbortSignal }) => Promise<R>, options: O) {
  const events: PipelineEvent[] = [];
  const result = await step(options, { emit: (e) => events.push(e), signal: new AbortController().signal });
  return { result, events };
}

const base: ExperimentFlags = {
  estimator: "dnn",
  hiddenLayers: "10/10/10",
  steps: 100000,
  batchSize: 32,
  epochs: 15,
  optimizer: "Adagrad",
  learningRate: 0.05,
};
async function experiment(name: string, flags: Partial<ExperimentFlags>) {
  await run(setupExperiment, { ...base, ...flags, dataPath: root, experiment: name, force: true });
}
const train = (dataset: string, experimentName: string, evalDatasets: string[] = []) =>
  run(trainModel, { dataPath: root, dataset, experiment: experimentName, evalDatasets });

let dnn: { result: TrainModelResult; events: PipelineEvent[] };

beforeAll(async () => {
  await writePlantedDataset(root, "status", { seed: 11 });
  // Same raw test examples as "status" (same seed and test size), but normalised with other training statistics.
  await writePlantedDataset(root, "status-other-norm", { seed: 11, sizes: { training: 150, dev: 150, test: 200 } });
  await writePlantedDataset(root, "providers", { seed: 12, classes: PROVIDERS });
  await experiment("dnn", {});
  await experiment("svm", { estimator: "svm", optimizer: "SGD", learningRate: 0.01, epochs: 20 });
  dnn = await train("status", "dnn", ["status-other-norm"]);
  // Training on 2 shared cores can outlast bun's 5 s default for hooks.
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function evalJson(dataset: string, exp: string, name = dataset) {
  return (await readJsonGz(disk, join(ws.modelDir(dataset, exp), `eval_${name}.json.gz`))) as Record<
    string,
    number | number[][] | string[]
  >;
}

describe("train-model learns a planted signal", () => {
  test("DNN (binary, sigmoid head) beats the majority baseline by a wide margin", async () => {
    const m = await evalJson("status", "dnn");
    expect(m.accuracy_baseline as number).toBeGreaterThan(0.6);
    expect(m.accuracy as number).toBeGreaterThan((m.accuracy_baseline as number) + 0.15);
    expect(m.auc as number).toBeGreaterThan(0.9);
  });

  test("linear SVM (binary, hinge) beats the majority baseline by a wide margin", async () => {
    await train("status", "svm");
    const m = await evalJson("status", "svm");
    expect(m.accuracy as number).toBeGreaterThan((m.accuracy_baseline as number) + 0.15);
  });

  test("multi-class: softmax DNN and one-vs-rest SVM both beat the baseline", async () => {
    for (const exp of ["dnn", "svm"]) {
      await train("providers", exp);
      const m = await evalJson("providers", exp);
      expect(m.classes).toEqual(["ovh", "rax", "vexxhost"]);
      expect(m.accuracy as number).toBeGreaterThan((m.accuracy_baseline as number) + 0.2);
      expect(Object.keys(m.per_class as object)).toEqual(["ovh", "rax", "vexxhost"]);
    }
  });

  test("the same seed trains the same model", async () => {
    const before = await evalJson("status", "dnn");
    await train("status", "dnn", ["status-other-norm"]);
    expect(await evalJson("status", "dnn")).toEqual(before);
  });
});

describe("train-model outputs", () => {
  test("eval JSON has the keys of the original plus f1 and the confusion matrix", async () => {
    const m = await evalJson("status", "dnn");
    const original = [
      "accuracy",
      "accuracy_baseline",
      "auc",
      "auc_precision_recall",
      "average_loss",
      "label/mean",
      "loss",
      "precision",
      "prediction/mean",
      "recall",
      "global_step",
    ];
    expect(Object.keys(m).sort()).toEqual([...original, "f1", "confusion_matrix", "classes"].sort());
    const cm = m.confusion_matrix as number[][];
    expect(cm.flat().reduce((a, b) => a + b, 0)).toBe(200);
    expect((cm[0]![0]! + cm[1]![1]!) / 200).toBeCloseTo(m.accuracy as number, 12);
    expect(m.loss as number).toBeCloseTo((m.average_loss as number) * 200, 6);
    expect(m.global_step).toBe(dnn.result.steps);
    expect(dnn.result.steps).toBe(15 * Math.ceil(600 / 32));
  });

  test("steps cap training before the epochs run out", async () => {
    await experiment("capped", { steps: 25, epochs: 100 });
    const { result } = await train("status", "capped");
    expect(result.steps).toBe(25);
    expect(result.epochs).toBe(2);
  });

  test("dev predictions are [id, {logits, logistic, probabilities, class_ids, classes}, actual] triples", async () => {
    const rows = (await readJsonGz(disk, join(ws.modelDir("status", "dnn"), "prediction_status.json.gz"))) as [
      string,
      Record<string, number[] | string[]>,
      number,
    ][];
    const dev = await readNpz(disk, ws.datasetFile("status", "dev.npz"));
    expect(rows).toHaveLength(150);
    expect(rows.map((r) => r[0])).toEqual(dev.example_ids!.data as string[]);
    expect(rows.map((r) => r[2])).toEqual(Array.from(dev.classes!.data as BigInt64Array, Number));
    for (const [, p] of rows) {
      expect(Object.keys(p)).toEqual(["logits", "logistic", "probabilities", "class_ids", "classes"]);
      const [p0, p1] = p.probabilities as number[];
      expect(p0! + p1!).toBeCloseTo(1, 6);
      expect(p.logistic![0]).toBe(p1!);
      expect(p.classes).toEqual([String(p.class_ids![0])]);
      expect(p.class_ids![0]).toBe(p1! > p0! ? 1 : 0);
      expect(1 / (1 + Math.exp(-(p.logits![0] as number)))).toBeCloseTo(p1!, 5);
    }
  });

  test("TensorBoard files hold per-epoch train loss/accuracy and dev/test scalars at the right steps", async () => {
    const dir = ws.modelDir("status", "dnn");
    const file = (sub: string) => join(dir, sub, readdirSync(join(dir, sub)).find((f) => f.startsWith("events.out.tfevents."))!);
    const epochs = dnn.events.filter((e): e is EpochEvent => e.type === "epoch");
    expect(epochs).toHaveLength(15);
    const trainEvents = readEventFile(file("")).slice(1);
    expect(trainEvents.map((e) => e.step)).toEqual(epochs.map((e) => e.step));
    trainEvents.forEach((e, i) => {
      expect(e.scalars.loss).toBeCloseTo(epochs[i]!.metrics.loss!, 5);
      expect(e.scalars.accuracy).toBeCloseTo(epochs[i]!.metrics.accuracy!, 6);
    });
    const devEvents = readEventFile(file("eval_dev")).slice(1);
    expect(devEvents.map((e) => e.scalars.accuracy)).toEqual(epochs.map((e) => Math.fround(e.metrics["dev/accuracy"]!)));
    const testEvents = readEventFile(file("eval_status")).slice(1);
    expect(testEvents.at(-1)!.scalars.accuracy).toBe(Math.fround((await evalJson("status", "dnn")).accuracy as number));
    // One file per run: retraining replaced the earlier run's events instead of mixing two runs' curves.
    expect(readdirSync(dir).filter((f) => f.startsWith("events.out"))).toHaveLength(1);
  });
});

describe("the saved model", () => {
  test("save → load → predict gives the probabilities train-model wrote for the dev set, bit for bit", async () => {
    const model = await loadTrainedModel(ws, "status", "dnn");
    const dev = (await readNpz(disk, ws.datasetFile("status", "dev.npz"))).examples!;
    const probabilities = model.predict(dev.data as Float32Array, 150);
    const rows = (await readJsonGz(disk, join(ws.modelDir("status", "dnn"), "prediction_status.json.gz"))) as [
      string,
      { probabilities: number[] },
      number,
    ][];
    expect(Array.from(probabilities)).toEqual(rows.flatMap((r) => r[1].probabilities));
  });

  test("a model trained in this process predicts the same classes in another process", async () => {
    for (const dataset of ["status", "providers"]) {
      const model = await loadTrainedModel(ws, dataset, "dnn");
      const test = (await readNpz(disk, ws.datasetFile(dataset, "test.npz"))).examples!;
      const here = Array.from(
        argmaxRows(model.predict(test.data as Float32Array, test.shape[0]!), model.classes.length),
        (i) => model.classes[i],
      );
      const p = Bun.spawnSync([process.execPath, join(import.meta.dir, "helpers/predict-classes.ts"), root, dataset, "dnn"]);
      expect(p.exitCode).toBe(0);
      expect(JSON.parse(p.stdout.toString())).toEqual(here);
      expect(new Set(here).size).toBeGreaterThan(1);
    }
  });

  test("model.json carries the vocabulary and the dataset's normalisation", async () => {
    const json = JSON.parse(await Bun.file(join(ws.modelDir("providers", "dnn"), "model.json")).text());
    expect(json.format).toBe("layers-model");
    expect(json.weightsManifest[0].paths).toEqual([expect.stringMatching(/^weights-[0-9a-f]{16}\.bin$/)]);
    const meta = json.userDefinedMetadata.ciml;
    expect(meta.classes).toEqual(["ovh", "rax", "vexxhost"]);
    const config = (await readJsonGz(disk, ws.datasetFile("providers", "model_config.json.gz"))) as {
      labels: string[];
      normalization_params: Record<string, [number, number]>;
    };
    expect(meta.features).toEqual(config.labels);
    expect(meta.normalization_mean).toEqual(config.labels.map((l) => config.normalization_params[l]![0]));
  });
});

describe("--eval-dataset", () => {
  test("another dataset's test set is put into the model's normalisation before it is scored (a fix of the original)", async () => {
    const own = await evalJson("status", "dnn");
    const other = await evalJson("status", "dnn", "status-other-norm");
    // Same raw runs, different normalisation: once re-expressed in the model's terms they score the same.
    expect(other.confusion_matrix).toEqual(own.confusion_matrix);
    expect(other.average_loss as number).toBeCloseTo(own.average_loss as number, 4);
    expect(existsSync(join(ws.modelDir("status", "dnn"), "eval_status-other-norm"))).toBe(true);
    // …which is not what the file's own normalisation would give: the datasets really differ.
    const a = (await readJsonGz(disk, ws.datasetFile("status", "model_config.json.gz"))) as {
      normalization_params: Record<string, number[]>;
    };
    const b = (await readJsonGz(disk, ws.datasetFile("status-other-norm", "model_config.json.gz"))) as {
      normalization_params: Record<string, number[]>;
    };
    expect(b.normalization_params.usr0).not.toEqual(a.normalization_params.usr0);
  });
});

describe("datasets without a dev set (--tdt-split 7 0 3)", () => {
  test("train and evaluate, warn that there are no dev predictions instead of crashing (a fix of the original)", async () => {
    await writePlantedDataset(root, "no-dev", { seed: 21, sizes: { training: 400, dev: 0, test: 200 } });
    await experiment("watchful", { patience: 2 });
    const { events } = await train("no-dev", "watchful");
    const warnings = events.filter((e) => e.type === "warning").map((e) => (e as { message: string }).message);
    expect(warnings).toContain("patience 2 needs a dev set to watch; dataset no-dev has none, so training runs to the end");
    expect(warnings).toContain("dataset no-dev has no dev set, so no prediction_no-dev.json.gz was written");
    const m = await evalJson("no-dev", "watchful");
    expect(m.accuracy as number).toBeGreaterThan((m.accuracy_baseline as number) + 0.15);
    expect(existsSync(join(ws.modelDir("no-dev", "watchful"), "eval_dev"))).toBe(false);
  });
});

describe("interruption", () => {
  test("an abort during training stops at the next batch and writes no model, eval or predictions", async () => {
    await experiment("long", { epochs: 500 });
    const controller = new AbortController();
    const events: PipelineEvent[] = [];
    const emit = (e: PipelineEvent) => {
      events.push(e);
      if (e.type === "epoch" && e.epoch === 2) controller.abort();
    };
    await expect(
      trainModel({ dataPath: root, dataset: "status", experiment: "long" }, { emit, signal: controller.signal }),
    ).rejects.toThrow("interrupted");
    const dir = ws.modelDir("status", "long");
    for (const f of ["model.json", "eval_status.json.gz", "prediction_status.json.gz"]) expect(existsSync(join(dir, f))).toBe(false);
    expect(existsSync(dir) ? readdirSync(dir).filter((f) => f.includes("weights")) : []).toEqual([]);
    expect(events.filter((e) => e.type === "epoch")).toHaveLength(2);
  });
});

describe("extra hyper-parameters", () => {
  test("patience stops when the dev loss stops improving and keeps the best epoch's weights", async () => {
    await experiment("patient", { epochs: 300, patience: 2, optimizer: "Adam", learningRate: 0.01 });
    const { result, events } = await train("status", "patient");
    expect(result.epochs).toBeLessThan(300);
    const stop = events.find((e) => e.type === "info" && e.message.startsWith("stopped after epoch"));
    expect(stop).toBeDefined();
    const epochs = events.filter((e): e is EpochEvent => e.type === "epoch");
    const best = Math.min(...epochs.map((e) => e.metrics["dev/loss"]!));
    const kept = epochs.find((e) => e.metrics["dev/loss"] === best)!;
    expect((stop as { message: string }).message).toContain(`kept the weights of epoch ${kept.epoch}`);
    expect((await evalJson("status", "patient")).accuracy).toBe(kept.metrics["test/accuracy"]!);
  });

  test("balanced class weights raise the recall of the rarer class; dropout and l2 train", async () => {
    await experiment("plain-svm", { estimator: "svm", epochs: 5 });
    await experiment("weighted-svm", { estimator: "svm", epochs: 5, classWeights: "balanced" });
    await train("status", "plain-svm");
    await train("status", "weighted-svm");
    expect((await evalJson("status", "weighted-svm")).recall as number).toBeGreaterThan(
      (await evalJson("status", "plain-svm")).recall as number,
    );
    await experiment("regularised", { dropout: 0.2, l2: 0.001 });
    await train("status", "regularised");
    const m = await evalJson("status", "regularised");
    expect(m.accuracy as number).toBeGreaterThan((m.accuracy_baseline as number) + 0.15);
  });
});
