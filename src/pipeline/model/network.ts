// The two estimators as one stack of dense layers: a DNN is ReLU hidden layers under a sigmoid (2 classes) or
// softmax head with cross-entropy; the SVM is no hidden layer under a hinge head (one-vs-rest for >2 classes).
// The weights live in tfjs variables for scoring and saving; training runs on copies in backprop.ts.
import { seededRandom } from "../seeded-random.ts";
import { tf } from "./tfjs-runtime.ts";

export type Head = "sigmoid" | "softmax" | "hinge";

interface NetworkSpec {
  inputs: number;
  hidden: number[];
  /** number of classes in the vocabulary (≥ 2) */
  classes: number;
  head: Head;
}

/** Logit columns: one for a binary head (class 1's score), one per class otherwise. */
export function outputUnits(spec: NetworkSpec): number {
  return spec.classes === 2 ? 1 : spec.classes;
}

export class Network {
  readonly kernels: tf.Variable<tf.Rank.R2>[] = [];
  readonly biases: tf.Variable<tf.Rank.R1>[] = [];

  constructor(
    readonly spec: NetworkSpec,
    seed: number,
  ) {
    // Glorot-uniform kernels and zero biases, as TF's dense layers start; drawn in JS so a seed gives the
    // same network on every backend.
    const random = seededRandom(seed);
    const sizes = [spec.inputs, ...spec.hidden, outputUnits(spec)];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const [fanIn, fanOut] = [sizes[l]!, sizes[l + 1]!];
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      const w = new Float32Array(fanIn * fanOut);
      for (let i = 0; i < w.length; i++) w[i] = (random() * 2 - 1) * limit;
      this.kernels.push(tf.variable(tf.tensor2d(w, [fanIn, fanOut])));
      this.biases.push(tf.variable(tf.zeros([fanOut])));
    }
  }

  get variables(): tf.Variable[] {
    return [...this.kernels, ...this.biases];
  }

  /** Training targets for class ids: 0/1 for sigmoid, one-hot for softmax, ±1 per output for hinge. */
  targets(labels: ArrayLike<number>): Float32Array {
    const k = outputUnits(this.spec);
    const out = new Float32Array(labels.length * k);
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      if (k === 1) out[i] = this.spec.head === "hinge" ? (y === 1 ? 1 : -1) : y;
      else for (let c = 0; c < k; c++) out[i * k + c] = this.spec.head === "hinge" ? (c === y ? 1 : -1) : c === y ? 1 : 0;
    }
    return out;
  }

  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let a = x;
      const last = this.kernels.length - 1;
      for (let l = 0; l < last; l++)
        a = tf.fused.matMul({ a, b: this.kernels[l]!, bias: this.biases[l], activation: "relu" }) as tf.Tensor2D;
      return tf.fused.matMul({ a, b: this.kernels[last]!, bias: this.biases[last] }) as tf.Tensor2D;
    });
  }

  /** n × classes probabilities: sigmoid/softmax of the logits (for the SVM, a monotone squashing of its margins). */
  probabilities(logits: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      if (outputUnits(this.spec) > 1) return tf.softmax(logits);
      const p = tf.sigmoid(logits);
      return tf.concat([tf.sub(1, p), p], 1) as tf.Tensor2D;
    });
  }

  /** Loss of each example (n), under the head's loss. */
  exampleLosses(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      switch (this.spec.head) {
        case "sigmoid": // max(z,0) − z·y + log(1 + e^−|z|), stable for any z
          return tf
            .relu(logits)
            .sub(logits.mul(targets))
            .add(tf.log1p(tf.exp(tf.abs(logits).neg())))
            .sum(1);
        case "softmax":
          return tf.logSumExp(logits, 1).sub(logits.mul(targets).sum(1));
        case "hinge":
          return tf.relu(tf.sub(1, logits.mul(targets))).sum(1);
      }
    });
  }

  /** A tfjs LayersModel with the same weights whose output is the probabilities (1 column for 2 classes). */
  toLayersModel(): tf.LayersModel {
    const k = outputUnits(this.spec);
    const model = tf.sequential();
    this.kernels.forEach((w, l) => {
      const isLast = l === this.kernels.length - 1;
      const activation = !isLast ? "relu" : k === 1 ? "sigmoid" : "softmax";
      model.add(
        tf.layers.dense({ units: w.shape[1]!, activation, inputShape: l === 0 ? [this.spec.inputs] : undefined, name: `dense_${l}` }),
      );
    });
    model.setWeights(this.kernels.flatMap((w, l) => [w, this.biases[l]!]));
    return model;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
