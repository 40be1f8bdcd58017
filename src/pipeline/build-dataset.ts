// `ciml build-dataset`: cached traces of one build name → normalised training/dev/test numpy archives
// plus the configuration every later step reads. Cache only, one trace in memory at a time. Runs that
// cannot make an example are left out, warned about and listed in excluded.json.gz — never kept as
// garbage rows. The step is plan (dataset/build-plan.ts), do (dataset/fill-sets.ts) and report
// (dataset/build-report.ts); this file puts them in order and owns the files around them.
import { writeJsonGz } from "../io/gzip-json.ts";
import { stringArray, writeNpz } from "../io/npy.ts";
import { readBuildRuns } from "../io/found-runs.ts";
import { StagedDataset } from "../io/staged-dataset.ts";
import type { S3Access } from "../io/workspace/s3-settings.ts";
import { planBuild } from "./dataset/build-plan.ts";
import { buildResultEvent, datasetConfigOf } from "./dataset/build-report.ts";
import { exampleLength, featureLabels, writeDatasetConfig, type DatasetConfig } from "./dataset/dataset-config.ts";
import { writeSizesByResult } from "./dataset/dataset-plots.ts";
import { chronologicalSplit, loadOrMakeSplit, oldestFirst, type SetName, type SplitIndices } from "./dataset/dataset-split.ts";
import { chooseColumns, fillSets, type Exclusion } from "./dataset/fill-sets.ts";
import { CimlError, UsageError } from "./errors.ts";
import type { Step } from "./events.ts";
import { pythonSlice } from "./python-slice.ts";

export interface BuildDatasetOptions {
  /** --data-path as given: the workspace holding the raw cache (.raw, .metadata); resolved like every command's */
  dataPath?: string;
  /** how to reach an s3:// data path (both paths, when both are buckets) */
  s3?: S3Access;
  /** --target-data-path as given: where the dataset, its run lists and _splits go; default: the data path */
  targetDataPath?: string;
  dataset: string;
  buildName: string;
  slicer: string;
  sampleInterval?: string;
  featuresRegex?: string;
  classLabel: string;
  /** the three values of --tdt-split */
  tdtSplit: string[];
  force: boolean;
  visualize: boolean;
  dataPlotsFolder: string;
  /** with visualize: draw per-example plots (raw and normalised) for this many training examples (0 = none) */
  plotExamples?: number | string;
  aggregationFunctions: string[];
  seed?: string | number;
  dtype: string;
  /** random (seeded, the default) or time: ordered by run_at, training the oldest, test the newest */
  splitOrder?: string;
}

export interface BuildDatasetResult {
  config: DatasetConfig;
  examples: Record<SetName, number>;
  excluded: Exclusion[];
  plots: string[];
}

/** What a command-line user gets without the flag; the one place these defaults are written. */
export const BUILD_DATASET_DEFAULTS = {
  dataset: "dataset",
  buildName: "tempest-full",
  slicer: ":",
  classLabel: "status",
  tdtSplit: ["6", "2", "2"],
  dataPlotsFolder: "/tmp",
  plotExamples: 0,
  seed: 42,
  dtype: "float32",
} satisfies Partial<BuildDatasetOptions>;

