// `ciml train-model` (§8): train an experiment on a dataset, evaluate the test set and each --eval-dataset's
// test set, predict the dev set, write TensorBoard scalars and save the model beside them.
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeJsonGz } from "../io/gzip-json.ts";
import { EventFileWriter } from "../io/tensorboard.ts";
import { checkName, resolveDataPath, Workspace } from "../io/workspace.ts";
import { readDatasetArrays, renormalise, type DatasetArrays, type SplitArrays } from "./dataset/dataset-arrays.ts";
import type { ModelConfig } from "./dataset/dataset-config.ts";
import { CimlError } from "./errors.ts";
import type { JsonValue, Step } from "./events.ts";
import { DNN, readExperiment, SVM, type Experiment } from "./model/experiment.ts";
import { evaluate, type EvalMetrics, type Scored } from "./model/metrics.ts";
import { metricsReport } from "./model/metrics-report.ts";
import { Network, type Head } from "./model/network.ts";
import { createOptimizer } from "./model/optimizers.ts";
import { predictProbabilities, saveTrainedModel } from "./model/trained-model.ts";
import { initTf, tf, type BackendName } from "./model/tfjs-runtime.ts";
import { trainLoop, type Matrix } from "./model/training-loop.ts";

export interface TrainModelOptions {
  /** --data-path as given; resolved like every command's */
  dataPath?: string;
  dataset: string;
  experiment: string;
  evalDatasets?: string[];
  backend?: BackendName;
}

export interface TrainModelResult {
  modelDir: string;
  steps: number;
  epochs: number;
  seconds: number;
  /** eval metrics per evaluated dataset name (the model's own test set under the dataset's name) */
  evaluations: Record<string, EvalMetrics>;
}

const DEFAULT_SEED = 42;
/** contrib's SVM has no default penalty; with the SUM-reduced hinge loss this is ≈ sklearn's alpha 1e-4 at batch 128. */
const SVM_DEFAULT_L2 = 0.01;
const EVAL_BATCH = 4096;

/** Class names in a stable order: the dataset's own vocabulary if it saved one, else sorted (numerically when all are numbers). */
export function classVocabulary(config: ModelConfig, training: SplitArrays): string[] {
  if (config.classes.length) return config.classes.map(String);
  const names = [...new Set(training.classes.map(String))];
  const numeric = names.every((c) => c.trim() !== "" && Number.isFinite(Number(c)));
  return names.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
}

function classIds(split: SplitArrays, vocabulary: string[], where: string): Int32Array {
  const index = new Map(vocabulary.map((c, i) => [c, i]));
  return Int32Array.from(split.classes, (c) => {
    const id = index.get(String(c));
    if (id === undefined)
      throw new CimlError(
        `${where} has class "${c}", which the model's classes (${vocabulary.join(", ")}) do not include; rebuild the datasets with the same --class-label and runs of the same classes`,
      );
    return id;
  });
}

function classWeights(experiment: Experiment, vocabulary: string[], labels: Int32Array): Float32Array {
  const setting = experiment.hyper_params.class_weights;
  const weights = new Float32Array(vocabulary.length).fill(1);
  if (setting === "balanced") {
    const counts = new Array<number>(vocabulary.length).fill(0);
    for (const y of labels) counts[y]!++;
    counts.forEach((count, c) => (weights[c] = count ? labels.length / (vocabulary.length * count) : 1));
  } else if (setting) {
    for (const [label, w] of Object.entries(setting)) {
      const c = vocabulary.indexOf(label);
      if (c < 0)
        throw new CimlError(
          `class_weights names class "${label}", which is not one of ${vocabulary.join(", ")}; fix it with \`ciml setup-experiment --force --class-weights ...\``,
        );
      weights[c] = w;
    }
  }
  return weights;
}

