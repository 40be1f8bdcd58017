// `ciml train-model`: its help and the normaliser from flags to the step's options.
import type { CommandSpec } from "../command-spec.ts";
import { stepCommand } from "../command-spec.ts";
import { option, repeatable } from "../option-spec.ts";
import { DATA_PATH, DEBUG, S3_OPTIONS, workspaceOptions } from "./shared-options.ts";

export const trainModelCommand: CommandSpec = {
  name: "train-model",
  summary: "Train an experiment on a dataset, evaluate on the test set, write TensorBoard logs",
  notes: ["The model is saved in <data-path>/<dataset>/<experiment>/, beside the evaluation."],
  examples: [
    "ciml train-model --dataset usr-1min --experiment dnn-3x10",
    "ciml train-model --dataset usr-1min --experiment svm --eval-dataset other-cloud --backend cpu",
  ],
  options: [
    option("--dataset <name>", "dataset to train on"),
    option("--experiment <name>", "experiment to run"),
    repeatable("--eval-dataset <name>", "also evaluate this dataset's test set (repeatable)"),
    option("--backend <name>", "tfjs backend: wasm, cpu or tensorflow (needs @tensorflow/tfjs-node)"),
    option("--gpu", "accepted for compatibility; GPUs need --backend tensorflow"),
    DEBUG,
    DATA_PATH,
    ...S3_OPTIONS,
  ],
  async load() {
    const [{ trainModel, TRAIN_MODEL_DEFAULTS: d }, { parseBackend }] = await Promise.all([
      import("../../pipeline/train-model.ts"),
      import("../../pipeline/model/tfjs-runtime.ts"),
    ]);
    return stepCommand(trainModel, (f) => {
      f.on("--gpu");
      f.on("--debug");
      return {
        ...workspaceOptions(f),
        dataset: f.string("--dataset", d.dataset),
        experiment: f.string("--experiment", d.experiment),
        evalDatasets: f.list("--eval-dataset") ?? [],
        backend: parseBackend(f.string("--backend", d.backend)),
      };
    });
  },
};
