// The six optimizers of the original TensorFlow 1.x's update rules and defaults, so that an experiment tuned on
// the original (e.g. Adagrad 0.05) moves the weights the same way here. tfjs's own optimizers differ in
// defaults (Adam/RMSProp epsilon, RMSProp's accumulator starts at 0 instead of 1) and lack FTRL and
// proximal Adagrad, so all six are written out here, one pass over each Float32Array of weights per step.
// Each element is worked in float64 from the stored float32 state and stored back as float32, as TF keeps it.
import type { OptimizerName } from "./experiment.ts";

export interface Optimizer {
  /** Applies one update in place; `grads[i]` is the gradient of the loss with respect to `params[i]`. */
  apply(params: Float32Array[], grads: Float32Array[]): void;
}

type Update = (w: Float32Array, g: Float32Array, slots: Float32Array[]) => void;

/** Slots are made on the first step, one array per slot and weight array, filled with their starting values. */
function perArray(starts: number[], update: Update, beforeStep: () => void = () => {}): Optimizer {
  let slots: Float32Array[][] = [];
  return {
    apply(params, grads) {
      if (slots.length !== params.length) slots = params.map((p) => starts.map((s) => new Float32Array(p.length).fill(s)));
      beforeStep();
      params.forEach((w, i) => update(w, grads[i]!, slots[i]!));
    },
  };
}

/** TF1 defaults: Adagrad/ProximalAdagrad/Ftrl initial accumulator 0.1; Adam β1 0.9, β2 0.999, ε 1e-8; RMSProp decay 0.9, momentum 0, ε 1e-10. */
export function createOptimizer(name: OptimizerName, learningRate: number): Optimizer {
  const lr = learningRate;
  switch (name) {
    case "SGD":
      return perArray([], (w, g) => {
        for (let i = 0; i < w.length; i++) w[i]! -= lr * g[i]!;
      });
    case "Adagrad":
    // ProximalAdagrad with TF's default l1 = l2 = 0 reduces to Adagrad's step exactly.
    case "ProximalAdagrad":
      return perArray([0.1], (w, g, [acc]) => {
        for (let i = 0; i < w.length; i++) {
          const gi = g[i]!;
          acc![i]! += gi * gi;
          w[i]! -= (lr * gi) / Math.sqrt(acc![i]!);
        }
      });
    case "Adam": {
      const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
      let t = 0;
      let lrT = 0;
      return perArray(
        [0, 0],
        (w, g, [m, s]) => {
          for (let i = 0; i < w.length; i++) {
            const gi = g[i]!;
            m![i] = beta1 * m![i]! + (1 - beta1) * gi;
            s![i] = beta2 * s![i]! + (1 - beta2) * gi * gi;
            w[i]! -= (lrT * m![i]!) / (Math.sqrt(s![i]!) + eps);
          }
        },
        () => {
          t++;
          lrT = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
        },
      );
    }
    case "RMSProp": {
      const [decay, eps] = [0.9, 1e-10];
      return perArray([1], (w, g, [ms]) => {
        for (let i = 0; i < w.length; i++) {
          const gi = g[i]!;
          ms![i] = decay * ms![i]! + (1 - decay) * gi * gi;
          w[i]! -= (lr * gi) / Math.sqrt(ms![i]! + eps);
        }
      });
    }
    case "Ftrl":
      // FTRL-Proximal with learning_rate_power −0.5 and l1 = l2 = 0: w = −z / (√n / lr).
      return perArray([0.1, 0], (w, g, [n, z]) => {
        for (let i = 0; i < w.length; i++) {
          const gi = g[i]!;
          const n0 = n![i]!;
          n![i] = n0 + gi * gi;
          const n1 = n![i]!;
          z![i] = z![i]! + gi - ((Math.sqrt(n1) - Math.sqrt(n0)) / lr) * w[i]!;
          w[i] = -z![i]! / (Math.sqrt(n1) / lr);
        }
      });
  }
}
