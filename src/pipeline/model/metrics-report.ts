// The closing lines of train-model: the confusion matrix and per-class figures as a fixed-width table,
// the same text on a terminal, in CI logs and in JSON output.
import type { EvalMetrics } from "./metrics.ts";
import { classReport } from "./metrics.ts";

const fmt = (x: number) => x.toFixed(3);

export function metricsReport(title: string, metrics: EvalMetrics): string[] {
  const classes = metrics.classes as string[];
  const cm = metrics.confusion_matrix as number[][];
  const width = Math.max(7, ...classes.map((c) => c.length + 1), ...cm.flat().map((v) => String(v).length + 1));
  const lines = [
    `${title}: accuracy ${fmt(metrics.accuracy as number)} (baseline ${fmt(metrics.accuracy_baseline as number)}), rows = actual, columns = predicted`,
  ];
  lines.push(`${"".padStart(width)}${classes.map((c) => c.padStart(width)).join("")}   precision recall   f1     support`);
  classes.forEach((c, i) => {
    const r = classReport(cm, i);
    lines.push(
      `${c.padStart(width)}${cm[i]!.map((v) => String(v).padStart(width)).join("")}   ${fmt(r.precision).padStart(9)} ${fmt(r.recall).padStart(6)} ${fmt(r.f1).padStart(6)} ${String(r.support).padStart(9)}`,
    );
  });
  return lines;
}
