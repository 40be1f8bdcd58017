// build-dataset's report: the configuration every later step reads, and the closing summary, both made
// from the plan and what filling the sets produced — plain functions, so they are tested without a build.
import { dirname } from "node:path";
import type { ResultEvent } from "../events.ts";
import type { BuildPlan } from "./build-plan.ts";
import type { DatasetConfig } from "./dataset-config.ts";
import type { FilledSets } from "./fill-sets.ts";

/** The dataset's configuration; `seedUsed` is false when an existing split file was reused. */
export function datasetConfigOf(
  plan: BuildPlan,
  columns: string[],
  labels: string[],
  length: number,
  filled: FilledSets,
  seedUsed: boolean,
): DatasetConfig {
  const { mean, range } = filled.normalization;
  return {
    build_name: plan.buildName,
    sample_interval: plan.sampleInterval,
    features_regex: plan.featuresRegex,
    class_label: plan.classLabel,
    aggregation_functions: plan.aggregations,
    training_set: plan.split.training,
    dev_set: plan.split.dev,
    test_set: plan.split.test,
    normalized_length: length,
    labels,
    num_columns: columns.length,
    num_features: labels.length,
    normalization_params: Object.fromEntries(labels.map((label, j) => [label, [mean[j]!, range[j]!]])),
    columns,
    dtype: plan.dtype,
    seed: seedUsed ? plan.seed : null,
    split_order: plan.splitOrder,
    classes: filled.vocabulary,
  };
}

/** The step's closing event: the figures of the summary and the original's "Done creating" line. */
export function buildResultEvent(plan: BuildPlan, config: DatasetConfig, filled: FilledSets): ResultEvent {
  const { dataset, target } = plan;
  const examples = { training: filled.ids.training.length, dev: filled.ids.dev.length, test: filled.ids.test.length };
  const lines = [
    `Done creating dataset ${dataset}: ${config.num_features} features (${config.num_columns} columns × ${config.normalized_length}), classes ${config.classes.join(", ")}`,
  ];
  // Where the plots went, one line per folder (--plot-examples has its own folder).
  for (const folder of new Set(filled.plots.map((p) => dirname(p))))
    lines.push(`plots: ${filled.plots.filter((p) => dirname(p) === folder).length} files in ${folder}`);
  if (filled.excluded.length > 0)
    lines.push(`${filled.excluded.length} runs excluded (listed in ${target.datasetFile(dataset, "excluded.json.gz")})`);
  // Where the output is, printed even with --quiet: the dataset and the pictures drawn.
  lines.push(`Dataset written to ${target.datasetDir(dataset)}`);
  if (filled.plots.length > 0) lines.push(`Plots written: ${filled.plots.join(", ")}`);
  return {
    type: "result",
    stage: "build-dataset",
    summary: {
      dataset,
      ...examples,
      excluded: filled.excluded.length,
      features: config.num_features,
      length: config.normalized_length,
      columns: config.columns.join(","),
      seed: config.seed,
      dtype: config.dtype,
    },
    lines,
  };
}
