// The prediction benches' shared start: the first runs of a simulated history cached, built into dataset
// "ds" (usr, used, 1m at 1 min) and a small DNN "dnn" trained on it, as a user would with the CLI.
import { buildDataset } from "../src/pipeline/build-dataset.ts";
import { cacheData } from "../src/pipeline/cache-data.ts";
import { setupExperiment } from "../src/pipeline/setup-experiment.ts";
import { trainModel } from "../src/pipeline/train-model.ts";

const quiet = { emit: () => {}, signal: new AbortController().signal };

export async function trainOnHistory(options: { data: string; dbUri: string; plots: string; runs: number; epochs: number }): Promise<void> {
  const { data: dataPath, dbUri } = options;
  await cacheData({ dataPath, buildName: "tempest-full", dbUri, limit: options.runs, parallel: 8, timeoutSeconds: 60 }, quiet);
  await buildDataset(
    {
      dataPath,
      dataset: "ds",
      buildName: "tempest-full",
      slicer: ":",
      sampleInterval: "1min",
      featuresRegex: "^(usr|used|1m)$",
      classLabel: "status",
      tdtSplit: ["7", "1", "2"],
      force: false,
      visualize: false,
      dataPlotsFolder: options.plots,
      aggregationFunctions: [],
      dtype: "float32",
    },
    quiet,
  );
  await setupExperiment(
    {
      dataPath,
      experiment: "dnn",
      estimator: "dnn",
      hiddenLayers: "32/16",
      steps: 100000,
      batchSize: 32,
      epochs: options.epochs,
      optimizer: "Adam",
      learningRate: 0.01,
    },
    quiet,
  );
  await trainModel({ dataPath, dataset: "ds", experiment: "dnn" }, quiet);
}
