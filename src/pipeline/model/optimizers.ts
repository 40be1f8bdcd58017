// The six optimizers of the original TensorFlow 1.x's update rules and defaults, so that an experiment tuned on
// the original (e.g. Adagrad 0.05) moves the weights the same way here. tfjs's own optimizers differ in
// defaults (Adam/RMSProp epsilon, RMSProp's accumulator starts at 0 instead of 1) and lack FTRL and
// proximal Adagrad, so all six are written out here over tf.Variables.
import type { OptimizerName } from "./experiment.ts";
import { tf } from "./tfjs-runtime.ts";

export interface Optimizer {
  /** Applies one update; `grads[i]` is the gradient of the loss with respect to `variables[i]`. */
  apply(grads: tf.Tensor[]): void;
  dispose(): void;
}

type Slot = tf.Variable;

function slots(variables: tf.Variable[], init: number): Slot[] {
  return variables.map((v) => tf.variable(tf.fill(v.shape, init), false));
}

function perVariable(variables: tf.Variable[], own: Slot[][], update: (v: tf.Variable, g: tf.Tensor, s: Slot[]) => void): Optimizer {
  return {
    apply(grads) {
      tf.tidy(() =>
        variables.forEach((v, i) =>
          update(
            v,
            grads[i]!,
            own.map((slot) => slot[i]!),
          ),
        ),
      );
    },
    dispose() {
      for (const slot of own) for (const s of slot) s.dispose();
    },
  };
}

/** TF1 defaults: Adagrad/ProximalAdagrad/Ftrl initial accumulator 0.1; Adam β1 0.9, β2 0.999, ε 1e-8; RMSProp decay 0.9, momentum 0, ε 1e-10. */
export function createOptimizer(name: OptimizerName, learningRate: number, variables: tf.Variable[]): Optimizer {
  const lr = learningRate;
  switch (name) {
    case "SGD":
      return perVariable(variables, [], (v, g) => v.assign(v.sub(g.mul(lr))));
    case "Adagrad":
    // ProximalAdagrad with TF's default l1 = l2 = 0 reduces to Adagrad's step exactly.
    case "ProximalAdagrad":
      return perVariable(variables, [slots(variables, 0.1)], (v, g, [acc]) => {
        const a = acc!.add(g.square());
        acc!.assign(a);
        v.assign(v.sub(g.mul(lr).div(a.sqrt())));
      });
    case "Adam": {
      const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
      let t = 0;
      const opt = perVariable(variables, [slots(variables, 0), slots(variables, 0)], (v, g, [m, s]) => {
        const lrT = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
        const m1 = m!.mul(beta1).add(g.mul(1 - beta1));
        const s1 = s!.mul(beta2).add(g.square().mul(1 - beta2));
        m!.assign(m1);
        s!.assign(s1);
        v.assign(v.sub(m1.mul(lrT).div(s1.sqrt().add(eps))));
      });
      return {
        apply(grads) {
          t++;
          opt.apply(grads);
        },
        dispose: opt.dispose,
      };
    }
    case "RMSProp": {
      const [decay, eps] = [0.9, 1e-10];
      return perVariable(variables, [slots(variables, 1)], (v, g, [ms]) => {
        const ms1 = ms!.mul(decay).add(g.square().mul(1 - decay));
        ms!.assign(ms1);
        v.assign(v.sub(g.mul(lr).div(ms1.add(eps).sqrt())));
      });
    }
    case "Ftrl":
      // FTRL-Proximal with learning_rate_power −0.5 and l1 = l2 = 0: w = −z / (√n / lr).
      return perVariable(variables, [slots(variables, 0.1), slots(variables, 0)], (v, g, [n, z]) => {
        const n1 = n!.add(g.square());
        const sigma = n1.sqrt().sub(n!.sqrt()).div(lr);
        const z1 = z!.add(g).sub(sigma.mul(v));
        n!.assign(n1);
        z!.assign(z1);
        v.assign(z1.neg().div(n1.sqrt().div(lr)));
      });
  }
}
