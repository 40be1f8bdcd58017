// The six optimizers of the original TensorFlow 1.x's update rules and defaults, so that an experiment tuned on
// the original (e.g. Adagrad 0.05) moves the weights the same way here. tfjs's own optimizers differ in
// defaults (Adam/RMSProp epsilon, RMSProp's accumulator starts at 0 instead of 1) and lack FTRL and
// proximal Adagrad, so all six are written out here (the rules themselves are in optimizer-wasm.ts), one pass
// over each Float32Array of weights per step. Each element is worked in float64 from the stored float32 state and
// stored back as float32, as TF keeps it.
import type { OptimizerName } from "./experiment.ts";
import { COPY, MAX_JOBS, type Shared, type ThreadedGemm } from "./gemm-threads.ts";
import { type Rule, ruleKernels, ruleModule } from "./optimizer-wasm.ts";

export interface Optimizer {
  /**
   * Applies one update in place; `grads[i]` is the gradient of the loss with respect to `params[i]`. With
   * `threads` (started with `shared` among its modules, and `params` and `grads` in its first memory) the
   * second thread updates the second half of each array meanwhile.
   */
  apply(params: Float32Array[], grads: Float32Array[], threads?: ThreadedGemm): void;
  /** The kernels' module and the memory holding the optimizer's state, for a second thread to share. */
  readonly shared: Shared;
}

/** Float32 lanes per array region: regions start 16-byte aligned and hold whole pairs for the kernel. */
const pad4 = (n: number) => Math.ceil(n / 4) * 4;
const PAGE = 65536;
/**
 * Updates of fewer weights than this stay on one thread: the update costs ≈2.5 ns a weight, so below this
 * the half handed to the worker saves less than the hand-off costs (a 10/10/10 network's 24,000 weights).
 */
const SPLIT_ABOVE = 1 << 16;

/**
 * One rule over every weight array. The kernel works in its own WebAssembly memory, which holds each array's
 * slots (made on the first step, filled with their starting values) and a copy of its weights and gradients:
 * copying them in and the weights back out costs about a tenth of the update itself.
 */
function perArray(rule: Rule, starts: number[], constants: () => number[]): Optimizer {
  // shared, so that a second thread can work on it; the largest maximum, as it grows to the weights' size
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  const kernel = ruleKernels(memory)[rule];
  let regions: { w: Float32Array; g: Float32Array; slots: Float32Array[] }[] = [];
  const shared = { module: ruleModule(), memory };
  return {
    shared,
    apply(params, grads, threads) {
      if (regions.length !== params.length) {
        const floats = params.reduce((sum, p) => sum + 4 * pad4(p.length), 0);
        memory.grow(Math.max(0, Math.ceil((floats * 4) / PAGE) - memory.buffer.byteLength / PAGE));
        let next = 0;
        const take = (n: number) => {
          const view = new Float32Array(memory.buffer, next * 4, n);
          next += n;
          return view;
        };
        regions = params.map((p) => ({
          w: take(pad4(p.length)),
          g: take(pad4(p.length)),
          slots: [0, 1].map((s) => take(pad4(p.length)).fill(starts[s] ?? 0)),
        }));
      }
      const k = constants();
      /** The rule on elements [from, to) of array i's region (to may reach into its padding): copy in, update, copy the weights back. */
      const part = (i: number, from: number, to: number) => {
        const [w, r] = [params[i]!, regions[i]!];
        const end = Math.min(to, w.length);
        r.w.set(w.subarray(from, end), from);
        r.g.set(grads[i]!.subarray(from, end), from);
        const at = from * 4;
        kernel(r.w.byteOffset + at, r.g.byteOffset + at, r.slots[0]!.byteOffset + at, r.slots[1]!.byteOffset + at, (to - from) * 4, ...k);
        w.set(r.w.subarray(from, end), from);
      };
      const mine = threads?.twoThreads ? threads.memoryIndex(memory) : -1;
      const total = params.reduce((sum, p) => sum + p.length, 0);
      if (
        !threads ||
        mine <= 0 ||
        total < SPLIT_ABOVE ||
        params.some((p, i) => p.length % 4 !== 0 || !threads.holds(p) || !threads.holds(grads[i]!))
      ) {
        params.forEach((_, i) => part(i, 0, regions[i]!.w.length));
        return;
      }
      // Each element's update depends on that element alone, so the worker takes the second half of every array
      // (copy in, rule, copy out, in the same arithmetic) while this thread does the first halves.
      const fn = threads.functionIndex(mine, rule);
      const halves = params.map((w) => Math.floor(w.length / 8) * 4);
      const jobs = (i: number) => {
        const [w, r, g, h] = [params[i]!, regions[i]!, grads[i]!, halves[i]! * 4];
        const bytes = w.byteLength - h;
        return [
          [COPY, mine, r.w.byteOffset + h, 0, w.byteOffset + h, bytes],
          [COPY, mine, r.g.byteOffset + h, 0, g.byteOffset + h, bytes],
          [fn, r.w.byteOffset + h, r.g.byteOffset + h, r.slots[0]!.byteOffset + h, r.slots[1]!.byteOffset + h, bytes, ...k],
          [COPY, 0, w.byteOffset + h, mine, r.w.byteOffset + h, bytes],
        ];
      };
      // as many arrays per hand-off as the worker's job list holds (all of them up to 7 layers)
      const perRun = Math.floor(MAX_JOBS / 4);
      for (let first = 0; first < params.length; first += perRun) {
        const arrays = params.slice(first, first + perRun).map((_, j) => first + j);
        threads.run(
          arrays.flatMap((i) => jobs(i)),
          () => arrays.forEach((i) => part(i, 0, halves[i]!)),
        );
      }
    },
  };
}

/** TF1 defaults: Adagrad/ProximalAdagrad/Ftrl initial accumulator 0.1; Adam β1 0.9, β2 0.999, ε 1e-8; RMSProp decay 0.9, momentum 0, ε 1e-10. */
export function createOptimizer(name: OptimizerName, learningRate: number): Optimizer {
  const lr = learningRate;
  switch (name) {
    case "SGD":
      return perArray("sgd", [], () => [lr]);
    case "Adagrad":
    // ProximalAdagrad with TF's default l1 = l2 = 0 reduces to Adagrad's step exactly.
    case "ProximalAdagrad":
      return perArray("adagrad", [0.1], () => [lr]);
    case "Adam": {
      const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
      let t = 0;
      return perArray("adam", [0, 0], () => {
        t++;
        const lrT = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
        return [beta1, 1 - beta1, beta2, 1 - beta2, lrT, eps];
      });
    }
    case "RMSProp": {
      const [decay, eps] = [0.9, 1e-10];
      return perArray("rmsprop", [1], () => [decay, 1 - decay, lr, eps]);
    }
    case "Ftrl":
      // FTRL-Proximal with learning_rate_power −0.5 and l1 = l2 = 0: w = −z / (√n / lr).
      return perArray("ftrl", [0.1, 0], () => [lr]);
  }
}
