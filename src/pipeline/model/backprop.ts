// The training step's forward and backward pass on Float32Arrays in one WebAssembly memory, with the
// matrix products in our SIMD kernel (gemm-wasm.ts). Going through tfjs cost ≈60 kernel launches per step,
// each allocating a tensor; here nothing is allocated after construction and the three products per layer
// run straight on the buffers. Layer widths are padded to a multiple of 4 with zero weights (the kernel works
// on 4 columns at a time); padded units output 0 and get gradient 0 under every optimizer, so they stay 0.
import { availableParallelism } from "node:os";
import { seededRandom } from "../seeded-random.ts";
import type { Gemm } from "./gemm-wasm.ts";
import { CONTROL_BYTES, GEMM, type Shared, ThreadedGemm, worthHandingOff } from "./gemm-threads.ts";
import { type Network, outputUnits } from "./network.ts";
import type { Optimizer } from "./optimizers.ts";
import { tf } from "./tfjs-runtime.ts";

const pad4 = (n: number) => Math.ceil(n / 4) * 4;
const PAGE = 65536;

/** Each layer's unpadded (rows × cols) and padded (inDim × outDim) kernel shape. */
function shapes(net: Network): { rows: number; cols: number; inDim: number; outDim: number }[] {
  const { spec } = net;
  const sizes = [spec.inputs, ...spec.hidden, outputUnits(spec)];
  return sizes.slice(1).map((cols, l) => ({ rows: sizes[l]!, cols, inDim: l === 0 ? spec.inputs : pad4(sizes[l]!), outDim: pad4(cols) }));
}

/** WebAssembly pages for the control block, the batch and every layer's buffers (as the constructor takes them). */
function pages(net: Network, B: number): number {
  const floats =
    B * net.spec.inputs +
    shapes(net).reduce((s, { inDim, outDim }, l) => s + 2 * inDim * outDim + 2 * outDim + 2 * B * outDim + (l > 0 ? inDim * outDim : 0), 0);
  return Math.ceil((CONTROL_BYTES + floats * 4) / PAGE);
}

interface StepOptions {
  l2: number;
  dropout: number;
  /** seeds this step's dropout masks */
  seed: number;
}

interface Layer {
  inDim: number;
  outDim: number;
  /** unpadded sizes, as the tfjs variables hold them */
  rows: number;
  cols: number;
  w: Float32Array;
  bias: Float32Array;
  dw: Float32Array;
  dbias: Float32Array;
  /** the layer's output for the batch (after ReLU and dropout for hidden layers; logits for the last) */
  out: Float32Array;
  /** ∂loss/∂(pre-activation), batch × outDim */
  dz: Float32Array;
  /** Wᵀ, for the input gradient (not needed by the first layer) */
  wt: Float32Array | null;
}

export class Backprop {
  /** the batch's inputs, batchSize × inputs: fill the first b rows before `step(b)` */
  readonly x: Float32Array;
  /** targets as `Network.targets` makes them, batchSize × output units */
  readonly targets: Float32Array;
  /** each example's weight in the loss */
  readonly weights: Float32Array;
  /** kernels then biases (padded), in the order of `Network.variables` */
  readonly params: Float32Array[];
  /** gradients of the last `step`, matching `params` */
  readonly grads: Float32Array[];
  private readonly layers: Layer[];
  private readonly gemm: ThreadedGemm["gemm"];

  /**
   * Buffers for batches of up to `batchSize` rows, on two threads when the machine has two cores. `optimizer`,
   * if given, is the one `update` will apply: the second thread then gets its kernels too.
   */
  static async create(
    net: Network,
    batchSize: number,
    threads: 1 | 2 = availableParallelism() > 1 ? 2 : 1,
    optimizer?: Optimizer,
  ): Promise<Backprop> {
    const size = pages(net, batchSize);
    const memory = new WebAssembly.Memory({ initial: size, maximum: size, shared: true });
    const more: Shared[] = optimizer ? [optimizer.shared] : [];
    const gemm = await ThreadedGemm.start(memory, 0, threads, more);
    try {
      return new Backprop(net, batchSize, memory, gemm);
    } catch (e) {
      await gemm.close(); // a worker left waiting would keep the process alive
      throw e;
    }
  }

