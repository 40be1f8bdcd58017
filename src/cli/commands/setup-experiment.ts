// `ciml setup-experiment`: its help and the normaliser from flags to the step's options.
import type { CommandSpec } from "../command-spec.ts";
import { stepCommand } from "../command-spec.ts";
import { option } from "../option-spec.ts";
import { DATA_PATH, S3_OPTIONS, workspaceOptions } from "./shared-options.ts";

export const setupExperimentCommand: CommandSpec = {
  name: "setup-experiment",
  summary: "Name a model and its hyper-parameters, stored as JSON in the workspace",
  notes: ["An experiment belongs to no dataset: one experiment can be trained on every dataset (--dataset is accepted and not needed)."],
  examples: [
    "ciml setup-experiment --experiment dnn-3x10 --hidden-layers 10/10/10 --epochs 20",
    "ciml setup-experiment --experiment svm --estimator tf.contrib.learn.SVM --batch-size 32",
  ],
  options: [
    option("--experiment <name>", "experiment name"),
    option("--estimator <name>", "tf.estimator.DNNClassifier (dnn) or tf.contrib.learn.SVM (svm)"),
    option("--hidden-layers <units>", "units per hidden layer, separated by /"),
    option("--steps <n>", "maximum training steps"),
    option("--batch-size <n>", "batch size"),
    option("--epochs <n>", "number of epochs"),
    option("--optimizer <name>", "Adagrad, Adam, Ftrl, RMSProp, SGD or ProximalAdagrad"),
    option("--learning-rate <x>", "optimizer learning rate"),
    option("--force", "overwrite an existing experiment"),
    option("--dropout <p>", "fraction of hidden units dropped while training (default: 0, as TF)"),
    option("--l2 <x>", "L2 penalty on the weights (default: 0 for dnn, 0.01 for svm)"),
    option("--class-weights <w>", "balanced, or label=weight pairs such as 0=1,1=10"),
    option("--patience <n>", "stop after this many epochs without a better dev loss (default: 0 = never)"),
    option("--seed <n>", "seed of initial weights, shuffling and dropout (default: 42)"),
    option("--dataset <name>", "accepted as the original's README writes it; experiments are shared by all datasets"),
    DATA_PATH,
    ...S3_OPTIONS,
  ],
  async load() {
    const { setupExperiment, SETUP_EXPERIMENT_DEFAULTS: d } = await import("../../pipeline/setup-experiment.ts");
    return stepCommand(setupExperiment, (f) => {
      // Read so that it is known and checked like any option; an experiment does not depend on it.
      f.string("--dataset");
      return {
        ...workspaceOptions(f),
        experiment: f.string("--experiment", d.experiment),
        force: f.on("--force"),
        estimator: f.string("--estimator", d.estimator),
        hiddenLayers: f.string("--hidden-layers", d.hiddenLayers),
        steps: f.whole("--steps", d.steps),
        batchSize: f.whole("--batch-size", d.batchSize),
        epochs: f.whole("--epochs", d.epochs),
        optimizer: f.string("--optimizer", d.optimizer),
        learningRate: f.decimal("--learning-rate", d.learningRate),
        dropout: f.decimal("--dropout"),
        l2: f.decimal("--l2"),
        classWeights: f.string("--class-weights"),
        patience: f.whole("--patience"),
        seed: f.whole("--seed"),
      };
    });
  },
};
