import { describe, expect, test } from "bun:test";
import { classReport, confusionMatrix, evaluate, prAuc, rocAuc } from "../src/pipeline/model/metrics.ts";
import { seededRandom } from "../src/pipeline/seeded-random.ts";

// Eight examples worked out by hand: positives score 0.35 0.8 0.7 0.9, negatives 0.1 0.4 0.2 0.6.
const scores = [0.1, 0.4, 0.35, 0.8, 0.7, 0.2, 0.9, 0.6];
const labels = Int32Array.from([0, 0, 1, 1, 1, 0, 1, 0]);

function binaryScored(p1: number[], y: Int32Array, losses: number[]) {
  const probabilities = new Float32Array(p1.length * 2);
  p1.forEach((p, i) => {
    probabilities[2 * i] = 1 - p;
    probabilities[2 * i + 1] = p;
  });
  return { probabilities, labels: y, losses: Float64Array.from(losses), classes: ["0", "1"] };
}

describe("binary metrics against hand arithmetic", () => {
  const m = evaluate(binaryScored(scores, labels, [1, 2, 3, 4, 5, 6, 7, 8]), 99);

  test("confusion matrix (rows actual, columns predicted at 0.5)", () => {
    // predicted 0 0 0 1 1 0 1 1 → actual 0: three right, #7 wrong; actual 1: #2 wrong, three right
    expect(m.confusion_matrix).toEqual([
      [3, 1],
      [1, 3],
    ]);
  });

  test("accuracy, precision, recall, F1, baseline, means, losses, step", () => {
    expect(m.accuracy).toBeCloseTo(6 / 8, 12);
    expect(m.precision).toBeCloseTo(3 / 4, 12);
    expect(m.recall).toBeCloseTo(3 / 4, 12);
    expect(m.f1).toBeCloseTo(3 / 4, 12);
    expect(m.accuracy_baseline).toBe(0.5);
    expect(m["label/mean"]).toBe(0.5);
    expect(m["prediction/mean"] as number).toBeCloseTo(4.05 / 8, 6);
    expect(m.loss).toBe(36);
    expect(m.average_loss).toBe(4.5);
    expect(m.global_step).toBe(99);
  });

  test("ROC AUC = share of positive/negative pairs ranked right: 14 of 16", () => {
    expect(m.auc).toBeCloseTo(14 / 16, 12);
  });

  test("PR AUC = average precision: precisions 1, 1, 1, 4/6 at the four positives", () => {
    expect(m.auc_precision_recall as number).toBeCloseTo((3 + 4 / 6) / 4, 12);
  });

  test("ties count one half; a single class has no AUC", () => {
    expect(rocAuc([0.5, 0.5], [true, false])).toBe(0.5);
    expect(rocAuc([0.2, 0.9, 0.9], [false, true, false])).toBeCloseTo((1 + 0.5) / 2, 12);
    expect(rocAuc([0.1, 0.2], [true, true])).toBeNaN();
    expect(prAuc([0.1, 0.2], [false, false])).toBeNaN();
  });
});

describe("multi-class metrics against hand arithmetic", () => {
  // actual 0 0 1 1 2 2, predicted 0 1 1 1 2 0
  const predicted = [0, 1, 1, 1, 2, 0];
  const probabilities = new Float32Array(18);
  predicted.forEach((c, i) => {
    for (let k = 0; k < 3; k++) probabilities[i * 3 + k] = k === c ? 0.6 : 0.2;
  });
  const m = evaluate(
    {
      probabilities,
      labels: Int32Array.from([0, 0, 1, 1, 2, 2]),
      losses: new Float64Array(6).fill(0.5),
      classes: ["ovh", "rax", "vexxhost"],
    },
    7,
  );

  test("confusion matrix and per-class report", () => {
    expect(m.confusion_matrix).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
    const perClass = m.per_class as Record<string, { precision: number; recall: number; f1: number; support: number }>;
    expect(perClass.ovh).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(perClass.rax!.precision).toBeCloseTo(2 / 3, 12);
    expect(perClass.rax!.recall).toBe(1);
    expect(perClass.rax!.f1).toBeCloseTo(0.8, 12);
    expect(perClass.vexxhost!.f1).toBeCloseTo(2 / 3, 12);
  });

  test("accuracy, macro F1, losses", () => {
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.f1 as number).toBeCloseTo((0.5 + 0.8 + 2 / 3) / 3, 12);
    expect(m.loss).toBe(3);
    expect(m.average_loss).toBe(0.5);
    expect(m.auc).toBeUndefined();
  });

  test("a class never predicted has precision 0, not NaN", () => {
    const cm = confusionMatrix(Int32Array.from([0, 1]), Int32Array.from([0, 0]), 2);
    expect(classReport(cm, 1)).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
  });
});