export const buildDataset: Step<BuildDatasetOptions, BuildDatasetResult> = async (options, { emit, signal }) => {
  const plan = await planBuild(options, BUILD_DATASET_DEFAULTS.seed, signal);
  const { cache, target, dataset } = plan;
  target.datasetDir(dataset);

  const replacing = await target.datasetExists(dataset);
  if (replacing && !plan.force) throw new CimlError(`Dataset ${dataset} already configured in ${target.root}; use --force to overwrite it`);

  const cached = await readBuildRuns(cache, plan.buildName);
  if (cached.length === 0) {
    throw new CimlError(
      `no cached runs for build name ${plan.buildName} in ${cache.rawDir}; run cache-data --build-name ${plan.buildName} first`,
    );
  }
  let allRuns = cached;
  if (plan.splitOrder === "time") {
    const ordered = await oldestFirst(cache, cached);
    if (ordered.untimed > 0)
      emit({ type: "warning", message: `--split-order time: ${ordered.untimed} cached runs have no run_at and are left out` });
    allRuns = ordered.runs;
  }
  const runs = pythonSlice(allRuns, plan.slicer, "--slicer");
  if (runs.length === 0) {
    throw new UsageError(
      `--slicer ${plan.slicer} selects no runs of the ${allRuns.length} cached for build name ${plan.buildName}; e.g. --slicer :${allRuns.length}`,
    );
  }
  emit({ type: "info", message: `Obtained ${runs.length} runs for build ${plan.buildName}` });

  let splitFile: { indices: SplitIndices; reused: boolean };
  if (plan.splitOrder === "time") {
    // Not shared through _splits: those are random index sets, this one depends on the runs' times.
    splitFile = { indices: chronologicalSplit(runs.length, plan.split), reused: false };
    emit({
      type: "info",
      message: `Split by time: the oldest ${Math.round(plan.split.training * 100)}% of ${runs.length} runs train, the newest test`,
    });
  } else {
    const made = await loadOrMakeSplit(target, runs.length, plan.split, plan.seed);
    splitFile = made;
    emit({
      type: "info",
      message: made.reused
        ? `Splits found for size ${runs.length}: ${made.path} (seed not used)`
        : `Splits not found. Size ${runs.length}, t ${plan.split.training}, d ${plan.split.dev}; seed ${plan.seed}. Splits saved to ${made.path}`,
    });
  }

  emit({ type: "stage", stage: "columns", state: "started" });
  const columns = await chooseColumns(plan, runs, signal);
  emit({ type: "stage", stage: "columns", state: "finished", detail: columns.join(", ") });

  const length = exampleLength(plan.sampleInterval, plan.aggregations);
  const labels = featureLabels(columns, length, plan.aggregations);
  if (plan.plotExamplesIgnored) {
    emit({
      type: "warning",
      message: "per-example plots need fixed-length examples; --plot-examples is ignored with --aggregation-functions",
    });
  }
  const shape = { columns, sample_interval: plan.sampleInterval, aggregation_functions: plan.aggregations, normalized_length: length };
  // The new dataset is written beside the old one and replaces it only when complete: a failed or
  // interrupted rebuild leaves the old dataset usable (io/staged-dataset.ts).
  const staged = await StagedDataset.open(target, dataset);
  const files = staged.workspace;
  try {
    const filled = await fillSets({ ...plan, target: files }, runs, splitFile.indices, shape, labels.length, emit, signal);
    const config = datasetConfigOf(plan, columns, labels, length, filled, !splitFile.reused && plan.splitOrder === "random");

    await writeNpz(files.store, files.datasetFile(dataset, "labels.npz"), { labels: stringArray(labels) });
    const left = new Set(filled.excluded.map((e) => e.run));
    await writeJsonGz(
      files.store,
      files.datasetFile(dataset, "runs.json.gz"),
      runs.filter((r) => !left.has(r)),
    );
    await writeJsonGz(files.store, files.datasetFile(dataset, "excluded.json.gz"), filled.excluded);

    const plots = filled.plots;
    if (plan.visualize) {
      emit({ type: "stage", stage: "visualize", state: "started" });
      // sizes_by_result is of the training set: its examples come first in build order.
      plots.push(
        ...(await writeSizesByResult(
          plan.dataPlotsFolder,
          filled.lengths.slice(0, filled.ids.training.length),
          filled.classes.training,
          filled.vocabulary,
          config.sample_interval,
          plan.classLabel,
        )),
      );
      emit({ type: "stage", stage: "visualize", state: "finished", detail: plan.dataPlotsFolder });
    }
    await writeDatasetConfig(files, dataset, config);
    await staged.commit();

    emit(buildResultEvent(plan, config, filled));
    const examples = { training: filled.ids.training.length, dev: filled.ids.dev.length, test: filled.ids.test.length };
    return { config, examples, excluded: filled.excluded, plots };
  } catch (err) {
    await staged.discard();
    throw err;
  }
};
