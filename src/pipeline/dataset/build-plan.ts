// build-dataset's plan: every flag checked and turned into what the build needs before a file is touched,
// so a typo costs nothing and the checks can be tested without a cache.
import { openWorkspace, type Workspace } from "../../io/workspace.ts";
import type { BuildDatasetOptions } from "../build-dataset.ts";
import { UsageError } from "../errors.ts";
import { wholeNumber } from "../whole-number.ts";
import { checkAggregations } from "./aggregation.ts";
import type { ExampleDtype } from "./dataset-config.ts";
import { parseSplitOrder, parseTdtSplit, type SplitOrder, type TdtSplit } from "./dataset-split.ts";
import { parseSampleInterval } from "./sample-interval.ts";

export interface BuildPlan {
  dataset: string;
  buildName: string;
  slicer: string;
  classLabel: string;
  /** the regex as given (saved in the configuration), and compiled; null selects every column */
  featuresRegex: string | null;
  regex: RegExp | null;
  dtype: ExampleDtype;
  seed: number;
  split: TdtSplit;
  /** random (seeded) or time (oldest runs train, newest test) */
  splitOrder: SplitOrder;
  /** pandas offset alias, or null for no resampling */
  sampleInterval: string | null;
  aggregations: string[];
  force: boolean;
  visualize: boolean;
  dataPlotsFolder: string;
  /** per-example plots to draw (0 = none; always 0 with aggregation, whose examples have no time axis) */
  plotExamples: number;
  /** per-example plots asked for but impossible with aggregation: worth a warning */
  plotExamplesIgnored: boolean;
  /** where the raw cache is read, and where the dataset is written (the same workspace unless told) */
  cache: Workspace;
  target: Workspace;
}

function parseDtype(dtype: string): ExampleDtype {
  if (dtype === "float32" || dtype === "float64") return dtype;
  throw new UsageError(`--dtype ${dtype} is not supported; use float32 or float64`);
}

function compileRegex(source: string | undefined): RegExp | null {
  if (source === undefined || source === "") return null;
  try {
    return new RegExp(source);
  } catch (err) {
    throw new UsageError(
      `--features-regex ${JSON.stringify(source)} is not a valid regular expression (${(err as Error).message.replace(/^Invalid regular expression: /, "")}); e.g. --features-regex "usr|sys", and \\( for a literal (`,
    );
  }
}

/** `defaultSeed` is the step's own default, used when no --seed is given; `signal` is Ctrl-C. */
export async function planBuild(options: BuildDatasetOptions, defaultSeed: number, signal?: AbortSignal): Promise<BuildPlan> {
  const dtype = parseDtype(options.dtype);
  const seed = options.seed === undefined || options.seed === "" ? defaultSeed : wholeNumber("--seed", options.seed, 0, 0xffffffff);
  const split = parseTdtSplit(options.tdtSplit);
  const sampleInterval = options.sampleInterval ? parseSampleInterval(options.sampleInterval).alias : null;
  const aggregations = checkAggregations(options.aggregationFunctions);
  const regex = compileRegex(options.featuresRegex);
  const plotExamples = options.visualize ? wholeNumber("--plot-examples", options.plotExamples ?? 0, 0, undefined, "0 for none") : 0;
  // Every flag is checked before a store is opened: a typo is a usage error, not a round trip to a bucket.
  const cache = await openWorkspace(options.dataPath, options.s3, signal);
  const target = options.targetDataPath === undefined ? cache : await openWorkspace(options.targetDataPath, options.s3, signal);
  return {
    dataset: options.dataset,
    buildName: options.buildName,
    slicer: options.slicer,
    classLabel: options.classLabel,
    featuresRegex: options.featuresRegex ?? null,
    regex,
    dtype,
    seed,
    split,
    splitOrder: parseSplitOrder(options.splitOrder),
    sampleInterval,
    aggregations,
    force: options.force,
    visualize: options.visualize,
    dataPlotsFolder: options.dataPlotsFolder,
    plotExamples: aggregations.length === 0 ? plotExamples : 0,
    plotExamplesIgnored: plotExamples > 0 && aggregations.length > 0,
    cache,
    target,
  };
}