  private constructor(
    private readonly net: Network,
    readonly batchSize: number,
    memory: WebAssembly.Memory,
    private readonly threads: ThreadedGemm,
  ) {
    const { spec } = net;
    const units = outputUnits(spec);
    const B = batchSize;
    this.gemm = threads.gemm;
    // the control block of the two-thread handshake first, then the buffers
    let next = CONTROL_BYTES / 4;
    const take = (n: number) => {
      const view = new Float32Array(memory.buffer, next * 4, n);
      next += n;
      return view;
    };
    this.x = take(B * spec.inputs);
    this.layers = shapes(net).map(({ rows, cols, inDim, outDim }, l) => ({
      rows,
      cols,
      inDim,
      outDim,
      w: take(inDim * outDim),
      bias: take(outDim),
      dw: take(inDim * outDim),
      dbias: take(outDim),
      out: take(B * outDim),
      dz: take(B * outDim),
      wt: l > 0 ? take(inDim * outDim) : null,
    }));
    this.targets = new Float32Array(B * units);
    this.weights = new Float32Array(B);
    this.params = [...this.layers.map((l) => l.w), ...this.layers.map((l) => l.bias)];
    this.grads = [...this.layers.map((l) => l.dw), ...this.layers.map((l) => l.dbias)];
    this.layers.forEach((layer, l) => {
      const w = net.kernels[l]!.dataSync();
      for (let r = 0; r < layer.rows; r++) layer.w.set(w.subarray(r * layer.cols, (r + 1) * layer.cols), r * layer.outDim);
      layer.bias.set(net.biases[l]!.dataSync());
    });
  }

  /** `params[i]` or `grads[i]` without the padding, shaped as `Network.variables[i]`. */
  unpadded(which: "params" | "grads", i: number): Float32Array {
    const n = this.layers.length;
    const layer = this.layers[i % n]!;
    const buf = this[which][i]!;
    if (i >= n) return buf.slice(0, layer.cols);
    const out = new Float32Array(layer.rows * layer.cols);
    for (let r = 0; r < layer.rows; r++) out.set(buf.subarray(r * layer.outDim, r * layer.outDim + layer.cols), r * layer.cols);
    return out;
  }

  /** One step of `optimizer` (the one given to `create`, for both threads to share it) on the last `step`'s gradients. */
  update(optimizer: Optimizer): void {
    optimizer.apply(this.params, this.grads, this.threads);
  }

  /** Ends the second thread. */
  close(): Promise<void> {
    return this.threads.close();
  }

  /** Copies the weights into the network's tfjs variables (for scoring and saving). */
  writeBack(): void {
    this.net.variables.forEach((v, i) => {
      tf.tidy(() => v.assign(tf.tensor(this.unpadded("params", i), v.shape)));
    });
  }

  /**
   * Gradients of Σ wᵢ·lossᵢ + l2·Σ‖W‖² over the first b rows into `grads`, with inverted dropout on the
   * hidden layers. Returns the weighted loss sum without the L2 term and the count of correct predictions.
   */
  step(b: number, options: StepOptions): { loss: number; correct: number } {
    const { layers, gemm } = this;
    const last = layers.length - 1;
    const keep = 1 - options.dropout;
    const random = options.dropout > 0 ? seededRandom(options.seed) : null;
    let input = this.x;
    for (let l = 0; l <= last; l++) {
      const { inDim, outDim, cols, w, bias, out } = layers[l]!;
      const product = [input.byteOffset, inDim, 1, w.byteOffset, out.byteOffset, b, inDim, outDim] as const;
      // Without dropout a hidden layer's bias and ReLU run in wasm, each thread on its own rows (the padded
      // columns stay 0: product 0 plus bias 0); the output layer and dropout's seeded masks stay here.
      if (l < last && !random) {
        this.threads.gemmBiasRelu(...product, bias.byteOffset);
        input = out;
        continue;
      }
      gemm(...product);
      // One loop per case, so the per-element work has no tests that are the same for every element.
      if (l === last) addBias(out, bias, b, outDim, cols);
      else if (random)
        for (let i = 0; i < b; i++) {
          const row = i * outDim;
          for (let j = 0; j < cols; j++) {
            let v = out[row + j]! + bias[j]!;
            if (v < 0) v = 0; // not Math.max, which would turn −0 into +0 and change the bits
            out[row + j] = random() < options.dropout ? 0 : v / keep;
          }
        }
      input = out;
    }
    const result = this.head(b);
    for (let l = last; l >= 0; l--) {
      const { inDim, outDim, w, dw, dbias, dz, wt } = layers[l]!;
      const inputs = l === 0 ? this.x : layers[l - 1]!.out;
      // dW = inputsᵀ · dz, reading the inputs transposed in place
      const weightGradient = [inputs.byteOffset, 1, inDim, dz.byteOffset, dw.byteOffset, inDim, b, outDim] as const;
      const below = l > 0 ? layers[l - 1]! : null;
      if (below && wt && this.threads.twoThreads && worthHandingOff(inDim * b * outDim)) {
        // dW and the input gradient are products of the same size that read only what is already computed:
        // the worker takes dW whole while this thread does the rest of the layer, one hand-off instead of two.
        this.threads.run([[GEMM, ...weightGradient]], () => {
          columnSums(dz, dbias, b, outDim);
          this.inputGradient(l, below, wt, b, options.dropout, this.threads.local);
        });
      } else {
        gemm(...weightGradient);
        columnSums(dz, dbias, b, outDim);
        if (below && wt) this.inputGradient(l, below, wt, b, options.dropout, gemm);
      }
      if (options.l2 > 0) for (let i = 0; i < dw.length; i++) dw[i]! += 2 * options.l2 * w[i]!;
    }
    return result;
  }

