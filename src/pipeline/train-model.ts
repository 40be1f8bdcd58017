// `ciml train-model`: train an experiment on a dataset, evaluate the test set and each --eval-dataset's
// test set, predict the dev set, write TensorBoard scalars and save the model beside them. The step is
// plan (model/train-plan.ts: everything read and checked before TensorFlow starts), do (this file: the
// network trained, evaluated and saved) and report (model/train-report.ts).
import { writeJsonGz } from "../io/gzip-json.ts";
import { EventFileWriter } from "../io/tensorboard.ts";
import type { S3Access } from "../io/workspace/s3-settings.ts";
import { type Store, within } from "../io/workspace/store.ts";
import type { Step } from "./events.ts";
import { evaluate, type EvalMetrics } from "./model/metrics.ts";
import { Network } from "./model/network.ts";
import { createOptimizer } from "./model/optimizers.ts";
import { score } from "./model/score.ts";
import { initTf, type BackendName } from "./model/tfjs-runtime.ts";
import { planTraining } from "./model/train-plan.ts";
import { numericMetrics, predictionRecords, trainResultEvent } from "./model/train-report.ts";
import { predictProbabilities, saveTrainedModel } from "./model/trained-model.ts";
import { trainLoop } from "./model/training-loop.ts";

export interface TrainModelOptions {
  /** --data-path as given; resolved like every command's */
  dataPath?: string;
  /** how to reach an s3:// data path */
  s3?: S3Access;
  dataset: string;
  experiment: string;
  evalDatasets?: string[];
  backend?: BackendName;
}

/** What a command-line user gets without the flag; the one place these defaults are written. */
export const TRAIN_MODEL_DEFAULTS = { dataset: "dataset", experiment: "experiment", backend: "wasm" } satisfies TrainModelOptions;

export interface TrainModelResult {
  modelDir: string;
  steps: number;
  epochs: number;
  seconds: number;
  /** eval metrics per evaluated dataset name (the model's own test set under the dataset's name) */
  evaluations: Record<string, EvalMetrics>;
}

async function clearOldEvents(store: Store, dir: string): Promise<void> {
  for (const name of await store.list(dir)) if (/(^|\/)events\.out\.tfevents\./.test(name)) await store.remove(within(dir, name));
}

export const trainModel: Step<TrainModelOptions, TrainModelResult> = async (options, { emit, signal }) => {
  emit({ type: "stage", stage: "load", state: "started", detail: `dataset ${options.dataset}` });
  const plan = await planTraining(options, signal);
  const { datasetName, experiment, classes, training, dev, test, loop: loopOptions } = plan;
  const hp = experiment.hyper_params;
  emit({ type: "info", message: `Training data shape: (${training.set.n}, ${training.set.features})` });
  emit({ type: "stage", stage: "load", state: "finished" });

  const runtime = await initTf(options.backend ?? "wasm");
  emit({
    type: "info",
    message: `tfjs ${runtime.tfjsVersion} on ${runtime.backend}${runtime.wasmFlavour ? ` (${runtime.wasmFlavour})` : ""}`,
  });
  const net = new Network(
    { inputs: training.set.features, hidden: plan.hidden, classes: classes.length, head: plan.head },
    loopOptions.seed,
  );
  const optimizer = createOptimizer(hp.optimizer, hp.learning_rate);
  const modelDir = plan.ws.modelDir(datasetName, plan.experimentName);
  const { store } = plan.ws;
  await clearOldEvents(store, modelDir);
  const writers = {
    train: new EventFileWriter(store, modelDir),
    dev: dev ? new EventFileWriter(store, within(modelDir, "eval_dev")) : undefined,
    test: new EventFileWriter(store, within(modelDir, `eval_${datasetName}`)),
  };
  try {
    if (loopOptions.patience > 0 && !dev)
      emit({
        type: "warning",
        message: `patience ${loopOptions.patience} needs a dev set to watch; dataset ${datasetName} has none, so training runs to the end`,
      });
    emit({ type: "stage", stage: "train", state: "started", training: true, detail: plan.description });
    const monitor = (_epoch: number, step: number, train: { loss: number; accuracy: number }) => {
      writers.train.scalars(step, { loss: train.loss, accuracy: train.accuracy });
      const out: Record<string, number> = {};
      for (const [name, split, writer] of [
        ["dev", dev, writers.dev],
        ["test", test, writers.test],
      ] as const) {
        if (!split || !writer || split.set.n === 0) continue;
        const m = evaluate(score(net, split.set, split.labels, classes), step);
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
    const loop = await trainLoop(net, optimizer, { ...training.set, labels: training.labels }, loopOptions, monitor, emit, signal);
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
    const { data } = plan;
    const mean = data.labels.map((l) => data.config.normalization_params[l]?.[0] ?? 0);
    const range = data.labels.map((l) => data.config.normalization_params[l]?.[1] ?? 1);
    const saved = net.toLayersModel();
    try {
      await saveTrainedModel(store, modelDir, saved, {
        estimator: experiment.estimator,
        dataset: datasetName,
        experiment: plan.experimentName,
        class_label: data.config.class_label,
        classes,
        global_step: loop.steps,
        features: data.labels,
        normalization_mean: mean,
        normalization_range: range,
      });
      if (dev && dev.set.n > 0) {
        // Probabilities from the saved model itself, so this file shows exactly what the prediction path will say.
        const probabilities = await predictProbabilities(saved, dev.set.x, dev.set.n, dev.set.features, classes.length);
        await writeJsonGz(
          store,
          within(modelDir, `prediction_${datasetName}.json.gz`),
          predictionRecords(dev.set, { ...score(net, dev.set, dev.labels, classes), probabilities }),
        );
      } else {
        emit({ type: "warning", message: `dataset ${datasetName} has no dev set, so no prediction_${datasetName}.json.gz was written` });
      }
    } finally {
      saved.dispose();
    }
    emit({ type: "stage", stage: "evaluate", state: "started" });
    const evaluations: Record<string, EvalMetrics> = {};
    for (const { name, set, labels } of [test, ...plan.evalSets]) {
      emit({ type: "info", message: `Evaluation data shape: (${set.n}, ${set.features})` });
      const metrics = evaluate(score(net, set, labels, classes), loop.steps);
      await writeJsonGz(store, within(modelDir, `eval_${name}.json.gz`), metrics);
      if (name !== datasetName) {
        const writer = new EventFileWriter(store, within(modelDir, `eval_${name}`));
        writer.scalars(loop.steps, numericMetrics(metrics));
        await writer.close();
      }
      emit({ type: "info", message: `Training eval data for ${name}: ${JSON.stringify(numericMetrics(metrics))}` });
      evaluations[name] = metrics;
    }
    emit({ type: "stage", stage: "evaluate", state: "finished" });

    emit(trainResultEvent(plan, loop, evaluations, modelDir));
    return { modelDir, steps: loop.steps, epochs: loop.epochs, seconds: loop.seconds, evaluations };
  } finally {
    await Promise.all([writers.train.close(), writers.dev?.close(), writers.test.close()]);
    net.dispose();
  }
};