/** Logits, probabilities and per-example losses of a whole split, a few thousand rows per call. */
function score(net: Network, data: Matrix, labels: Int32Array, classes: string[]): Scored & { logits: Float32Array } {
  const k = classes.length;
  const units = k === 2 ? 1 : k;
  const targets = net.targets(labels);
  const logits = new Float32Array(data.n * units);
  const probabilities = new Float32Array(data.n * k);
  const losses = new Float64Array(data.n);
  for (let start = 0; start < data.n; start += EVAL_BATCH) {
    const b = Math.min(EVAL_BATCH, data.n - start);
    const [z, p, l] = tf.tidy(() => {
      const z = net.logits(tf.tensor2d(data.x.subarray(start * data.features, (start + b) * data.features), [b, data.features]));
      return [z, net.probabilities(z), net.exampleLosses(z, tf.tensor2d(targets.subarray(start * units, (start + b) * units), [b, units]))];
    });
    logits.set(z.dataSync(), start * units);
    probabilities.set(p.dataSync(), start * k);
    losses.set(l.dataSync(), start);
    tf.dispose([z, p, l]);
  }
  return { logits, probabilities, losses, labels, classes };
}

/** §8.7: [example_id, {logits, logistic (binary), probabilities, class_ids, classes}, actual_class] per dev example. */
function predictionRecords(split: SplitArrays, s: ReturnType<typeof score>): JsonValue[] {
  const k = s.classes.length;
  const units = k === 2 ? 1 : k;
  return split.ids.map((id, i) => {
    const probabilities = Array.from(s.probabilities.subarray(i * k, (i + 1) * k));
    const classId = probabilities.indexOf(Math.max(...probabilities));
    const prediction: Record<string, JsonValue> = { logits: Array.from(s.logits.subarray(i * units, (i + 1) * units)) };
    if (k === 2) prediction.logistic = [probabilities[1]!];
    Object.assign(prediction, { probabilities, class_ids: [classId], classes: [s.classes[classId]!] });
    return [id, prediction, split.classes[i]!];
  });
}

function numericMetrics(m: EvalMetrics): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => typeof e[1] === "number"));
}

/** Another dataset's test set, checked against the model's dataset and moved into its normalisation. */
function evalSetFor(ws: Workspace, name: string, own: DatasetArrays): SplitArrays {
  const other = readDatasetArrays(ws, name, ["test"]);
  const test = other.splits.test;
  if (!test) throw new CimlError(`eval dataset ${name} has no test set (test.npz); rebuild it with a --tdt-split whose test part is not 0`);
  if (other.config.class_label !== own.config.class_label) {
    throw new CimlError(
      `eval dataset ${name} has class label "${other.config.class_label}" but the model's dataset ${own.name} has "${own.config.class_label}"; evaluate datasets built with the same --class-label`,
    );
  }
  if (other.labels.length !== own.labels.length || other.labels.some((l, i) => l !== own.labels[i])) {
    throw new CimlError(
      `eval dataset ${name} has ${other.labels.length} features that differ from the ${own.labels.length} the model takes (dataset ${own.name}); build it with the same --features-regex, --sample-interval and aggregation`,
    );
  }
  return { ...test, x: renormalise(test.x, own.labels, other.config, own.config) };
}

function clearOldEvents(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return;
  }
  for (const name of names) if (/(^|\/)events\.out\.tfevents\./.test(name)) rmSync(join(dir, name), { force: true });
}