  /** ∂loss/∂(the layer below's pre-activation) into `below.dz`, from layer l's dz. */
  private inputGradient(l: number, below: Layer, wt: Float32Array, b: number, dropout: number, gemm: Gemm): void {
    const { inDim, outDim, w, dz } = this.layers[l]!;
    for (let r = 0; r < inDim; r++) for (let c = 0; c < outDim; c++) wt[c * inDim + r] = w[r * outDim + c]!;
    // da = dz · Wᵀ, then through ReLU and dropout: the unit passed exactly where its output is > 0,
    // and kept units were scaled by 1/keep.
    gemm(dz.byteOffset, outDim, 1, wt.byteOffset, below.dz.byteOffset, b, outDim, inDim);
    const scale = dropout > 0 ? 1 / (1 - dropout) : 1;
    for (let i = 0; i < b * inDim; i++) below.dz[i] = below.out[i]! > 0 ? below.dz[i]! * scale : 0;
  }

  /** The head's loss, ∂loss/∂logits (times each example's weight) into the last layer's dz, and the hits. */
  private head(b: number): { loss: number; correct: number } {
    const { out: z, dz, outDim } = this.layers.at(-1)!;
    const { targets, weights } = this;
    const k = outputUnits(this.net.spec);
    const head = this.net.spec.head;
    let loss = 0;
    let correct = 0;
    for (let i = 0; i < b; i++) {
      const w = weights[i]!;
      const row = i * outDim;
      const y = targets.subarray(i * k, (i + 1) * k);
      if (head === "softmax") {
        let max = -Infinity;
        for (let c = 0; c < k; c++) max = Math.max(max, z[row + c]!);
        let sum = 0;
        for (let c = 0; c < k; c++) sum += Math.exp(z[row + c]! - max);
        const lse = max + Math.log(sum);
        let zy = 0;
        for (let c = 0; c < k; c++) {
          zy += z[row + c]! * y[c]!;
          dz[row + c] = (Math.exp(z[row + c]! - lse) - y[c]!) * w;
        }
        loss += w * (lse - zy);
      } else if (head === "sigmoid") {
        const v = z[row]!;
        loss += w * (Math.max(v, 0) - v * y[0]! + Math.log1p(Math.exp(-Math.abs(v))));
        dz[row] = (1 / (1 + Math.exp(-v)) - y[0]!) * w;
      } else {
        // hinge: ∂/∂z max(0, 1 − y·z) = −y where the margin is violated
        for (let c = 0; c < k; c++) {
          const margin = z[row + c]! * y[c]!;
          loss += w * Math.max(0, 1 - margin);
          dz[row + c] = margin < 1 ? -y[c]! * w : 0;
        }
      }
      if (k > 1) correct += argMax(z, row, k) === argMax(y, 0, k) ? 1 : 0;
      else correct += z[row]! > 0 === y[0]! > (head === "hinge" ? 0 : 0.5) ? 1 : 0;
    }
    return { loss, correct };
  }
}

/** out[i, j] += bias[j] for the first `cols` columns of b rows. */
function addBias(out: Float32Array, bias: Float32Array, b: number, outDim: number, cols: number): void {
  for (let i = 0; i < b; i++) {
    const row = i * outDim;
    for (let j = 0; j < cols; j++) out[row + j]! += bias[j]!;
  }
}

/**
 * sums[j] = Σᵢ dz[i, j] over b rows, added in row order and rounded to float32 after each addition, as
 * accumulating in the Float32Array did; the running sum is kept in a local for speed.
 */
function columnSums(dz: Float32Array, sums: Float32Array, b: number, outDim: number): void {
  for (let j = 0; j < outDim; j++) {
    let s = 0;
    for (let i = 0; i < b; i++) s = Math.fround(s + dz[i * outDim + j]!);
    sums[j] = s;
  }
}

/** Index of the first largest of xs[at … at+k), as tf.argMax picks it. */
function argMax(xs: Float32Array, at: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (xs[at + c]! > xs[at + best]!) best = c;
  return best;
}
