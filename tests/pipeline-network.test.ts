// The hand-written backward pass against tfjs's own automatic differentiation of the same loss.
import { beforeAll, describe, expect, test } from "bun:test";
import { Network, type Head } from "../src/pipeline/model/network.ts";
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
  test("gradients equal autodiff of Σ wᵢ·lossᵢ + l2·Σ‖W‖²", () => {
    const net = new Network({ inputs: F, hidden, classes, head }, 3);
    const { x, labels, weights } = batch(classes, 4);
    const units = classes === 2 ? 1 : classes;
    const l2 = 0.01;
    tf.tidy(() => {
      const xt = tf.tensor2d(x, [B, F]);
      const targets = tf.tensor2d(net.targets(labels), [B, units]);
      const w = tf.tensor2d(weights, [B, 1]);
      const mine = net.gradients(xt, xt.transpose(), targets, w, { l2, dropout: 0, seed: 1 });
      const auto = tf.variableGrads(() => {
        const losses = net
          .exampleLosses(net.logits(xt), targets)
          .mul(w.reshape([-1]))
          .sum();
        return losses.add(tf.addN(net.kernels.map((k) => k.square().sum())).mul(l2)) as tf.Scalar;
      }, net.variables);
      net.variables.forEach((v, i) => {
        const a = Array.from(mine.grads[i]!.dataSync());
        const b = Array.from(auto.grads[v.name]!.dataSync());
        expect(a.length).toBe(b.length);
        a.forEach((g, j) => expect(g).toBeCloseTo(b[j]!, 4));
      });
      // The reported batch loss is the weighted sum without the L2 term.
      const expected = net
        .exampleLosses(net.logits(xt), targets)
        .mul(w.reshape([-1]))
        .sum()
        .dataSync()[0]!;
      expect(mine.batch.loss.dataSync()[0]!).toBeCloseTo(expected, 4);
    });
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
