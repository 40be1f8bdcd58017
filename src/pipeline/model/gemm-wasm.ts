// One matrix product written straight in WebAssembly SIMD bytes, the only kernel training needs:
//   C[i, j] = Σₜ A[i·aRow + t·aInner] · B[t, j]      (B is K × n and C is m × n, both row-major)
// With (aRow, aInner) = (k, 1) A is read as a row-major m × K matrix (the forward pass); with (1, m) it is
// read transposed, so Xᵀ·dZ needs no transposed copy of X (the weight gradient). n must be a multiple of 4:
// the trainer pads its layers to that. The loop keeps a 4-row × 8-column block of C in eight SIMD registers
// and walks t, loading 8 floats of B and broadcasting one float of A per row, as XNNPACK's kernels do.
// The bytes are built here rather than shipped, since no wasm toolchain is part of the build.
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
  I32_MUL,
  IF,
  LOCAL_TEE,
  LOOP,
  oneFunctionModule,
  set,
  SharedMemoryKernels,
  simd,
  uleb,
  V128,
  V128_CONST,
  V128_LOAD,
  V128_STORE,
  VOID,
} from "./wasm-bytes.ts";

// Instruction bytes only this kernel uses (WebAssembly core + SIMD proposals).
const F32_LOAD = 0x2a;
const I32_LT_S = 0x48;
const I32_GT_S = 0x4a;
const I32_GE_S = 0x4e;
const I32_SUB = 0x6b;
const I32_SHL = 0x74;
const F32X4_SPLAT = 0x13;
const F32X4_MUL = 0xe6;

// Parameters (locals 0–7), then the function's own locals.
const P = { a: 0, aRow: 1, aInner: 2, b: 3, c: 4, m: 5, k: 6, n: 7 };
const L = { aRowB: 8, aInnerB: 9, nB: 10, i: 11, j: 12, t: 13, pb: 14, rowA: 15, cRow: 16, q: 17, p: [18, 19, 20, 21] };
const I32_LOCALS = 14;
const V = { acc: 22, bv: 30, s: 32 }; // acc[r·2 + v] for r < 4, v < 2; bv[v]; s
const V128_LOCALS = 11;

const i32 = (v: number) => [I32_CONST, ...uleb(v)]; // small non-negative constants only
/** local += step (a local or a constant) */
const bump = (l: number, step: number[]) => [...get(l), ...step, I32_ADD, ...set(l)];

/** One R × (4·V) block of C at rows i…, columns j…: zero, walk t over K, store. */
function block(R: number, V2: number): number[] {
  const code: number[] = [];
  const zero = [...simd(V128_CONST), ...new Array(16).fill(0)];
  for (let r = 0; r < R; r++) for (let v = 0; v < V2; v++) code.push(...zero, ...set(V.acc + r * 2 + v));
  code.push(...get(L.rowA), ...set(L.p[0]!));
  for (let r = 1; r < R; r++) code.push(...get(L.p[r - 1]!), ...get(L.aRowB), I32_ADD, ...set(L.p[r]!));
  code.push(...get(P.b), ...get(L.j), ...i32(2), I32_SHL, I32_ADD, ...set(L.pb));
  code.push(...get(P.k), ...set(L.t));
  code.push(LOOP, VOID);
  for (let v = 0; v < V2; v++) code.push(...get(L.pb), ...simd(V128_LOAD), 4, ...uleb(16 * v), ...set(V.bv + v));
  for (let r = 0; r < R; r++) {
    code.push(...get(L.p[r]!), F32_LOAD, 2, 0, ...simd(F32X4_SPLAT), ...set(V.s));
    for (let v = 0; v < V2; v++) {
      const acc = V.acc + r * 2 + v;
      code.push(...get(acc), ...get(V.s), ...get(V.bv + v), ...simd(F32X4_MUL), ...simd(F32X4_ADD), ...set(acc));
    }
  }
  for (let r = 0; r < R; r++) code.push(...bump(L.p[r]!, get(L.aInnerB)));
  code.push(...bump(L.pb, get(L.nB)));
  code.push(...get(L.t), ...i32(1), I32_SUB, LOCAL_TEE, ...uleb(L.t), BR_IF, 0, END);
  code.push(...get(L.cRow), ...get(L.j), ...i32(2), I32_SHL, I32_ADD, ...set(L.q));
  for (let r = 0; r < R; r++) {
    if (r > 0) code.push(...bump(L.q, get(L.nB)));
    for (let v = 0; v < V2; v++) code.push(...get(L.q), ...get(V.acc + r * 2 + v), ...simd(V128_STORE), 4, ...uleb(16 * v));
  }
  return code;
}

/** All column blocks of R rows starting at row i: 8 columns at a time, then the last 4 if n is not a multiple of 8. */
function rows(R: number): number[] {
  return [
    ...get(P.a),
    ...get(L.i),
    ...get(L.aRowB),
    I32_MUL,
    I32_ADD,
    ...set(L.rowA),
    ...get(P.c),
    ...get(L.i),
    ...get(L.nB),
    I32_MUL,
    I32_ADD,
    ...set(L.cRow),
    ...i32(0),
    ...set(L.j),
    BLOCK,
    VOID,
    LOOP,
    VOID,
    ...get(L.j),
    ...i32(8),
    I32_ADD,
    ...get(P.n),
    I32_GT_S,
    BR_IF,
    1,
    ...block(R, 2),
    ...bump(L.j, i32(8)),
    BR,
    0,
    END,
    END,
    ...get(L.j),
    ...get(P.n),
    I32_LT_S,
    IF,
    VOID,
    ...block(R, 1),
    END,
  ];
}

function gemmBody(): number[] {
  const code = [
    ...get(P.aRow),
    ...i32(2),
    I32_SHL,
    ...set(L.aRowB),
    ...get(P.aInner),
    ...i32(2),
    I32_SHL,
    ...set(L.aInnerB),
    ...get(P.n),
    ...i32(2),
    I32_SHL,
    ...set(L.nB),
    ...i32(0),
    ...set(L.i),
    // rows four at a time while four remain
    BLOCK,
    VOID,
    LOOP,
    VOID,
    ...get(L.i),
    ...i32(4),
    I32_ADD,
    ...get(P.m),
    I32_GT_S,
    BR_IF,
    1,
    ...rows(4),
    ...bump(L.i, i32(4)),
    BR,
    0,
    END,
    END,
    // then one at a time
    BLOCK,
    VOID,
    LOOP,
    VOID,
    ...get(L.i),
    ...get(P.m),
    I32_GE_S,
    BR_IF,
    1,
    ...rows(1),
    ...bump(L.i, i32(1)),
    BR,
    0,
    END,
    END,
  ];
  return body(
    [
      [I32_LOCALS, I32],
      [V128_LOCALS, V128],
    ],
    code,
  );
}

/** (a, aRow, aInner, b, c, m, k, n): byte addresses a, b, c in the memory; strides and sizes in floats. */
export type Gemm = (a: number, aRow: number, aInner: number, b: number, c: number, m: number, k: number, n: number) => void;

const kernels = new SharedMemoryKernels(() => oneFunctionModule("gemm", new Array(8).fill(I32), gemmBody()));

/** The compiled kernel, for a worker to instantiate on the same shared memory. */
export const gemmModule = (): WebAssembly.Module => kernels.module();

/** The kernel bound to `memory`, which must be a shared memory with a maximum of at most 65,536 pages. */
export const gemmFor = (memory: WebAssembly.Memory): Gemm => kernels.on(memory).gemm as Gemm;
