// `ciml quickstart`: the whole pipeline on a simulated CI history, with no server and no network.
// Every stage is the real step a user would run by hand; this only chains them with settings that
// finish in well under a minute on a laptop, then says where everything is and what to try next.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildDataset } from "./build-dataset.ts";
import { cacheData } from "./cache-data.ts";
import { dbBatchPredict } from "./db-batch-predict.ts";
import { z } from "zod";
import { readJsonGz, writeJsonGz } from "../io/gzip-json.ts";
import { LocalStore } from "../io/workspace/local-store.ts";
import { CimlError } from "./errors.ts";
import type { Emit, PipelineEvent, Step, StepContext } from "./events.ts";
import { setupExperiment } from "./setup-experiment.ts";
import { wholeNumber } from "./whole-number.ts";
import { simulate } from "./simulate.ts";
import { trainModel } from "./train-model.ts";

export interface QuickstartOptions {
  /** where to work; created, and refused if it holds anything but an earlier quickstart */
  dir: string;
  runs: number | string;
  seed: number | string;
  force: boolean;
}

/** What a command-line user gets without the flag; the one place these defaults are written. */
export const QUICKSTART_DEFAULTS = { dir: "./ciml-quickstart", runs: 300, seed: 42 } satisfies Partial<QuickstartOptions>;

export interface QuickstartResult {
  dir: string;
  dbUri: string;
  dataPath: string;
  dataset: string;
  plots: string[];
  /** test-set accuracy and its majority baseline, per experiment */
  accuracy: Record<string, { accuracy: number; baseline: number }>;
  /** accuracy of db-batch-predict on the runs the dataset left out, per experiment */
  batchAccuracy: Record<string, number | null>;
  next: string[];
}

const BUILD_NAME = "tempest-full";
const DATASET = "usr_1m-1min-status";
/** Runs kept out of the dataset, so db-batch-predict has unseen history to predict. */
const HELD_OUT_FRACTION = 0.2;
/** What quickstart has done so far in its directory, so that an interrupted one resumes where it was. */
const PROGRESS_FILE = "quickstart.json.gz";
const QUICKSTART_MARKERS = ["ci.db", "logs", "data", "plots", PROGRESS_FILE];

const Progress = z.object({
  runs: z.number().int(),
  seed: z.number().int(),
  /** the simulated history is complete (an interrupted simulate is done again from scratch) */
  simulated: z.boolean(),
  finished: z.boolean(),
});
type Progress = z.infer<typeof Progress>;

async function readProgress(dir: string): Promise<Progress | undefined> {
  try {
    return Progress.parse(await readJsonGz(new LocalStore(dir), join(dir, PROGRESS_FILE)));
  } catch {
    // Missing or not ours: the directory is treated as an earlier quickstart, which needs --force.
    return undefined;
  }
}

/** The experiments a new user compares: the authors' default network and a linear SVM. */
const EXPERIMENTS = [
  { name: "dnn-3x10", estimator: "dnn", hiddenLayers: "10/10/10", optimizer: "Adam", learningRate: 0.01, l2: undefined },
  { name: "svm", estimator: "svm", hiddenLayers: "10/10/10", optimizer: "Adam", learningRate: 0.01, l2: 0.01 },
] as const;

/** Prefixes a sub-step's stage names, so the one screen shows which part of the pipeline is talking. */
function within(emit: Emit, prefix: string): Emit {
  return (e: PipelineEvent) => emit("stage" in e ? { ...e, stage: `${prefix} ${e.stage}` } : e);
}

/**
 * Where to start: afresh in an empty (or --force'd) directory, or where an interrupted quickstart with the
 * same --runs and --seed stopped. A finished quickstart is only replaced with --force.
 */
async function prepareDir(dir: string, force: boolean, runs: number, seed: number): Promise<{ progress: Progress; resumed: boolean }> {
  const fresh = { progress: { runs, seed, simulated: false, finished: false }, resumed: false };
  if (!existsSync(dir)) return fresh;
  const entries = readdirSync(dir);
  if (entries.length === 0) return fresh;
  const foreign = entries.filter((e) => !QUICKSTART_MARKERS.some((m) => e === m || e.startsWith(`${m}-`)));
  if (foreign.length > 0)
    throw new CimlError(`${dir} holds files quickstart did not write (${foreign.slice(0, 3).join(", ")}); choose another --dir`);
  if (force) {
    rmSync(dir, { recursive: true, force: true });
    return fresh;
  }
  const progress = await readProgress(dir);
  if (!progress || progress.finished)
    throw new CimlError(`${dir} holds an earlier quickstart; add --force to start it afresh, or choose another --dir`);
  if (progress.runs !== runs || progress.seed !== seed)
    throw new CimlError(
      `${dir} holds an interrupted quickstart of ${progress.runs} runs with seed ${progress.seed}; run it with --runs ${progress.runs} --seed ${progress.seed} to resume it, or add --force to start afresh`,
    );
  return { progress, resumed: true };
}