test("ROC AUC, average precision, F1 and confusion matrix agree with scikit-learn on 300 random scores", () => {
  const random = seededRandom(5);
  // Scores rounded to 2 decimals so that ties occur.
  const p = Array.from({ length: 300 }, () => Math.round(random() * 100) / 100);
  const y = Int32Array.from(p, (s) => (random() < s ? 1 : 0));
  const m = evaluate(binaryScored(p, y, new Array(300).fill(0)), 0);
  const script = `
import json, sys
from sklearn.metrics import roc_auc_score, average_precision_score, f1_score, confusion_matrix
d = json.load(sys.stdin)
pred = [1 if s > 0.5 else 0 for s in d["p"]]
print(json.dumps({"auc": roc_auc_score(d["y"], d["p"]), "ap": average_precision_score(d["y"], d["p"]), "f1": f1_score(d["y"], pred), "cm": confusion_matrix(d["y"], pred).tolist()}))`;
  const r = Bun.spawnSync(["/usr/bin/python3", "-c", script], { stdin: Buffer.from(JSON.stringify({ p, y: Array.from(y) })) });
  expect(r.exitCode).toBe(0);
  const sk = JSON.parse(r.stdout.toString());
  // Our threshold is p1 > p0, i.e. p > 0.5 exactly as the sklearn side computes it.
  expect(m.auc as number).toBeCloseTo(sk.auc, 10);
  expect(m.auc_precision_recall as number).toBeCloseTo(sk.ap, 10);
  expect(m.f1 as number).toBeCloseTo(sk.f1, 10);
  expect(m.confusion_matrix).toEqual(sk.cm);
});

describe("edges a report must get right", () => {
  test("a probability of exactly 0.5 is not a failure prediction (threshold p > 0.5, as TF's logistic head)", () => {
    const m = evaluate(binaryScored([0.5, 0.5, 0.51], Int32Array.from([0, 1, 1]), [0, 0, 0]), 0);
    expect(m.confusion_matrix).toEqual([
      [1, 0],
      [1, 1],
    ]);
  });

  test("unbalanced classes: the baseline is the majority share, label/mean the failure share", () => {
    const m = evaluate(binaryScored([0.1, 0.2, 0.3, 0.9], Int32Array.from([0, 0, 0, 1]), [0.5, 0.5, 0.5, 0.5]), 3);
    expect(m.accuracy).toBe(1);
    expect(m.accuracy_baseline).toBe(0.75);
    expect(m["label/mean"]).toBe(0.25);
    expect(m.auc).toBe(1);
    expect(m.auc_precision_recall).toBe(1);
    expect(m.classes).toEqual(["0", "1"]);
  });

  test("the highest of three probabilities wins, the first class on a tie", () => {
    const probabilities = Float32Array.from([0.2, 0.3, 0.5, 0.6, 0.3, 0.1, 0.1, 0.8, 0.1, 0.4, 0.4, 0.2]);
    const m = evaluate({ probabilities, labels: Int32Array.from([2, 0, 1, 0]), losses: new Float64Array(4), classes: ["a", "b", "c"] }, 0);
    expect(m.confusion_matrix).toEqual([
      [2, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(m.accuracy_baseline).toBe(0.5);
  });

  test("multi-class precision and recall are macro averages; a class called __proto__ keeps its report", () => {
    // actual 0 0 1 2, predicted 0 1 1 1: class 0 P 1 R 1/2; class 1 P 1/3 R 1; class 2 P 0 R 0
    const predicted = [0, 1, 1, 1];
    const probabilities = new Float32Array(12);
    predicted.forEach((c, i) => {
      probabilities[i * 3 + c] = 1;
    });
    const m = evaluate(
      { probabilities, labels: Int32Array.from([0, 0, 1, 2]), losses: new Float64Array(4), classes: ["__proto__", "b", "c"] },
      0,
    );
    expect(m.precision as number).toBeCloseTo((1 + 1 / 3 + 0) / 3, 12);
    expect(m.recall as number).toBeCloseTo((0.5 + 1 + 0) / 3, 12);
    const perClass = m.per_class as Record<string, unknown>;
    expect(Object.keys(perClass)).toEqual(["__proto__", "b", "c"]);
    expect(m.classes).toEqual(["__proto__", "b", "c"]);
    expect(Object.entries(perClass)[0]).toEqual(["__proto__", { precision: 1, recall: 0.5, f1: 2 / 3, support: 2 }]);
    expect(perClass.c).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
  });

  test("average precision counts a tie group once, at its last position", () => {
    // Scores 0.9 (pos), 0.5 (pos), 0.5 (neg), 0.1 (neg): precision at the 0.5 threshold is 2/3.
    expect(prAuc([0.9, 0.5, 0.5, 0.1], [true, true, false, false])).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3), 12);
    expect(prAuc([0.1, 0.5, 0.5, 0.9], [false, false, true, true])).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3), 12);
    expect(rocAuc([0.9, 0.1], [false, true])).toBe(0);
  });
});
