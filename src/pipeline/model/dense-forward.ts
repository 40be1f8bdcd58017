// The prediction's forward pass, written by hand on Float32Arrays in one WebAssembly memory with the
// trainer's SIMD matrix product (gemm-wasm.ts). A saved model is a stack of dense layers (network.ts's
// toLayersModel), so its weights are all a prediction needs: going through tfjs cost ≈3 ms per call (a
// tensor per layer, an async read-back), this costs microseconds for one row.
//
// Every output element is summed by the same kernel in the same order whatever the batch, so a run's
// probabilities are bit for bit the same predicted alone (db-predict) or beside others (mqtt-trainer,
// db-batch-predict, train-model's dev-set file).
import { CimlError } from "../errors.ts";
import { type Gemm, gemmFor } from "./gemm-wasm.ts";
import type { tf } from "./tfjs-runtime.ts";

type Activation = "relu" | "linear" | "sigmoid" | "softmax";
const ACTIVATIONS: readonly string[] = ["relu", "linear", "sigmoid", "softmax"];

/** Rows per kernel call: the batch buffers are sized for this many, so memory stays small for any input width. */
const FORWARD_ROWS = 256;
const PAGE = 65536;
/** The kernel works on 4 output columns at a time: layers are padded with zero weights to a multiple of 4. */
const pad4 = (n: number) => Math.ceil(n / 4) * 4;

interface Layer {
  inDim: number;
  outDim: number;
  /** the unpadded output width */
  cols: number;
  activation: Activation;
  w: Float32Array;
  bias: Float32Array;
  /** the layer's output for up to FORWARD_ROWS rows */
  out: Float32Array;
}

export class DenseForward {
  private constructor(
    private readonly gemm: Gemm,
    /** the input rows of one kernel call */
    private readonly x: Float32Array,
    private readonly layers: Layer[],
    readonly features: number,
  ) {}

  /** The weights of a LayersModel of dense layers, copied out once; anything else is not a ciml model. */
  static of(model: tf.LayersModel, where: string): DenseForward {
    const specs = model.layers.map((layer, l) => {
      const config = layer.getConfig();
      const [kernel, bias] = layer.getWeights();
      const activation = String(config.activation ?? "linear");
      if (layer.getClassName() !== "Dense" || !kernel || !bias || kernel.shape.length !== 2 || !ACTIVATIONS.includes(activation))
        throw new CimlError(
          `model in ${where}: layer ${l} (${layer.getClassName()}, ${activation}) is not a dense layer as ciml saves them; train it again with \`ciml train-model\``,
        );
      return {
        rows: kernel.shape[0]!,
        cols: kernel.shape[1]!,
        activation: activation as Activation,
        kernel: kernel.dataSync(),
        bias: bias.dataSync(),
      };
    });
    if (specs.length === 0) throw new CimlError(`model in ${where} has no layers; train it again with \`ciml train-model\``);
    const features = specs[0]!.rows;
    const dims = specs.map((s, l) => ({ inDim: l === 0 ? features : pad4(s.rows), outDim: pad4(s.cols) }));
    const floats = FORWARD_ROWS * features + dims.reduce((sum, d) => sum + d.inDim * d.outDim + d.outDim + FORWARD_ROWS * d.outDim, 0);
    const pages = Math.ceil((floats * 4) / PAGE);
    // Shared, because the kernel's module imports a shared memory (the trainer's second thread uses it).
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    let next = 0;
    const take = (n: number) => {
      const view = new Float32Array(memory.buffer, next * 4, n);
      next += n;
      return view;
    };
    const x = take(FORWARD_ROWS * features);
    const layers = specs.map((s, l) => {
      const { inDim, outDim } = dims[l]!;
      const w = take(inDim * outDim);
      for (let r = 0; r < s.rows; r++) w.set(s.kernel.subarray(r * s.cols, (r + 1) * s.cols), r * outDim);
      const bias = take(outDim);
      bias.set(s.bias);
      return { inDim, outDim, cols: s.cols, activation: s.activation, w, bias, out: take(FORWARD_ROWS * outDim) };
    });
    return new DenseForward(gemmFor(memory), x, layers, features);
  }

  /**
   * n × `classes` probabilities for n rows of `features` values. A single sigmoid output is class 1's
   * probability (class 0 gets 1 − p); a softmax output has one column per class.
   */
  probabilities(rows: Float32Array, n: number, classes: number): Float32Array {
    const out = new Float32Array(n * classes);
    const { features, layers, x, gemm } = this;
    const last = layers.at(-1)!;
    if (!(last.cols === classes || (classes === 2 && last.cols === 1)))
      throw new CimlError(
        `the model has ${last.cols} outputs, which cannot be ${classes} classes; train it again with \`ciml train-model\``,
      );
    for (let start = 0; start < n; start += FORWARD_ROWS) {
      const b = Math.min(FORWARD_ROWS, n - start);
      x.set(rows.subarray(start * features, (start + b) * features));
      let input = x;
      for (const layer of layers) {
        gemm(input.byteOffset, layer.inDim, 1, layer.w.byteOffset, layer.out.byteOffset, b, layer.inDim, layer.outDim);
        activate(layer, b);
        input = layer.out;
      }
      for (let i = 0; i < b; i++) {
        const z = last.out.subarray(i * last.outDim, i * last.outDim + last.cols);
        const to = (start + i) * classes;
        if (last.cols === 1) {
          out[to + 1] = z[0]!;
          out[to] = 1 - out[to + 1]!;
        } else out.set(z, to);
      }
    }
    return out;
  }
}

/** Bias and activation over the first b rows of a layer's output, in place (padded units stay 0). */
function activate({ out, bias, outDim, cols, activation }: Layer, b: number): void {
  for (let i = 0; i < b; i++) {
    const row = i * outDim;
    // Each sum is rounded to float32 as it is stored, as tfjs's float32 add rounds it.
    for (let j = 0; j < cols; j++) out[row + j] = out[row + j]! + bias[j]!;
    if (activation === "relu") for (let j = 0; j < cols; j++) out[row + j] = Math.max(0, out[row + j]!);
    else if (activation === "sigmoid") for (let j = 0; j < cols; j++) out[row + j] = 1 / (1 + Math.exp(-out[row + j]!));
    else if (activation === "softmax") {
      let max = -Infinity;
      for (let j = 0; j < cols; j++) max = Math.max(max, out[row + j]!);
      let sum = 0;
      for (let j = 0; j < cols; j++) sum += Math.exp(out[row + j]! - max);
      for (let j = 0; j < cols; j++) out[row + j] = Math.exp(out[row + j]! - max) / sum;
    }
  }
}
