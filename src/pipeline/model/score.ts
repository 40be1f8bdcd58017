// A whole split through the network a few thousand rows at a time: what evaluation, the training monitor
// and the dev-set predictions all read.
import type { Scored } from "./metrics.ts";
import type { Network } from "./network.ts";
import { tf } from "./tfjs-runtime.ts";
import type { Matrix } from "./training-loop.ts";

const EVAL_BATCH = 4096;

export type ScoredWithLogits = Scored & { logits: Float32Array };

/** Logits, probabilities and per-example losses of a whole split. */
export function score(net: Network, data: Matrix, labels: Int32Array, classes: string[]): ScoredWithLogits {
  const k = classes.length;
  const units = k === 2 ? 1 : k;
  const targets = net.targets(labels);
  const logits = new Float32Array(data.n * units);
  const probabilities = new Float32Array(data.n * k);
  const losses = new Float64Array(data.n);
  for (let start = 0; start < data.n; start += EVAL_BATCH) {
    const b = Math.min(EVAL_BATCH, data.n - start);
    const [z, p, l] = tf.tidy(() => {
      const z = net.logits(tf.tensor2d(data.x.subarray(start * data.features, (start + b) * data.features), [b, data.features]));
      return [z, net.probabilities(z), net.exampleLosses(z, tf.tensor2d(targets.subarray(start * units, (start + b) * units), [b, units]))];
    });
    logits.set(z.dataSync(), start * units);
    probabilities.set(p.dataSync(), start * k);
    losses.set(l.dataSync(), start);
    tf.dispose([z, p, l]);
  }
  return { logits, probabilities, losses, labels, classes };
}
