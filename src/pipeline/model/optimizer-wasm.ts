// The optimizers' per-weight update rules (optimizers.ts) as WebAssembly SIMD, two weights per round in float64
// lanes. In JavaScript each rule cost ≈3.5 ns per weight, most of it in the scalar square root and division,
// which made the update a fifth of a 5×100 training step; two lanes at a time halve that work.
// Each rule is written below as the JavaScript statement it replaces: every read of a Float32Array is a load
// widened to float64, every assignment rounds to float32 and stores, and a value read again after an assignment
// is loaded again, so the arithmetic and its rounding are JavaScript's exactly and the weights are the same
// bit for bit (float64 SIMD lanes round as scalar float64 does).
import {
  BLOCK,
  body,
  BR,
  BR_IF,
  F64,
  get,
  I32,
  I32_ADD,
  I32_CONST,
  I32_GE_U,
  LOCAL_TEE,
  LOOP,
  memoryImport,
  name,
  section,
  set,
  SharedMemoryKernels,
  simd,
  uleb,
  V128,
  VOID,
  wasmModule,
} from "./wasm-bytes.ts";

const V128_STORE64_LANE = 0x5b;
const V128_LOAD64_ZERO = 0x5d;
const F32X4_DEMOTE_F64X2_ZERO = 0x5e;
const F64X2_PROMOTE_LOW_F32X4 = 0x5f;
const F64X2_SPLAT = 0x14;
const F64X2_NEG = 0xed;
const F64X2_SQRT = 0xef;
const F64X2_ADD = 0xf0;
const F64X2_SUB = 0xf1;
const F64X2_MUL = 0xf2;
const F64X2_DIV = 0xf3;

/** Every rule's parameters: byte addresses of the weights, gradients and two slots, the byte length, six constants. */
const P = { w: 0, g: 1, s1: 2, s2: 3, bytes: 4, k: 5 };
const CONSTANTS = 6;
const L = { at: 11, k: 12, t: 18 }; // byte offset of the pair; the constants splatted; a temporary
type Array = "w" | "g" | "s1" | "s2";
type Expr = number[];

/** x[i] for the pair at the current offset, widened to float64. */
const ld = (x: Array): Expr => [...get(P[x]), ...get(L.at), I32_ADD, ...simd(V128_LOAD64_ZERO), 3, 0, ...simd(F64X2_PROMOTE_LOW_F32X4)];
/** x[i] = value, rounded to float32. */
const st = (x: Array, value: Expr): Expr => [
  ...get(P[x]),
  ...get(L.at),
  I32_ADD,
  ...value,
  ...simd(F32X4_DEMOTE_F64X2_ZERO),
  ...simd(V128_STORE64_LANE),
  3,
  0,
  0,
];
const k = (i: number): Expr => get(L.k + i);
const op =
  (code: number) =>
  (a: Expr, b: Expr): Expr => [...a, ...b, ...simd(code)];
const add = op(F64X2_ADD);
const sub = op(F64X2_SUB);
const mul = op(F64X2_MUL);
const div = op(F64X2_DIV);
const sqrt = (a: Expr): Expr => [...a, ...simd(F64X2_SQRT)];
const neg = (a: Expr): Expr => [...a, ...simd(F64X2_NEG)];
const keep = (a: Expr): Expr => [...a, LOCAL_TEE, ...uleb(L.t)];
const kept: Expr = get(L.t);
const g = ld("g");

/** The rules, by kernel name; `k(i)` is the i-th constant that optimizers.ts passes. */
const RULES = {
  // w -= lr·g                                                           k: lr
  sgd: [st("w", sub(ld("w"), mul(k(0), g)))],
  // acc += g·g; w -= lr·g / √acc                                        k: lr
  adagrad: [st("s1", add(ld("s1"), mul(g, g))), st("w", sub(ld("w"), div(mul(k(0), g), sqrt(ld("s1")))))],
  // m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g·g; w -= lrₜ·m / (√v + ε)     k: β1, 1 − β1, β2, 1 − β2, lrₜ, ε
  adam: [
    st("s1", add(mul(k(0), ld("s1")), mul(k(1), g))),
    st("s2", add(mul(k(2), ld("s2")), mul(mul(k(3), g), g))),
    st("w", sub(ld("w"), div(mul(k(4), ld("s1")), add(sqrt(ld("s2")), k(5))))),
  ],
  // ms = ρ·ms + (1 − ρ)·g·g; w -= lr·g / √(ms + ε)                      k: ρ, 1 − ρ, lr, ε
  rmsprop: [st("s1", add(mul(k(0), ld("s1")), mul(mul(k(1), g), g))), st("w", sub(ld("w"), div(mul(k(2), g), sqrt(add(ld("s1"), k(3))))))],
  // n₀ = n; n = n₀ + g·g; z = z + g − ((√n − √n₀) / lr)·w; w = −z / (√n / lr)     k: lr
  ftrl: [
    st("s1", add(keep(ld("s1")), mul(g, g))),
    st("s2", sub(add(ld("s2"), g), mul(div(sub(sqrt(ld("s1")), sqrt(kept)), k(0)), ld("w")))),
    st("w", div(neg(ld("s2")), div(sqrt(ld("s1")), k(0)))),
  ],
} satisfies Record<string, Expr[]>;

export type Rule = keyof typeof RULES;

/** The rule applied to each pair of weights in turn, from byte 0 to `bytes` (a multiple of 8). */
function ruleBody(statements: Expr[]): number[] {
  const code: number[] = [];
  for (let i = 0; i < CONSTANTS; i++) code.push(...get(P.k + i), ...simd(F64X2_SPLAT), ...set(L.k + i));
  code.push(I32_CONST, 0, ...set(L.at), BLOCK, VOID, LOOP, VOID);
  code.push(...get(L.at), ...get(P.bytes), I32_GE_U, BR_IF, 1);
  code.push(...statements.flat());
  code.push(...get(L.at), I32_CONST, 8, I32_ADD, ...set(L.at), BR, 0, 0x0b, 0x0b);
  return body(
    [
      [1, I32],
      [CONSTANTS + 1, V128],
    ],
    code,
  );
}

function moduleBytes(): Uint8Array {
  const rules = Object.entries(RULES);
  const type = section(1, [1, 0x60, 5 + CONSTANTS, ...new Array(5).fill(I32), ...new Array(CONSTANTS).fill(F64), 0]);
  const funcs = section(3, [rules.length, ...rules.map(() => 0)]);
  const exports = section(7, [rules.length, ...rules.flatMap(([rule], i) => [...name(rule), 0, i])]);
  const code = section(10, [rules.length, ...rules.flatMap(([, statements]) => ruleBody(statements))]);
  return wasmModule([type, memoryImport(true, 1), funcs, exports, code]);
}

/** (w, g, s1, s2, bytes, ...six constants): byte addresses in the memory, the length in bytes (a multiple of 8). */
type RuleKernel = (w: number, g: number, s1: number, s2: number, bytes: number, ...k: number[]) => void;

const kernels = new SharedMemoryKernels(moduleBytes);

/** The compiled kernels, for a second thread to run them on the same state. */
export const ruleModule = (): WebAssembly.Module => kernels.module();

/** Every rule's kernel, working on `memory` (shared, with a maximum of at most 65,536 pages). */
export const ruleKernels = (memory: WebAssembly.Memory): Record<Rule, RuleKernel> =>
  kernels.on(memory) as unknown as Record<Rule, RuleKernel>;