export const trainModel: Step<TrainModelOptions, TrainModelResult> = async (options, { emit, signal }) => {
  const ws = new Workspace(resolveDataPath(options.dataPath));
  const datasetName = checkName("dataset", options.dataset);
  const experimentName = checkName("experiment", options.experiment);
  const experiment = readExperiment(ws, experimentName);
  const hp = experiment.hyper_params;

  emit({ type: "stage", stage: "load", state: "started", detail: `dataset ${datasetName}` });
  const data = readDatasetArrays(ws, datasetName, ["training", "dev", "test"]);
  const { training, dev, test } = data.splits;
  if (!training || training.n === 0)
    throw new CimlError(`dataset ${datasetName} has no training examples (training.npz); rebuild it with a larger --slicer or --tdt-split`);
  if (!test)
    throw new CimlError(
      `dataset ${datasetName} has no test set (test.npz) to evaluate on; rebuild it with a --tdt-split whose test part is not 0`,
    );
  emit({ type: "info", message: `Training data shape: (${training.n}, ${training.features})` });
  const classes = classVocabulary(data.config, training);
  if (classes.length < 2)
    throw new CimlError(`dataset ${datasetName}: every training example has class ${classes[0]}; a classifier needs at least two classes`);
  const trainLabels = classIds(training, classes, `dataset ${datasetName} training set`);
  const testLabels = classIds(test, classes, `dataset ${datasetName} test set`);
  const devLabels = dev ? classIds(dev, classes, `dataset ${datasetName} dev set`) : undefined;
  const evalNames = [...new Set(options.evalDatasets ?? [])].filter((name) => name !== datasetName);
  const evalSets = evalNames.map((name) => {
    const set = evalSetFor(ws, checkName("dataset", name), data);
    return { name, set, labels: classIds(set, classes, `eval dataset ${name} test set`) };
  });
  emit({ type: "stage", stage: "load", state: "finished" });

  const runtime = await initTf(options.backend ?? "wasm");
  emit({
    type: "info",
    message: `tfjs ${runtime.tfjsVersion} on ${runtime.backend}${runtime.wasmFlavour ? ` (${runtime.wasmFlavour})` : ""}`,
  });
  const isSvm = experiment.estimator === SVM;
  const head: Head = isSvm ? "hinge" : classes.length === 2 ? "sigmoid" : "softmax";
  const seed = hp.seed ?? DEFAULT_SEED;
  const loopOptions = {
    batchSize: Number(hp.batch_size),
    epochs: Number(hp.epochs),
    maxSteps: hp.steps,
    l2: hp.l2 ?? (isSvm ? SVM_DEFAULT_L2 : 0),
    dropout: isSvm ? 0 : (hp.dropout ?? 0),
    classWeights: classWeights(experiment, classes, trainLabels),
    seed,
    patience: hp.patience ?? 0,
  };
  const net = new Network({ inputs: training.features, hidden: isSvm ? [] : hp.hidden_units, classes: classes.length, head }, seed);
  const optimizer = createOptimizer(hp.optimizer, hp.learning_rate, net.variables);
  const modelDir = ws.modelDir(datasetName, experimentName);
  clearOldEvents(modelDir);
  const writers = {
    train: new EventFileWriter(modelDir),
    dev: dev ? new EventFileWriter(join(modelDir, "eval_dev")) : undefined,
    test: new EventFileWriter(join(modelDir, `eval_${datasetName}`)),
  };
  try {
    if (loopOptions.patience > 0 && !dev)
      emit({
        type: "warning",
        message: `patience ${loopOptions.patience} needs a dev set to watch; dataset ${datasetName} has none, so training runs to the end`,
      });
    emit({
      type: "stage",
      stage: "train",
      state: "started",
      detail: `${experiment.estimator === DNN ? `DNN ${hp.hidden_units.join("/")}` : "linear SVM"}, ${hp.optimizer} ${hp.learning_rate}, batch ${loopOptions.batchSize}, ${loopOptions.epochs} epochs, ≤${hp.steps} steps`,
    });
    const monitor = (_epoch: number, step: number, train: { loss: number; accuracy: number }) => {
      writers.train.scalars(step, { loss: train.loss, accuracy: train.accuracy });
      const out: Record<string, number> = {};
      for (const [name, split, labels, writer] of [
        ["dev", dev, devLabels, writers.dev],
        ["test", test, testLabels, writers.test],
      ] as const) {
        if (!split || !labels || !writer || split.n === 0) continue;
        const m = evaluate(score(net, split, labels, classes), step);
        const scalars = {
          loss: m.average_loss as number,
          accuracy: m.accuracy as number,
          ...(typeof m.auc === "number" ? { auc: m.auc } : {}),
        };
        writer.scalars(step, scalars);
        for (const [k, v] of Object.entries(scalars)) out[`${name}/${k}`] = v;
      }
      return out;
    };
    const loop = await trainLoop(net, optimizer, { ...training, labels: trainLabels }, loopOptions, monitor, emit, signal);
    if (loop.stoppedEarly)
      emit({
        type: "info",
        message: `stopped after epoch ${loop.epochs}: no better dev loss for ${loopOptions.patience} epochs; kept the weights of epoch ${loop.keptEpoch}`,
      });
    emit({
      type: "stage",
      stage: "train",
      state: "finished",
      detail: `${loop.steps} steps, ${loop.epochs} epochs in ${loop.seconds.toFixed(1)} s`,
    });

    // The model first, then what describes it: a crash in between leaves the previous model with its own
    // evaluation, never an evaluation of a model that was not saved.
    const mean = data.labels.map((l) => data.config.normalization_params[l]?.[0] ?? 0);
    const range = data.labels.map((l) => data.config.normalization_params[l]?.[1] ?? 1);
    const saved = net.toLayersModel();
    try {
      await saveTrainedModel(modelDir, saved, {
        estimator: experiment.estimator,
        dataset: datasetName,
        experiment: experimentName,
        class_label: data.config.class_label,
        classes,
        global_step: loop.steps,
        features: data.labels,
        normalization_mean: mean,
        normalization_range: range,
      });
      if (dev && devLabels && dev.n > 0) {
        // Probabilities from the saved model itself, so this file shows exactly what the prediction path will say.
        const probabilities = await predictProbabilities(saved, dev.x, dev.n, dev.features, classes.length);
        writeJsonGz(
          join(modelDir, `prediction_${datasetName}.json.gz`),
          predictionRecords(dev, { ...score(net, dev, devLabels, classes), probabilities }),
        );
      } else {
        emit({ type: "warning", message: `dataset ${datasetName} has no dev set, so no prediction_${datasetName}.json.gz was written` });
      }
    } finally {
      saved.dispose();
    }
    emit({ type: "stage", stage: "evaluate", state: "started" });
    const evaluations: Record<string, EvalMetrics> = {};
    for (const { name, set, labels } of [{ name: datasetName, set: test, labels: testLabels }, ...evalSets]) {
      emit({ type: "info", message: `Evaluation data shape: (${set.n}, ${set.features})` });
      const metrics = evaluate(score(net, set, labels, classes), loop.steps);
      writeJsonGz(join(modelDir, `eval_${name}.json.gz`), metrics);
      if (name !== datasetName) {
        const writer = new EventFileWriter(join(modelDir, `eval_${name}`));
        writer.scalars(loop.steps, numericMetrics(metrics));
        writer.close();
      }
      emit({ type: "info", message: `Training eval data for ${name}: ${JSON.stringify(numericMetrics(metrics))}` });
      evaluations[name] = metrics;
    }
    emit({ type: "stage", stage: "evaluate", state: "finished" });

    const own = evaluations[datasetName]!;
    emit({
      type: "result",
      stage: "train-model",
      summary: {
        dataset: datasetName,
        experiment: experimentName,
        estimator: experiment.estimator,
        steps: loop.steps,
        epochs: loop.epochs,
        seconds: Number(loop.seconds.toFixed(2)),
        ...numericMetrics(own),
        model: modelDir,
      },
      lines: Object.entries(evaluations).flatMap(([name, m]) => metricsReport(`test set of ${name}`, m)),
    });
    return { modelDir, steps: loop.steps, epochs: loop.epochs, seconds: loop.seconds, evaluations };
  } finally {
    writers.train.close();
    writers.dev?.close();
    writers.test.close();
    optimizer.dispose();
    net.dispose();
  }
};
