// The binary encoding shared by the kernels we write straight in WebAssembly bytes (gemm-wasm.ts, bias-relu-wasm.ts,
// optimizer-wasm.ts): no wasm toolchain is part of the build, so each kernel is assembled at start-up.
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
export const I32_ADD = 0x6a;
// Instruction bytes more than one kernel uses (WebAssembly core, then the SIMD proposal's after `simd`).
export const BLOCK = 0x02;
export const LOOP = 0x03;
export const IF = 0x04;
export const END = 0x0b;
export const BR = 0x0c;
export const BR_IF = 0x0d;
export const VOID = 0x40;
export const LOCAL_TEE = 0x22;
export const I32_CONST = 0x41;
export const I32_GE_U = 0x4f;
export const I32_MUL = 0x6c;
export const V128_LOAD = 0x00;
export const V128_STORE = 0x0b;
export const V128_CONST = 0x0c;
export const F32X4_ADD = 0xe4;
const SIMD = 0xfd;
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

/** Unsigned LEB128, the encoding of every count, index and size in the format. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

export function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** A length-prefixed UTF-8 name (imports, exports). */
export function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

export const get = (l: number) => [LOCAL_GET, ...uleb(l)];
export const set = (l: number) => [LOCAL_SET, ...uleb(l)];
export const simd = (op: number) => [SIMD, ...uleb(op)];

/** The memory import "env"."memory" of at least `minPages`; a shared one must declare a maximum (65,536 pages). */
export function memoryImport(shared: boolean, minPages: number): number[] {
  const limits = shared ? [3, ...uleb(minPages), ...uleb(65536)] : [0, ...uleb(minPages)];
  return section(2, [1, ...name("env"), ...name("memory"), 2, ...limits]);
}

/** A function body: its locals as (count, type) runs, then the code. */
export function body(locals: [number, number][], code: number[]): number[] {
  const bytes = [...uleb(locals.length), ...locals.flatMap(([count, type]) => [...uleb(count), type]), ...code, 0x0b];
  return [...uleb(bytes.length), ...bytes];
}

/** Header, then the sections in the order the format requires. */
export function wasmModule(sections: number[][]): Uint8Array {
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...sections.flat()]);
}

/** A module of one function `exportName(params…)` with no results, over the shared memory "env"."memory". */
export function oneFunctionModule(exportName: string, params: number[], code: number[]): Uint8Array {
  const type = section(1, [1, 0x60, ...uleb(params.length), ...params, 0]);
  const funcs = section(3, [1, 0]);
  const exports = section(7, [1, ...name(exportName), 0, 0]);
  return wasmModule([type, memoryImport(true, 1), funcs, exports, section(10, [1, ...code])]);
}

/**
 * Kernels that import a shared memory: compiled once, then instantiated on each memory they are given, so
 * that one instance per thread can work on the same buffers (the worker gets the module itself).
 */
export class SharedMemoryKernels {
  private compiled: WebAssembly.Module | null = null;

  constructor(private readonly bytes: () => Uint8Array) {}

  module(): WebAssembly.Module {
    this.compiled ??= new WebAssembly.Module(this.bytes());
    return this.compiled;
  }

  /** The instance's exports on `memory` (shared, with a maximum of at most 65,536 pages). */
  on(memory: WebAssembly.Memory): WebAssembly.Instance["exports"] {
    return new WebAssembly.Instance(this.module(), { env: { memory } }).exports;
  }
}
