// An experiment names a model and its hyper-parameters, as in the original. The file keeps the original's JSON shape —
// `batch_size` and `epochs` as strings, `params` empty — so experiments written by the Python tool load here
// and ours load there; the hyper-parameters we added are optional keys that old files simply lack.
import { z } from "zod";
import { readJsonGz, writeJsonGz } from "../../io/gzip-json.ts";
import type { Workspace } from "../../io/workspace.ts";
import { StoreError } from "../../io/workspace/store.ts";
import { CimlError, UsageError } from "../errors.ts";
import type { JsonValue } from "../events.ts";
import { wholeNumber } from "../whole-number.ts";

export const DNN = "tf.estimator.DNNClassifier";
export const SVM = "tf.contrib.learn.SVM";
type EstimatorName = typeof DNN | typeof SVM;
const SHORT_ESTIMATORS: Record<string, EstimatorName> = { dnn: DNN, svm: SVM };

const OPTIMIZERS = ["Adagrad", "Adam", "Ftrl", "RMSProp", "SGD", "ProximalAdagrad"] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** "balanced" weighs each class by n / (classes × count); a map gives a weight per class label. */
type ClassWeights = "balanced" | Record<string, number>;

interface HyperParams {
  steps: number;
  batch_size: string;
  epochs: string;
  hidden_units: number[];
  optimizer: OptimizerName;
  learning_rate: number;
  dropout?: number;
  l2?: number;
  class_weights?: ClassWeights;
  patience?: number;
  seed?: number;
}

export interface Experiment {
  estimator: EstimatorName;
  params: Record<string, JsonValue>;
  hyper_params: HyperParams;
}

const positiveInt = z.coerce.number().int().positive();
/** Old files and click's string defaults store these as strings; both forms are read, strings written. */
const positiveIntString = z.union([z.string(), z.number()]).transform(Number).pipe(z.number().int().positive()).transform(String);

const hyperParamsSchema = z.object({
  steps: positiveInt,
  batch_size: positiveIntString,
  epochs: positiveIntString,
  hidden_units: z.array(positiveInt).min(1),
  optimizer: z.enum(OPTIMIZERS),
  learning_rate: z.coerce.number().positive().finite(),
  dropout: z.number().min(0).lt(1).optional(),
  l2: z.number().min(0).finite().optional(),
  class_weights: z.union([z.literal("balanced"), z.record(z.string(), z.number().positive().finite())]).optional(),
  patience: z.number().int().min(0).optional(),
  seed: z.number().int().min(0).optional(),
});

const experimentSchema = z.object({
  estimator: z.enum([DNN, SVM]),
  params: z.record(z.string(), z.json()).default({}),
  hyper_params: hyperParamsSchema,
});

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "value"}: ${i.message}`).join("; ");
}

function parseExperiment(value: unknown, source: string): Experiment {
  const parsed = experimentSchema.safeParse(value);
  if (!parsed.success)
    throw new CimlError(
      `${source} is not a valid experiment (${describeIssues(parsed.error)}); recreate it with \`ciml setup-experiment --force\``,
    );
  return parsed.data as Experiment;
}

export async function readExperiment(ws: Workspace, name: string): Promise<Experiment> {
  const path = ws.experimentFile(name);
  let value: unknown;
  try {
    value = await readJsonGz(ws.store, path);
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new CimlError(
      `experiment ${name}: ${path} is not gzip JSON; recreate it with \`ciml setup-experiment --experiment ${name} --force\``,
    );
  }
  if (value === undefined)
    throw new CimlError(`Experiment ${name} not found in ${ws.root}; create it with \`ciml setup-experiment --experiment ${name}\``);
  return parseExperiment(value, path);
}

export function writeExperiment(ws: Workspace, name: string, experiment: Experiment): Promise<void> {
  return writeJsonGz(ws.store, ws.experimentFile(name), experiment);
}

export function experimentExists(ws: Workspace, name: string): Promise<boolean> {
  return ws.store.exists(ws.experimentFile(name));
}

