// The hand-written forward pass every prediction uses (dense-forward.ts): the same probabilities as tfjs
// for the same saved network, and, what mqtt-trainer's batching relies on, each row's probabilities bit for
// bit the same whether it is predicted alone or among others.
import { expect, test } from "bun:test";
import { DenseForward } from "../src/pipeline/model/dense-forward.ts";
import { Network } from "../src/pipeline/model/network.ts";
import { initTf, tf } from "../src/pipeline/model/tfjs-runtime.ts";
import { seededRandom } from "../src/pipeline/seeded-random.ts";

/** Rows of ±3 values: enough to push units past the ReLU on both sides. */
function rows(n: number, features: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n * features }, () => (random() * 2 - 1) * 3);
}

test.each([
  ["sigmoid, 2 classes, hidden 5/3", { inputs: 7, hidden: [5, 3], classes: 2, head: "sigmoid" as const }],
  ["softmax, 3 classes, hidden 10", { inputs: 13, hidden: [10], classes: 3, head: "softmax" as const }],
  ["SVM: no hidden layer, 2 classes", { inputs: 6, hidden: [], classes: 2, head: "hinge" as const }],
])("%s: tfjs's probabilities, and each row the same alone as in a batch of 600", async (_name, spec) => {
  await initTf("wasm");
  const net = new Network(spec, 11);
  const model = net.toLayersModel();
  try {
    const forward = DenseForward.of(model, "test");
    const n = 600; // more than one kernel call's rows
    const x = rows(n, spec.inputs, 3);
    const together = forward.probabilities(x, n, spec.classes);
    const theirs = tf.tidy(() => {
      const p = (model.predict(tf.tensor2d(x, [n, spec.inputs])) as tf.Tensor).dataSync();
      return spec.classes === 2 ? Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 ? p[(i - 1) / 2]! : 1 - p[i / 2]!)) : p;
    });
    for (let i = 0; i < together.length; i++) expect(together[i]!).toBeCloseTo(theirs[i]!, 5);
    for (const i of [0, 1, 255, 256, 257, 599]) {
      const alone = forward.probabilities(x.subarray(i * spec.inputs, (i + 1) * spec.inputs), 1, spec.classes);
      expect(Array.from(alone)).toEqual(Array.from(together.subarray(i * spec.classes, (i + 1) * spec.classes)));
    }
    // the probabilities of a row sum to 1
    for (let i = 0; i < n; i++) {
      const sum = together.subarray(i * spec.classes, (i + 1) * spec.classes).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 5);
    }
  } finally {
    model.dispose();
    net.dispose();
  }
});

test("a model that is not a stack of dense layers is refused with one line", async () => {
  await initTf("wasm");
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3], activation: "tanh" })] });
  try {
    expect(() => DenseForward.of(model, "/ws/ds/exp")).toThrow(
      "model in /ws/ds/exp: layer 0 (Dense, tanh) is not a dense layer as ciml saves them; train it again with `ciml train-model`",
    );
  } finally {
    model.dispose();
  }
});
