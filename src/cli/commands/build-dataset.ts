// `ciml build-dataset`: its help and the normaliser from flags to the step's options.
import type { CommandSpec } from "../command-spec.ts";
import { stepCommand } from "../command-spec.ts";
import { option, repeatable } from "../option-spec.ts";
import { DATA_PATH, S3_OPTIONS, workspaceOptions } from "./shared-options.ts";

export const buildDatasetCommand: CommandSpec = {
  name: "build-dataset",
  summary: "Select cached runs, pick features, resample, normalise and split into numpy archives",
  notes: ["Reads the cache that cache-data filled; writes <data-path>/<dataset>/ (training.npz, dev.npz, test.npz)."],
  examples: [
    "ciml build-dataset --dataset usr-1min --sample-interval 1min --features-regex usr",
    "ciml build-dataset --dataset small --slicer :500 --tdt-split 7 0 3 --visualize --data-plots-folder ./plots",
  ],
  options: [
    option("--dataset <name>", "dataset name"),
    option("--build-name <name>", "cached run list to use"),
    option("--slicer <slice>", "python slice over the cached runs, e.g. :5000"),
    option("--sample-interval <alias>", "resample to a pandas offset alias (1s, 10s, 1min, 5min, ...)"),
    option("--features-regex <regex>", "dstat columns to keep, searched in each name (default: all)"),
    option("--class-label <label>", "status, node_provider, node_provider_all or any metadata key"),
    option("--tdt-split <t d s>", "training, dev and test in tenths, summing to 10"),
    option("--force", "overwrite an existing dataset"),
    option("--visualize", "draw sizes_by_result.png/.svg into --data-plots-folder"),
    option("--target-data-path <path>", "where the dataset is written (default: --data-path)"),
    option("--data-plots-folder <dir>", "folder for plots"),
    repeatable(
      "--aggregation-functions <name>",
      "aggregate each column instead of fixing its length (repeatable: mean std min max size median sum var)",
    ),
    option(
      "--plot-examples <n>",
      "with --visualize: also draw the per-example plots (resampled, fixed size, unrolled, normalised) of the first n training examples into <data-plots-folder>/<dataset>-examples/",
    ),
    option("--seed <n>", "seed of the train/dev/test split"),
    option("--dtype <dtype>", "float32 or float64 examples"),
    DATA_PATH,
    ...S3_OPTIONS,
  ],
  async load() {
    const { buildDataset, BUILD_DATASET_DEFAULTS: d } = await import("../../pipeline/build-dataset.ts");
    return stepCommand(buildDataset, (f) => {
      return {
        ...workspaceOptions(f),
        targetDataPath: f.string("--target-data-path"),
        dataset: f.string("--dataset", d.dataset),
        buildName: f.string("--build-name", d.buildName),
        slicer: f.string("--slicer", d.slicer),
        sampleInterval: f.string("--sample-interval"),
        featuresRegex: f.string("--features-regex"),
        classLabel: f.string("--class-label", d.classLabel),
        tdtSplit: f.values("--tdt-split", d.tdtSplit),
        force: f.on("--force"),
        visualize: f.on("--visualize"),
        dataPlotsFolder: f.string("--data-plots-folder", d.dataPlotsFolder),
        plotExamples: f.whole("--plot-examples", d.plotExamples),
        aggregationFunctions: f.list("--aggregation-functions") ?? [],
        seed: f.whole("--seed", d.seed),
        dtype: f.string("--dtype", d.dtype),
      };
    });
  },
};
