// `ciml setup-experiment`: validate the hyper-parameters, then store them where train-model looks.
import { checkName, openWorkspace } from "../io/workspace.ts";
import type { S3Access } from "../io/workspace/s3-settings.ts";
import { CimlError } from "./errors.ts";
import type { Step } from "./events.ts";
import { experimentExists, experimentFromFlags, writeExperiment, type Experiment, type ExperimentFlags } from "./model/experiment.ts";

export interface SetupExperimentOptions extends ExperimentFlags {
  /** --data-path as given; resolved like every command's (flag, $CIML_DATA_PATH, ./data) */
  dataPath?: string;
  /** how to reach an s3:// data path */
  s3?: S3Access;
  experiment: string;
  force?: boolean;
}

/** What a command-line user gets without the flag; the one place these defaults are written. */
export const SETUP_EXPERIMENT_DEFAULTS = {
  experiment: "experiment",
  estimator: "tf.estimator.DNNClassifier",
  hiddenLayers: "10/10/10",
  steps: 30,
  batchSize: 1,
  epochs: 1,
  optimizer: "Adagrad",
  learningRate: 0.05,
} satisfies Partial<SetupExperimentOptions>;

export const setupExperiment: Step<SetupExperimentOptions, Experiment> = async (options, { emit, signal }) => {
  const name = checkName("experiment", options.experiment);
  const experiment = experimentFromFlags(options);
  const ws = await openWorkspace(options.dataPath, options.s3, signal);
  if ((await experimentExists(ws, name)) && !options.force) {
    throw new CimlError(`Experiment ${name} already configured; use --force to overwrite it`);
  }
  await writeExperiment(ws, name, experiment);
  emit({ type: "info", message: `Experiment ${name} saved successfully.` });
  emit({ type: "info", message: `estimator: ${experiment.estimator}` });
  emit({ type: "info", message: `params: ${JSON.stringify(experiment.params)}` });
  emit({ type: "info", message: `hyper params: ${JSON.stringify(experiment.hyper_params)}` });
  emit({
    type: "result",
    stage: "setup-experiment",
    summary: { experiment: name, estimator: experiment.estimator, ...experiment.hyper_params },
  });
  return experiment;
};
