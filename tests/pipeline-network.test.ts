// The hand-written backward pass (backprop.ts, on padded Float32Arrays) against tfjs's own automatic
// differentiation of the same loss on the network's variables.
import { beforeAll, describe, expect, test } from "bun:test";
import { Backprop } from "../src/pipeline/model/backprop.ts";
import { Network, type Head } from "../src/pipeline/model/network.ts";
import { createOptimizer } from "../src/pipeline/model/optimizers.ts";
import { seededRandom } from "../src/pipeline/seeded-random.ts";
import { initTf, tf } from "../src/pipeline/model/tfjs-runtime.ts";

beforeAll(async () => {
  await initTf("wasm");
});

const B = 9;
const F = 7;

function batch(classes: number, seed: number) {
  const random = seededRandom(seed);
  const x = Float32Array.from({ length: B * F }, () => random() * 2 - 1);
  const labels = Int32Array.from({ length: B }, () => Math.floor(random() * classes));
  const weights = Float32Array.from({ length: B }, () => 0.5 + random());
  return { x, labels, weights };
}

describe.each([
  ["sigmoid", 2, [5, 4]],
  ["softmax", 3, [6]],
  ["hinge", 2, []],
  ["hinge", 4, []],
] as [Head, number, number[]][])("%s head, %i classes, hidden %p", (head, classes, hidden) => {
  test("gradients equal autodiff of Σ wᵢ·lossᵢ + l2·Σ‖W‖²", async () => {
    const net = new Network({ inputs: F, hidden, classes, head }, 3);
    const { x, labels, weights } = batch(classes, 4);
    const units = classes === 2 ? 1 : classes;
    const l2 = 0.01;
    const core = await Backprop.create(net, B);
    core.x.set(x);
    core.targets.set(net.targets(labels));
    core.weights.set(weights);
    const mine = core.step(B, { l2, dropout: 0, seed: 1 });
    tf.tidy(() => {
      const xt = tf.tensor2d(x, [B, F]);
      const targets = tf.tensor2d(net.targets(labels), [B, units]);
      const w = tf.tensor2d(weights, [B, 1]);
      const weightedLoss = () =>
        net
          .exampleLosses(net.logits(xt), targets)
          .mul(w.reshape([-1]))
          .sum();
      const auto = tf.variableGrads(
        () => weightedLoss().add(tf.addN(net.kernels.map((k) => k.square().sum())).mul(l2)) as tf.Scalar,
        net.variables,
      );
      net.variables.forEach((v, i) => {
        const a = Array.from(core.unpadded("grads", i));
        const b = Array.from(auto.grads[v.name]!.dataSync());
        expect(a.length).toBe(b.length);
        a.forEach((g, j) => expect(g).toBeCloseTo(b[j]!, 4));
      });
      // The reported batch loss is the weighted sum without the L2 term.
      expect(mine.loss).toBeCloseTo(weightedLoss().dataSync()[0]!, 4);
      const logits = net.logits(xt).arraySync();
      const hits = logits.filter((z, i) =>
        units === 1 ? z[0]! > 0 === (labels[i] === 1) : z.indexOf(Math.max(...z)) === labels[i],
      ).length;
      expect(mine.correct).toBe(hits);
    });
    await core.close();
    net.dispose();
  });
});

test("the saved LayersModel computes the network's probabilities", () => {
  const net = new Network({ inputs: F, hidden: [5], classes: 3, head: "softmax" }, 8);
  const { x } = batch(3, 9);
  const model = net.toLayersModel();
  tf.tidy(() => {
    const xt = tf.tensor2d(x, [B, F]);
    const a = Array.from(net.probabilities(net.logits(xt)).dataSync());
    const b = Array.from((model.predict(xt) as tf.Tensor).dataSync());
    a.forEach((p, i) => expect(p).toBeCloseTo(b[i]!, 6));
  });
  model.dispose();
  net.dispose();
});

test("training steps on two threads give the one-thread weights bit for bit", async () => {
  // 2,000 inputs × 100 units × 128 rows: every product of the first layer is split by rows; the 100 × 100
  // layer's forward product is split too, and its weight gradient runs on the worker beside its input
  // gradient; the worker updates the second half of every array under each optimizer.
  const [inputs, rows] = [2000, 128];
  const random = seededRandom(12);
  const x = Float32Array.from({ length: rows * inputs }, () => random() - 0.5);
  const labels = Int32Array.from({ length: rows }, () => (random() < 0.4 ? 1 : 0));
  // Ftrl on 9 layers: 18 arrays, more than one hand-off's job list holds; without dropout, each thread adds
  // the bias and ReLU to its own rows of the forward products
  for (const [name, hidden, dropout] of [
    ["Adam", [100, 100], 0.2],
    ["Ftrl", [100, 100, 100, 100, 100, 100, 100, 100], 0],
  ] as const) {
    const net = new Network({ inputs, hidden: [...hidden], classes: 2, head: "sigmoid" }, 11);
    const weights: Float32Array[][] = [];
    for (const threads of [1, 2] as const) {
      const optimizer = createOptimizer(name, 0.01);
      const core = await Backprop.create(net, rows, threads, optimizer);
      core.x.set(x);
      core.targets.set(net.targets(labels));
      core.weights.fill(1);
      for (let step = 0; step < 5; step++) {
        core.step(rows, { l2: 0.001, dropout, seed: step });
        core.update(optimizer);
      }
      weights.push(core.params.map((p) => p.slice()));
      await core.close();
    }
    expect(weights[1]).toEqual(weights[0]!);
    // every array moved, in both halves (the head's bias, 4 padded floats, is the worker's alone)
    const start = await Backprop.create(net, rows, 1);
    weights[0]!.forEach((w, i) => {
      const half = Math.floor(w.length / 8) * 4;
      if (half > 0) expect(w.subarray(0, half)).not.toEqual(start.params[i]!.subarray(0, half));
      expect(w.subarray(half)).not.toEqual(start.params[i]!.subarray(half));
    });
    await start.close();
    net.dispose();
  }
});
