// train-model's plan: the experiment and the datasets read and checked against each other, the classes
// fixed and the training loop's settings derived — all before TensorFlow starts, so a mismatch costs a
// second and one clear line, and the checks are tested without training anything.
import { checkName, openWorkspace, type Workspace } from "../../io/workspace.ts";
import { classVocabulary } from "../dataset/class-label.ts";
import { readDatasetArrays, renormalise, type DatasetArrays, type SplitArrays } from "../dataset/dataset-arrays.ts";
import { CimlError } from "../errors.ts";
import type { TrainModelOptions } from "../train-model.ts";
import { DNN, readExperiment, SVM, type Experiment } from "./experiment.ts";
import type { Head } from "./network.ts";
import type { LoopOptions } from "./training-loop.ts";

/** A split with each example's class as an index into the model's classes. */
interface LabelledSplit {
  name: string;
  set: SplitArrays;
  labels: Int32Array;
}

export interface TrainingPlan {
  ws: Workspace;
  datasetName: string;
  experimentName: string;
  experiment: Experiment;
  data: DatasetArrays;
  /** the model's classes: output i means classes[i] */
  classes: string[];
  training: LabelledSplit;
  dev?: LabelledSplit;
  test: LabelledSplit;
  /** the other datasets' test sets, moved into this dataset's normalisation */
  evalSets: LabelledSplit[];
  head: Head;
  hidden: number[];
  loop: LoopOptions;
  /** one line saying what is trained, for the start of the training stage */
  description: string;
}

const DEFAULT_SEED = 42;
/** contrib's SVM has no default penalty; with the SUM-reduced hinge loss this is ≈ sklearn's alpha 1e-4 at batch 128. */
const SVM_DEFAULT_L2 = 0.01;

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

/** Another dataset's test set, checked against the model's dataset and moved into its normalisation. */
async function evalSetFor(ws: Workspace, name: string, own: DatasetArrays): Promise<SplitArrays> {
  const other = await readDatasetArrays(ws, name, ["test"]);
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

export async function planTraining(options: TrainModelOptions, signal?: AbortSignal): Promise<TrainingPlan> {
  const datasetName = checkName("dataset", options.dataset);
  const experimentName = checkName("experiment", options.experiment);
  const ws = await openWorkspace(options.dataPath, options.s3, signal);
  const experiment = await readExperiment(ws, experimentName);
  const hp = experiment.hyper_params;

  const data = await readDatasetArrays(ws, datasetName, ["training", "dev", "test"]);
  const { training, dev, test } = data.splits;
  if (!training || training.n === 0)
    throw new CimlError(`dataset ${datasetName} has no training examples (training.npz); rebuild it with a larger --slicer or --tdt-split`);
  if (!test)
    throw new CimlError(
      `dataset ${datasetName} has no test set (test.npz) to evaluate on; rebuild it with a --tdt-split whose test part is not 0`,
    );
  // The dataset's own vocabulary if it saved one (ours always do); else the classes its training set has.
  const classes = data.config.classes.length
    ? data.config.classes.map(String)
    : classVocabulary(data.config.class_label, training.classes.map(String));
  if (classes.length < 2)
    throw new CimlError(`dataset ${datasetName}: every training example has class ${classes[0]}; a classifier needs at least two classes`);
  const labelled = (name: string, set: SplitArrays, where: string): LabelledSplit => ({
    name,
    set,
    labels: classIds(set, classes, where),
  });
  const trainingSplit = labelled(datasetName, training, `dataset ${datasetName} training set`);
  const testSplit = labelled(datasetName, test, `dataset ${datasetName} test set`);
  const devSplit = dev ? labelled("dev", dev, `dataset ${datasetName} dev set`) : undefined;
  const evalNames = [...new Set(options.evalDatasets ?? [])].filter((name) => name !== datasetName);
  const evalSets: LabelledSplit[] = [];
  for (const name of evalNames)
    evalSets.push(labelled(name, await evalSetFor(ws, checkName("dataset", name), data), `eval dataset ${name} test set`));

  const isSvm = experiment.estimator === SVM;
  const loop: LoopOptions = {
    batchSize: Number(hp.batch_size),
    epochs: Number(hp.epochs),
    maxSteps: hp.steps,
    l2: hp.l2 ?? (isSvm ? SVM_DEFAULT_L2 : 0),
    dropout: isSvm ? 0 : (hp.dropout ?? 0),
    classWeights: classWeights(experiment, classes, trainingSplit.labels),
    seed: hp.seed ?? DEFAULT_SEED,
    patience: hp.patience ?? 0,
  };
  return {
    ws,
    datasetName,
    experimentName,
    experiment,
    data,
    classes,
    training: trainingSplit,
    ...(devSplit ? { dev: devSplit } : {}),
    test: testSplit,
    evalSets,
    head: isSvm ? "hinge" : classes.length === 2 ? "sigmoid" : "softmax",
    hidden: isSvm ? [] : hp.hidden_units,
    loop,
    description: `${experiment.estimator === DNN ? `DNN ${hp.hidden_units.join("/")}` : "linear SVM"}, ${hp.optimizer} ${hp.learning_rate}, batch ${loop.batchSize}, ${loop.epochs} epochs, ≤${hp.steps} steps`,
  };
}
