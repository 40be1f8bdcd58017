// `ciml plot-data`: its help and the normaliser from flags to the step's options.
import type { CommandSpec } from "../command-spec.ts";
import { stepCommand } from "../command-spec.ts";
import { option, repeatable } from "../option-spec.ts";
import { DATA_PATH, S3_OPTIONS, workspaceOptions } from "./shared-options.ts";

export const plotDataCommand: CommandSpec = {
  name: "plot-data",
  summary: "Bar charts of evaluation metrics across dataset/experiment pairs",
  notes: [
    "As the original, -k accuracy is drawn as 1 - accuracy (the error rate), so lower is better;",
    "loss and error rates are lower-is-better too, while auc, precision and recall are higher-is-better:",
    "the axis says which, and mixing both kinds on one chart labels each bar's kind in the legend.",
  ],
  examples: [
    "ciml plot-data --dataset-experiment-label usr-1min dnn-3x10 DNN --dataset-experiment-label usr-1min svm SVM -k accuracy --output acc.png",
    "ciml plot-data --dataset-experiment-label d1 dnn one --dataset-experiment-comp d2 dnn --experiment-sets-names cloud-a cloud-b -k accuracy --output cmp.svg",
  ],
  options: [
    repeatable("--dataset-experiment-label <d e l>", "DATASET EXPERIMENT LABEL (repeatable)"),
    repeatable("--dataset-experiment-comp <d e>", "DATASET EXPERIMENT compared 1:1 with the list above (repeatable)"),
    option("--experiment-sets-names <a b>", "legend names of the two compared sets"),
    repeatable("-k, --data-keys <key>", "eval metric keys to plot (repeatable); accuracy is drawn as 1 - accuracy"),
    option("--output <file>", "output image (.png or .svg)"),
    option("--title <title>", "chart title (default: the metrics and the labels plotted)"),
    DATA_PATH,
    ...S3_OPTIONS,
  ],
  async load() {
    const { plotData } = await import("../../pipeline/plot-data.ts");
    return stepCommand(plotData, (f) => {
      return {
        ...workspaceOptions(f),
        labels: f.groups("--dataset-experiment-label"),
        comparisons: f.groups("--dataset-experiment-comp"),
        setNames: f.values("--experiment-sets-names"),
        keys: f.list("--data-keys") ?? [],
        output: f.string("--output"),
        title: f.string("--title"),
      };
    });
  },
};
