// `ciml db-batch-predict`: its help and the normaliser from flags to the step's options.
import type { CommandSpec } from "../command-spec.ts";
import { stepCommand } from "../command-spec.ts";
import { option } from "../option-spec.ts";
import { DATA_PATH, S3_OPTIONS, SOURCE_OPTIONS, DEBUG, DSTAT_PATH, predictorOptions, TIMEOUT } from "./shared-options.ts";

export const dbBatchPredictCommand: CommandSpec = {
  name: "db-batch-predict",
  summary: "Predict every run of the dataset's build name that the dataset does not contain",
  examples: [
    "ciml db-batch-predict --dataset usr-1min --experiment dnn-3x10",
    "ciml db-batch-predict --dataset usr-1min --experiment svm --slice :100 --json",
  ],
  options: [
    ...SOURCE_OPTIONS,
    option("--dataset <name>", "dataset whose normalisation the model uses"),
    option("--experiment <name>", "experiment whose model predicts"),
    option("--slice <slice>", "python slice over the runs to predict"),
    option("--parallel <n>", "downloads in flight at once"),
    DSTAT_PATH,
    TIMEOUT,
    option("--gpu [value]", "accepted for compatibility (a value option in the original)"),
    DEBUG,
    DATA_PATH,
    ...S3_OPTIONS,
  ],
  async load() {
    const { dbBatchPredict, DB_BATCH_PREDICT_DEFAULTS: d } = await import("../../pipeline/db-batch-predict.ts");
    return stepCommand(dbBatchPredict, (f) => {
      f.on("--gpu");
      f.on("--debug");
      return {
        ...predictorOptions(f, d),
        slice: f.string("--slice", d.slice),
        parallel: f.whole("--parallel", d.parallel),
      };
    });
  },
};