export const quickstart: Step<QuickstartOptions, QuickstartResult> = async (options, { emit, signal }) => {
  // Fewer runs than this leave the test set without failures to score.
  const runs = wholeNumber("--runs", options.runs, 50, 100_000);
  const seed = wholeNumber("--seed", options.seed, 0, 2 ** 31 - 1);
  const dir = resolve(options.dir);
  const { progress, resumed } = await prepareDir(dir, options.force, runs, seed);
  const saveProgress = () => writeJsonGz(new LocalStore(dir), join(dir, PROGRESS_FILE), progress);
  const dbUri = `sqlite:///${join(dir, "ci.db")}`;
  const dataPath = join(dir, "data");
  const plotsDir = join(dir, "plots");
  const part = (prefix: string): StepContext => ({ emit: within(emit, prefix), signal });

  emit({
    type: "info",
    message: `quickstart in ${dir}: a simulated CI history of ${runs} ${BUILD_NAME} runs, then the five commands of the workflow`,
  });

  if (resumed) emit({ type: "info", message: `resuming the quickstart interrupted in ${dir}` });
  await saveProgress();
  if (!progress.simulated) {
    // A simulate cut short would be extended, not redone, by a second simulate: start its history over.
    rmSync(join(dir, "ci.db"), { force: true });
    rmSync(join(dir, "logs"), { recursive: true, force: true });
    await simulate(
      { runs, failureRate: 0.2, missingRate: 0.02, buildNames: [BUILD_NAME], seed, dbUri, logRoot: join(dir, "logs"), intervalSeconds: 1 },
      part("1/5 simulate ·"),
    );
    progress.simulated = true;
    await saveProgress();
  }

  const cached = await cacheData(
    { dataPath, buildName: BUILD_NAME, dbUri, limit: 0, parallel: 8, timeoutSeconds: 60 },
    part("2/5 cache-data ·"),
  );

  const inDataset = Math.round(cached.stored * (1 - HELD_OUT_FRACTION));
  const built = await buildDataset(
    {
      dataPath,
      dataset: DATASET,
      buildName: BUILD_NAME,
      slicer: `:${inDataset}`,
      sampleInterval: "1min",
      featuresRegex: "(usr|1m)",
      classLabel: "status",
      tdtSplit: ["6", "2", "2"],
      // Resuming: whatever an interrupted build left is rebuilt (cache-data above resumed by itself).
      force: resumed,
      visualize: true,
      dataPlotsFolder: plotsDir,
      aggregationFunctions: [],
      seed,
      dtype: "float32",
    },
    part("3/5 build-dataset ·"),
  );

  let someBuild: string | null = null;
  const accuracy: QuickstartResult["accuracy"] = {};
  const batchAccuracy: QuickstartResult["batchAccuracy"] = {};
  for (const x of EXPERIMENTS) {
    await setupExperiment(
      {
        dataPath,
        experiment: x.name,
        estimator: x.estimator,
        hiddenLayers: x.hiddenLayers,
        steps: 100_000,
        batchSize: "16",
        epochs: "60",
        optimizer: x.optimizer,
        learningRate: x.learningRate,
        l2: x.l2,
        seed,
        force: resumed,
      },
      part(`4/5 ${x.name} ·`),
    );
    const trained = await trainModel({ dataPath, dataset: DATASET, experiment: x.name }, part(`4/5 ${x.name} ·`));
    const test = trained.evaluations[DATASET];
    // accuracy_baseline exists for binary classes only; status is binary.
    if (test) accuracy[x.name] = { accuracy: Number(test.accuracy), baseline: Number(test.accuracy_baseline ?? NaN) };
    const predicted = await dbBatchPredict(
      { dataPath, dbUri, dataset: DATASET, experiment: x.name, slice: ":", parallel: 8 },
      part(`5/5 ${x.name} ·`),
    );
    batchAccuracy[x.name] = predicted.accuracy;
    someBuild ??= predicted.predictions.find((p) => p.buildUuid)?.buildUuid ?? null;
  }

  const example = `--data-path ${dataPath}`;
  const next = [
    `tensorboard --logdir ${join(dataPath, DATASET)}`,
    `ciml build-dataset ${example} --dataset usr_1m-10s-status --features-regex '(usr|1m)' --sample-interval 10s --slicer :${inDataset}`,
    `ciml train-model ${example} --dataset usr_1m-10s-status --experiment dnn-3x10`,
    `ciml db-predict ${someBuild ?? "<build_uuid>"} ${example} --db-uri ${dbUri} --dataset ${DATASET} --experiment dnn-3x10`,
    `ciml mqtt-trainer ${example} --db-uri ${dbUri} --mqtt-hostname 127.0.0.1 --dataset ${DATASET} --experiment dnn-3x10`,
  ];
  const lines = [
    `database     ${dbUri}`,
    `logs         ${join(dir, "logs")}`,
    `cache        ${join(dataPath, ".raw")}`,
    `dataset      ${join(dataPath, DATASET)}  (${built.examples.training}/${built.examples.dev}/${built.examples.test} examples)`,
    `plots        ${built.plots.join(", ")}`,
    ...EXPERIMENTS.map(
      (x) =>
        `${x.name.padEnd(12)} ${join(dataPath, DATASET, x.name)}  test accuracy ${accuracy[x.name]?.accuracy.toFixed(3)} (baseline ${accuracy[x.name]?.baseline.toFixed(3)}), held-out runs ${batchAccuracy[x.name]?.toFixed(3) ?? "n/a"}`,
    ),
    // What a binary user needs without the repository's docs/ beside them.
    "mqtt-trainer waits for finished runs announced on the broker (topic gearman-subunit/#) and publishes",
    `each prediction as JSON on ciml/predictions/<build-name>; it runs until Ctrl-C.`,
    "`ciml --help` lists every command, the environment variables and the exit codes;",
    "`ciml <command> --help` gives a command's options and examples.",
    "Try next (ciml is the binary, or `npm run ciml --` in a checkout):",
  ];
  progress.finished = true;
  await saveProgress();
  emit({ type: "result", stage: "quickstart", summary: { dir, runs, cached: cached.stored, dataset: DATASET }, lines, next });
  return { dir, dbUri, dataPath, dataset: DATASET, plots: built.plots, accuracy, batchAccuracy, next };
};
