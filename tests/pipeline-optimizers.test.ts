// Each optimizer's update against TF 1.x's documented rules, written out per scalar here (training_ops
// kernels: ApplyAdagrad, ApplyAdam, ApplyRMSProp, ApplyFtrl, ApplyProximalAdagrad, ApplyGradientDescent).
import { expect, test } from "bun:test";
import type { OptimizerName } from "../src/pipeline/model/experiment.ts";
import { createOptimizer } from "../src/pipeline/model/optimizers.ts";
import { seededRandom } from "../src/pipeline/seeded-random.ts";

const LR = 0.1;
const START = [1, -2, 0.5];
const GRADS = [
  [0.5, 1, -0.25],
  [-0.3, 0.8, 0],
  [0.1, -1.5, 2],
];

function reference(name: OptimizerName): number[] {
  return START.map((w0, i) => {
    let w = w0;
    let acc = 0.1; // Adagrad, ProximalAdagrad, Ftrl: initial_accumulator_value
    let ms = 1; // RMSProp's mean square starts at 1 in TF 1.x
    let m = 0;
    let v = 0;
    let z = 0;
    GRADS.forEach((gs, step) => {
      const g = gs[i]!;
      const t = step + 1;
      switch (name) {
        case "SGD":
          w -= LR * g;
          break;
        case "Adagrad":
        case "ProximalAdagrad":
          acc += g * g;
          w -= (LR * g) / Math.sqrt(acc);
          break;
        case "RMSProp":
          ms = 0.9 * ms + 0.1 * g * g;
          w -= (LR * g) / Math.sqrt(ms + 1e-10);
          break;
        case "Adam": {
          m = 0.9 * m + 0.1 * g;
          v = 0.999 * v + 0.001 * g * g;
          const lrT = (LR * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
          w -= (lrT * m) / (Math.sqrt(v) + 1e-8);
          break;
        }
        case "Ftrl": {
          const accNew = acc + g * g;
          z += g - ((Math.sqrt(accNew) - Math.sqrt(acc)) / LR) * w;
          const quadratic = Math.sqrt(accNew) / LR;
          w = Math.abs(z) > 0 ? -z / quadratic : 0;
          acc = accNew;
          break;
        }
      }
    });
    return w;
  });
}

test.each(["SGD", "Adagrad", "ProximalAdagrad", "RMSProp", "Adam", "Ftrl"] as const)(
  "%s follows TF 1.x's update rule and defaults over three steps",
  (name) => {
    const w = Float32Array.from(START);
    const optimizer = createOptimizer(name, LR);
    for (const g of GRADS) optimizer.apply([w], [Float32Array.from(g)]);
    const got = Array.from(w);
    const want = reference(name);
    got.forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 5));
  },
);

test("first steps worked by hand: Adagrad, RMSProp (accumulator from 1, not 0) and FTRL", () => {
  // w = 1, g = 0.5, lr = 0.1
  const one = (name: OptimizerName) => {
    const w = Float32Array.of(1);
    createOptimizer(name, LR).apply([w], [Float32Array.of(0.5)]);
    return w[0]!;
  };
  expect(one("Adagrad")).toBeCloseTo(1 - 0.05 / Math.sqrt(0.35), 6); // 0.91548
  expect(one("RMSProp")).toBeCloseTo(1 - 0.05 / Math.sqrt(0.925), 6); // 0.94801 (tfjs's default would give 0.684)
  expect(one("Ftrl")).toBeCloseTo((-(0.5 - (Math.sqrt(0.35) - Math.sqrt(0.1)) / 0.1) / Math.sqrt(0.35)) * 0.1, 6); // 0.38096
  expect(one("Adam")).toBeCloseTo(0.9, 6);
});

/** One step of each rule on float32 state, rounding at every store as a Float32Array does. */
function float32Step(name: OptimizerName, t: number, w: number, g: number, s: number[]): number {
  const f = Math.fround;
  switch (name) {
    case "SGD":
      return f(w - LR * g);
    case "Adagrad":
    case "ProximalAdagrad":
      s[0] = f(s[0]! + g * g);
      return f(w - (LR * g) / Math.sqrt(s[0]));
    case "RMSProp":
      s[0] = f(0.9 * s[0]! + (1 - 0.9) * g * g);
      return f(w - (LR * g) / Math.sqrt(s[0] + 1e-10));
    case "Adam": {
      s[0] = f(0.9 * s[0]! + (1 - 0.9) * g);
      s[1] = f(0.999 * s[1]! + (1 - 0.999) * g * g);
      const lrT = (LR * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
      return f(w - (lrT * s[0]) / (Math.sqrt(s[1]) + 1e-8));
    }
    case "Ftrl": {
      const n0 = s[0]!;
      s[0] = f(n0 + g * g);
      s[1] = f(s[1]! + g - ((Math.sqrt(s[0]) - Math.sqrt(n0)) / LR) * w);
      return f(-s[1] / (Math.sqrt(s[0]) / LR));
    }
  }
}

test.each(["SGD", "Adagrad", "ProximalAdagrad", "RMSProp", "Adam", "Ftrl"] as const)(
  "%s gives the float32 rule's weights to the last bit, on arrays of odd and even lengths",
  (name) => {
    const random = seededRandom(7);
    const lengths = [1, 6, 1001];
    const params = lengths.map((n) => Float32Array.from({ length: n }, () => random() * 2 - 1));
    const want = params.map((p) => Array.from(p));
    const starts: Record<OptimizerName, number[]> = {
      SGD: [],
      Adagrad: [0.1],
      ProximalAdagrad: [0.1],
      RMSProp: [1],
      Adam: [0, 0],
      Ftrl: [0.1, 0],
    };
    const slots = want.map((ws) => ws.map(() => starts[name].map(Math.fround)));
    const optimizer = createOptimizer(name, LR);
    for (let t = 1; t <= 4; t++) {
      const grads = lengths.map((n) => Float32Array.from({ length: n }, () => random() - 0.5));
      optimizer.apply(params, grads);
      want.forEach((ws, a) => ws.forEach((w, i) => (ws[i] = float32Step(name, t, w, grads[a]![i]!, slots[a]![i]!))));
    }
    params.forEach((p, a) => expect(Array.from(p)).toEqual(want[a]!));
  },
);
