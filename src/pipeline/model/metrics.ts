// Evaluation figures (the keys of docs/compatibility.md, "Experiments and training") computed from a model's probabilities. Pure arithmetic on typed arrays so the
// tests can check every number by hand and the same code scores the test set, eval datasets and dev epochs.
import type { JsonValue } from "../events.ts";

export interface Scored {
  /** n × k class probabilities, row-major */
  probabilities: Float32Array;
  /** class id (index into the vocabulary) per example */
  labels: Int32Array;
  /** the loss of each example under the model's own training loss (cross-entropy, or hinge for the SVM) */
  losses: Float64Array;
  classes: readonly string[];
}

interface ClassReport {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export type EvalMetrics = Record<string, JsonValue>;

export function argmaxRows(probabilities: Float32Array, k: number): Int32Array {
  const n = probabilities.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probabilities[i * k + c]! > probabilities[i * k + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/** rows = actual class, columns = predicted class (scikit-learn's layout). */
export function confusionMatrix(actual: Int32Array, predicted: Int32Array, k: number): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < actual.length; i++) m[actual[i]!]![predicted[i]!]!++;
  return m;
}

/** Precision, recall and F1 of one class read off the confusion matrix; 0 where undefined (as sklearn's zero_division=0). */
export function classReport(cm: number[][], c: number): ClassReport {
  const tp = cm[c]![c]!;
  const support = cm[c]!.reduce((a, b) => a + b, 0);
  const predicted = cm.reduce((a, row) => a + row[c]!, 0);
  const precision = predicted ? tp / predicted : 0;
  const recall = support ? tp / support : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, support };
}

/** Area under the ROC curve as the Mann–Whitney statistic (ties count one half); NaN with one class only. */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const order = rankOrder(scores);
  let positives = 0;
  let rankSum = 0;
  for (const [i, j] of tieGroups(order, scores)) {
    const midRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (positive[order[t]!]) {
        positives++;
        rankSum += midRank;
      }
    }
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Area under the precision–recall curve as average precision (Σ (R_t − R_{t−1}) P_t over distinct thresholds). */
export function prAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const order = rankOrder(scores).reverse();
  let total = 0;
  for (let i = 0; i < order.length; i++) if (positive[i]) total++;
  if (total === 0) return NaN;
  let tp = 0;
  let lastRecall = 0;
  let ap = 0;
  for (const [i, j] of tieGroups(order, scores)) {
    for (let t = i; t <= j; t++) if (positive[order[t]!]) tp++;
    const recall = tp / total;
    ap += (recall - lastRecall) * (tp / (j + 1));
    lastRecall = recall;
  }
  return ap;
}

/** Index ranges [i, j] of `order` whose scores are equal: a threshold cannot split them. */
function* tieGroups(order: number[], scores: ArrayLike<number>): Generator<[number, number]> {
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    yield [i, j];
    i = j + 1;
  }
}

function rankOrder(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : NaN;
}

/**
 * The keys TF's canned heads reported plus f1 and the confusion matrix. Binary: class 1 is the positive
 * class (status 1 = failed) at threshold 0.5, as TF's logistic head. Multi-class: macro-averaged precision,
 * recall and F1, and a per-class report as scikit-learn's classification_report.
 */
export function evaluate(s: Scored, globalStep: number): EvalMetrics {
  const k = s.classes.length;
  const n = s.labels.length;
  const predicted = argmaxRows(s.probabilities, k);
  const cm = confusionMatrix(s.labels, predicted, k);
  let correct = 0;
  for (let c = 0; c < k; c++) correct += cm[c]![c]!;
  const counts = cm.map((row) => row.reduce((a, b) => a + b, 0));
  const lossSum = s.losses.reduce((a, b) => a + b, 0);
  const common = {
    accuracy: correct / n,
    accuracy_baseline: Math.max(...counts) / n,
    average_loss: lossSum / n,
    loss: lossSum,
    global_step: globalStep,
  };
  if (k === 2) {
    const p1 = new Float64Array(n);
    const positive = new Array<boolean>(n);
    for (let i = 0; i < n; i++) {
      p1[i] = s.probabilities[i * 2 + 1]!;
      positive[i] = s.labels[i] === 1;
    }
    const report = classReport(cm, 1);
    return {
      ...common,
      auc: rocAuc(p1, positive),
      auc_precision_recall: prAuc(p1, positive),
      "label/mean": counts[1]! / n,
      precision: report.precision,
      "prediction/mean": mean(p1),
      recall: report.recall,
      f1: report.f1,
      classes: [...s.classes],
      confusion_matrix: cm,
    };
  }
  const reports = s.classes.map((_, c) => classReport(cm, c));
  // No prototype: class names come from the data, and a class named "__proto__" must stay a key.
  const perClass: Record<string, JsonValue> = Object.create(null);
  s.classes.forEach((name, c) => (perClass[name] = { ...reports[c]! }));
  return {
    ...common,
    precision: mean(reports.map((r) => r.precision)),
    recall: mean(reports.map((r) => r.recall)),
    f1: mean(reports.map((r) => r.f1)),
    classes: [...s.classes],
    confusion_matrix: cm,
    per_class: perClass,
  };
}
