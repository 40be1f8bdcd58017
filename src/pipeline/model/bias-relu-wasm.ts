// The forward pass's bias and ReLU, out[i, j] = max(out[i, j] + bias[j], 0), as WebAssembly SIMD bytes, so that
// the second thread can do it for the rows of the product it computed (gemm-threads.ts runs only wasm on the
// worker). Four floats per instruction give the JavaScript loop's bits exactly: a float32 sum rounded once
// equals the float64 sum of two float32s rounded to float32, and `f32x4.pmax(v, 0)` is `v < 0 ? 0 : v`,
// which keeps −0 as the loop's `if (v < 0) v = 0` does (`f32x4.max` would not).
import {
  BLOCK,
  body,
  BR,
  BR_IF,
  END,
  F32X4_ADD,
  get,
  I32,
  I32_ADD,
  I32_CONST,
  I32_GE_U,
  I32_MUL,
  IF,
  LOOP,
  oneFunctionModule,
  set,
  SharedMemoryKernels,
  simd,
  V128_CONST,
  V128_LOAD,
  V128_STORE,
  VOID,
} from "./wasm-bytes.ts";

const I32_EQ = 0x46;
const F32X4_PMAX = 0xeb;

/** Parameters: byte addresses of out and bias, the row count, floats per row (a multiple of 4); then locals. */
const P = { out: 0, bias: 1, rows: 2, n: 3 };
const L = { end: 4, q: 5, qEnd: 6 };

function biasReluBody(): number[] {
  const code = [
    // end = out + rows·n·4; the bias pointer q walks bias … bias + n·4 and starts again for each row
    ...get(P.out),
    ...get(P.rows),
    ...get(P.n),
    I32_MUL,
    I32_CONST,
    4,
    I32_MUL,
    I32_ADD,
    ...set(L.end),
    ...get(P.bias),
    ...get(P.n),
    I32_CONST,
    4,
    I32_MUL,
    I32_ADD,
    ...set(L.qEnd),
    ...get(P.bias),
    ...set(L.q),
    BLOCK,
    VOID,
    LOOP,
    VOID,
    ...get(P.out),
    ...get(L.end),
    I32_GE_U,
    BR_IF,
    1,
    ...get(P.out),
    ...get(P.out),
    ...simd(V128_LOAD),
    4,
    0,
    ...get(L.q),
    ...simd(V128_LOAD),
    4,
    0,
    ...simd(F32X4_ADD),
    ...simd(V128_CONST),
    ...new Array(16).fill(0),
    ...simd(F32X4_PMAX),
    ...simd(V128_STORE),
    4,
    0,
    ...get(P.out),
    I32_CONST,
    16,
    I32_ADD,
    ...set(P.out),
    ...get(L.q),
    I32_CONST,
    16,
    I32_ADD,
    ...set(L.q),
    ...get(L.q),
    ...get(L.qEnd),
    I32_EQ,
    IF,
    VOID,
    ...get(P.bias),
    ...set(L.q),
    END,
    BR,
    0,
    END,
    END,
  ];
  return body([[3, I32]], code);
}

/** (out, bias, rows, n): byte addresses in the memory, then sizes in floats. */
export type BiasRelu = (out: number, bias: number, rows: number, n: number) => void;

const kernels = new SharedMemoryKernels(() => oneFunctionModule("biasRelu", [I32, I32, I32, I32], biasReluBody()));

/** The compiled kernel, for a worker to instantiate on the same shared memory. */
export const biasReluModule = (): WebAssembly.Module => kernels.module();

/** The kernel bound to `memory`, a shared memory with a maximum of at most 65,536 pages. */
export const biasReluFor = (memory: WebAssembly.Memory): BiasRelu => kernels.on(memory).biasRelu as BiasRelu;
