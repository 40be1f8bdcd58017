// train-model's report: the dev-set predictions file in the original's layout and the closing summary,
// made from what training and evaluation produced.
import type { SplitArrays } from "../dataset/dataset-arrays.ts";
import type { JsonValue, ResultEvent } from "../events.ts";
import type { EvalMetrics } from "./metrics.ts";
import { metricsReport } from "./metrics-report.ts";
import type { ScoredWithLogits } from "./score.ts";
import type { TrainingPlan } from "./train-plan.ts";
import type { LoopResult } from "./training-loop.ts";

/** [example_id, {logits, logistic (binary), probabilities, class_ids, classes}, actual_class] per dev example, as the original wrote them. */
export function predictionRecords(split: SplitArrays, s: ScoredWithLogits): JsonValue[] {
  const k = s.classes.length;
  const units = k === 2 ? 1 : k;
  return split.ids.map((id, i) => {
    const probabilities = Array.from(s.probabilities.subarray(i * k, (i + 1) * k));
    const classId = probabilities.indexOf(Math.max(...probabilities));
    const prediction: Record<string, JsonValue> = { logits: Array.from(s.logits.subarray(i * units, (i + 1) * units)) };
    if (k === 2) prediction.logistic = [probabilities[1]!];
    Object.assign(prediction, { probabilities, class_ids: [classId], classes: [s.classes[classId]!] });
    return [id, prediction, split.classes[i]!];
  });
}

/** The metrics that are plain numbers (for TensorBoard and the summary table). */
export function numericMetrics(m: EvalMetrics): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => typeof e[1] === "number"));
}

/** The step's closing event: the run's figures and every evaluated test set's report. */
export function trainResultEvent(
  plan: TrainingPlan,
  loop: LoopResult,
  evaluations: Record<string, EvalMetrics>,
  modelDir: string,
): ResultEvent {
  return {
    type: "result",
    stage: "train-model",
    summary: {
      dataset: plan.datasetName,
      experiment: plan.experimentName,
      estimator: plan.experiment.estimator,
      steps: loop.steps,
      epochs: loop.epochs,
      seconds: Number(loop.seconds.toFixed(2)),
      ...numericMetrics(evaluations[plan.datasetName]!),
      model: modelDir,
    },
    lines: Object.entries(evaluations).flatMap(([name, m]) => metricsReport(`test set of ${name}`, m)),
  };
}
