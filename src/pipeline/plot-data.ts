// `ciml plot-data`: bar charts of eval metrics across dataset/experiment pairs, one group per
// label; with --dataset-experiment-comp, two sets side by side. As the original, accuracy is drawn as
// 1 − accuracy so that small differences between good models stay visible.
import { basename, resolve } from "node:path";
import { writeFileAtomic } from "../io/atomic-file.ts";
import { barChartSvg } from "../io/chart-svg.ts";
import { readJsonGz } from "../io/gzip-json.ts";
import { svgToPng } from "../io/png.ts";
import { checkName, openWorkspace, type Workspace } from "../io/workspace.ts";
import type { S3Access } from "../io/workspace/s3-settings.ts";
import { StoreError, within } from "../io/workspace/store.ts";
import { CimlError, UsageError } from "./errors.ts";
import type { Step } from "./events.ts";

export interface PlotDataOptions {
  dataPath?: string;
  /** how to reach an s3:// data path */
  s3?: S3Access;
  /** DATASET EXPERIMENT LABEL triples */
  labels: string[][];
  /** DATASET EXPERIMENT pairs compared 1:1 with `labels` */
  comparisons: string[][];
  setNames?: string[];
  keys: string[];
  output?: string;
  title?: string;
}

export interface PlotDataResult {
  files: string[];
  /** rows = labels, one value per plotted column */
  table: Record<string, Record<string, number>>;
}

/** The dataset part may be a path (the original joined it onto the data path); its last component names the eval file. */
function evalFile(ws: Workspace, dataset: string, experiment: string): string {
  const name = basename(dataset);
  checkName("dataset", name);
  const dir = dataset.includes("/") ? ws.place(dataset) : ws.datasetDir(name);
  return within(dir, checkName("experiment", experiment), `eval_${name}.json.gz`);
}

async function metric(ws: Workspace, dataset: string, experiment: string, key: string): Promise<number> {
  const path = evalFile(ws, dataset, experiment);
  let m: Record<string, unknown> | undefined;
  try {
    m = (await readJsonGz(ws.store, path)) as Record<string, unknown> | undefined;
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new CimlError(
      `${path} is not gzip JSON; train again with \`ciml train-model --dataset ${basename(dataset)} --experiment ${experiment}\``,
    );
  }
  if (!m)
    throw new CimlError(
      `no evaluation for dataset ${basename(dataset)} and experiment ${experiment} (${path}); run \`ciml train-model --dataset ${basename(dataset)} --experiment ${experiment}\` first`,
    );
  const v = m[key];
  if (typeof v !== "number") {
    const keys = Object.keys(m).filter((k) => typeof m![k] === "number");
    throw new UsageError(`--data-keys ${key}: not a metric of ${path}; use one of ${keys.join(", ")}`);
  }
  return key === "accuracy" ? 1 - v : v;
}

const columnName = (key: string) => (key === "accuracy" ? "1 - accuracy" : key);

/** Which way is better for a plotted column: accuracy is drawn as 1 − accuracy, so a lower bar is better. */
function betterWay(key: string): "lower" | "higher" {
  return key === "accuracy" || /loss|error/i.test(key) ? "lower" : "higher";
}

export const plotData: Step<PlotDataOptions, PlotDataResult> = async (options, { emit, signal }) => {
  const ws = await openWorkspace(options.dataPath, options.s3, signal);
  if (!options.output) throw new UsageError("--output is required: the image file to write (.png or .svg)");
  if (options.labels.length === 0) throw new UsageError("give at least one --dataset-experiment-label DATASET EXPERIMENT LABEL");
  if (options.keys.length === 0) throw new UsageError("give at least one metric with -k/--data-keys, e.g. -k accuracy");
  for (const t of options.labels)
    if (t.length !== 3) throw new UsageError(`--dataset-experiment-label ${t.join(" ")}: give three values, DATASET EXPERIMENT LABEL`);
  for (const p of options.comparisons)
    if (p.length !== 2) throw new UsageError(`--dataset-experiment-comp ${p.join(" ")}: give two values, DATASET EXPERIMENT`);
  const comparing = options.comparisons.length > 0;
  if (comparing) {
    if (options.setNames?.length !== 2)
      throw new UsageError("--dataset-experiment-comp needs --experiment-sets-names A B to name the two sets in the legend");
    if (options.comparisons.length !== options.labels.length)
      throw new UsageError(
        `${options.labels.length} --dataset-experiment-label but ${options.comparisons.length} --dataset-experiment-comp: a comparison pairs them 1:1`,
      );
    if (options.keys.length !== 1) throw new UsageError("a comparison plots one metric: give exactly one -k/--data-keys");
  }
  const categories = options.labels.map((t) => t[2]!);
  const ways = new Set(options.keys.map(betterWay));
  const mixed = ways.size > 1;
  const metrics = (pairs: string[][], key: string) => Promise.all(pairs.map(([d, e]) => metric(ws, d!, e!, key)));
  const series = comparing
    ? [
        { name: options.setNames![0]!, values: await metrics(options.labels, options.keys[0]!) },
        { name: options.setNames![1]!, values: await metrics(options.comparisons, options.keys[0]!) },
      ]
    : await Promise.all(options.keys.map(async (key) => ({ name: columnName(key), values: await metrics(options.labels, key) })));
  // One axis for lower- and higher-is-better columns would mislead: the legend then says which is which.
  const legendNames = mixed ? options.keys.map((key) => `${columnName(key)} (${betterWay(key)} is better)`) : series.map((x) => x.name);
  const columns = new Intl.ListFormat("en", { type: "conjunction" }).format(options.keys.map(columnName));
  const svg = barChartSvg({
    title:
      options.title ??
      (comparing ? `${columns}: ${options.setNames![0]} against ${options.setNames![1]}` : `${columns} per dataset and experiment`),
    yLabel: mixed
      ? "value (the legend says which way is better)"
      : `${comparing || options.keys.length === 1 ? columns : "value"} (${[...ways][0]} is better)`,
    categories,
    series: series.map((x, i) => ({ name: legendNames[i]!, values: x.values })),
  });
  const output = resolve(options.output);
  writeFileAtomic(output, output.toLowerCase().endsWith(".svg") ? svg : await svgToPng(svg, 1.5));
  // No prototype: category labels are class names from the data ("__proto__" must stay a key).
  const table: Record<string, Record<string, number>> = Object.create(null);
  categories.forEach((label, i) => (table[label] = Object.fromEntries(series.map((s) => [s.name, s.values[i]!]))));
  emit({ type: "result", stage: "plot-data", summary: { output, ...table }, lines: [`Chart written to ${output}`] });
  return { files: [output], table };
};
