// A workspace with a dataset and a small trained model, built by the real steps (build-dataset,
// setup-experiment, train-model) from synthetic cached runs whose classes differ learnably:
// failed runs are shorter and busier. Small enough to train in seconds on 2 cores.
import { buildDataset } from "../../src/pipeline/build-dataset.ts";
import { setupExperiment } from "../../src/pipeline/setup-experiment.ts";
import { trainModel } from "../../src/pipeline/train-model.ts";
import { collect } from "./collect-events.ts";
import { syntheticDstat, uuidFor, writeCache, type FixtureRun } from "../dataset-cache.ts";

export const BUILD_NAME = "tempest-full";
export const DATASET = "usr_1m-1min-status";
export const EXPERIMENT = "dnn-tiny";

/** A run's trace and class: failed runs (every third) are shorter and run hotter. */
export function syntheticRun(i: number): { uuid: string; status: 0 | 1; trace: string } {
  const status = i % 3 === 0 ? 1 : 0;
  const trace = syntheticDstat(status ? 360 + (i % 7) * 10 : 600 + (i % 5) * 10, 1000 + i, undefined, status ? 45 : 10);
  return { uuid: uuidFor(i), status, trace };
}

/** Caches runs 0..cached-1, builds the dataset from them and trains the model. */
export async function trainedWorkspace(root: string, cached = 90): Promise<void> {
  const runs: FixtureRun[] = Array.from({ length: cached }, (_, i) => {
    const r = syntheticRun(i);
    return { uuid: r.uuid, trace: r.trace, status: r.status, metadata: { build_uuid: buildUuidFor(i) } };
  });
  await writeCache(root, BUILD_NAME, runs);
  await collect(buildDataset, {
    dataPath: root,
    dataset: DATASET,
    buildName: BUILD_NAME,
    slicer: ":",
    sampleInterval: "1min",
    featuresRegex: "^(usr|1m)$",
    classLabel: "status",
    tdtSplit: ["6", "2", "2"],
    force: false,
    visualize: false,
    dataPlotsFolder: root,
    aggregationFunctions: [],
    seed: 7,
    dtype: "float32",
  });
  await collect(setupExperiment, {
    dataPath: root,
    experiment: EXPERIMENT,
    estimator: "dnn",
    hiddenLayers: "8",
    steps: 100000,
    batchSize: 16,
    epochs: 20,
    optimizer: "Adam",
    learningRate: 0.01,
    seed: 3,
  });
  await collect(trainModel, { dataPath: root, dataset: DATASET, experiment: EXPERIMENT });
}

/** Zuul build uuids of the fixture: one per run, 32 hex digits like the real ones. */
export function buildUuidFor(i: number): string {
  return `b${i.toString(16).padStart(31, "0")}`;
}