/** Flag values as the CLI hands them over (cac turns numeric-looking values into numbers). */
export interface ExperimentFlags {
  estimator: string;
  hiddenLayers: string | number;
  steps: string | number;
  batchSize: string | number;
  epochs: string | number;
  optimizer: string;
  learningRate: string | number;
  dropout?: string | number;
  l2?: string | number;
  classWeights?: string;
  patience?: string | number;
  seed?: string | number;
}

function positiveNumber(flag: string, value: string | number): number {
  const x = Number(value);
  if (String(value).trim() === "" || !Number.isFinite(x) || x <= 0) throw new UsageError(`--${flag} ${value}: must be a positive number`);
  return x;
}

function parseEstimator(value: string): EstimatorName {
  const name = SHORT_ESTIMATORS[value.toLowerCase()] ?? value;
  if (name === DNN || name === SVM) return name;
  throw new UsageError(`--estimator ${value}: unknown estimator; use ${DNN} (dnn) or ${SVM} (svm)`);
}

function parseOptimizer(value: string): OptimizerName {
  const found = OPTIMIZERS.find(
    (o) => o.toLowerCase() === value.toLowerCase() || (o === "SGD" && value.toLowerCase() === "gradientdescent"),
  );
  if (!found) throw new UsageError(`--optimizer ${value}: unknown optimizer; use one of ${OPTIMIZERS.join(", ")}`);
  return found;
}

function parseHiddenLayers(value: string | number): number[] {
  const parts = String(value).split("/");
  const units = parts.map(Number);
  if (parts.some((p) => !/^\s*\d+\s*$/.test(p)) || units.some((u) => u <= 0)) {
    throw new UsageError(`--hidden-layers ${value}: give units per layer as positive whole numbers separated by /, e.g. 10/10/10`);
  }
  return units;
}

/** "balanced", or "label=weight,label=weight" (e.g. "0=1,1=10" to weigh failures ten times). */
function parseClassWeights(value: string): ClassWeights {
  if (value === "balanced") return value;
  const weights: Record<string, number> = {};
  for (const pair of value.split(",")) {
    const m = /^\s*([^=]+?)\s*=\s*([^=]+?)\s*$/.exec(pair);
    const w = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(w) || w <= 0)
      throw new UsageError(`--class-weights ${value}: use "balanced" or label=weight pairs such as 0=1,1=10`);
    weights[m[1]!] = w;
  }
  return weights;
}

export function experimentFromFlags(flags: ExperimentFlags): Experiment {
  const hyper: HyperParams = {
    steps: wholeNumber("--steps", flags.steps, 1),
    batch_size: String(wholeNumber("--batch-size", flags.batchSize, 1)),
    epochs: String(wholeNumber("--epochs", flags.epochs, 1)),
    hidden_units: parseHiddenLayers(flags.hiddenLayers),
    optimizer: parseOptimizer(flags.optimizer),
    learning_rate: positiveNumber("learning-rate", flags.learningRate),
  };
  if (flags.dropout !== undefined) {
    const d = Number(flags.dropout);
    if (!(d >= 0 && d < 1)) throw new UsageError(`--dropout ${flags.dropout}: must be a fraction in [0, 1)`);
    hyper.dropout = d;
  }
  if (flags.l2 !== undefined) {
    const l2 = Number(flags.l2);
    if (!(l2 >= 0) || !Number.isFinite(l2)) throw new UsageError(`--l2 ${flags.l2}: must be a number ≥ 0`);
    hyper.l2 = l2;
  }
  if (flags.classWeights !== undefined) hyper.class_weights = parseClassWeights(String(flags.classWeights));
  if (flags.patience !== undefined) hyper.patience = wholeNumber("--patience", flags.patience, 0);
  if (flags.seed !== undefined) hyper.seed = wholeNumber("--seed", flags.seed, 0);
  return { estimator: parseEstimator(flags.estimator), params: {}, hyper_params: hyper };
}
