// `ciml db-predict`: its help and the normaliser from flags to the step's options.
import type { CommandSpec } from "../command-spec.ts";
import { stepCommand } from "../command-spec.ts";
import { option } from "../option-spec.ts";
import { DATA_PATH, S3_OPTIONS, SOURCE_OPTIONS, DEBUG, DSTAT_PATH, predictorOptions, TIMEOUT } from "./shared-options.ts";

export const dbPredictCommand: CommandSpec = {
  name: "db-predict",
  argument: "<build_uuid>",
  summary: "Predict the runs of one Zuul build from the database",
  examples: [
    "ciml db-predict 5f1c0d7e8a9b4c3d2e1f0a9b8c7d6e5f --dataset usr-1min --experiment dnn-3x10",
    "ciml db-predict 5f1c0d7e8a9b4c3d2e1f0a9b8c7d6e5f --db-uri sqlite:///ci.db --json",
  ],
  options: [
    ...SOURCE_OPTIONS,
    option("--dataset <name>", "dataset whose normalisation the model uses"),
    option("--experiment <name>", "experiment whose model predicts"),
    option("--sample-interval <alias>", "accepted for compatibility; the dataset's own interval is used"),
    option("--build-name <name>", "only predict runs of this build name"),
    DSTAT_PATH,
    TIMEOUT,
    DEBUG,
    DATA_PATH,
    ...S3_OPTIONS,
  ],
  async load() {
    const { dbPredict, DB_PREDICT_DEFAULTS: d } = await import("../../pipeline/db-predict.ts");
    return stepCommand(dbPredict, (f) => {
      f.on("--debug");
      return {
        buildUuid: f.argument(0, "<build_uuid>"),
        ...predictorOptions(f, d),
        sampleInterval: f.string("--sample-interval"),
        buildName: f.string("--build-name", d.buildName),
      };
    });
  },
};
