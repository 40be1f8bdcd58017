// The hand-assembled SIMD matrix product against a plain triple loop, on shapes that exercise each of its
// blocks: rows 4 at a time and the rest one by one, columns 8 at a time and a last 4, A read straight and transposed.
import { expect, test } from "bun:test";
import { gemmFor } from "../src/pipeline/model/gemm-wasm.ts";
import { seededRandom } from "../src/pipeline/seeded-random.ts";

test.each([
  [1, 1, 4, false],
  [7, 5, 12, false],
  [9, 3, 8, true],
  [13, 17, 20, true],
  [128, 300, 100, false],
  [300, 128, 100, true],
])("C = A·B with m=%i k=%i n=%i, A transposed: %p", (m, k, n, transposed) => {
  for (const shared of [false, true]) {
    const memory = shared ? new WebAssembly.Memory({ initial: 8, maximum: 65536, shared: true }) : new WebAssembly.Memory({ initial: 8 });
    const gemm = gemmFor(memory, shared);
    const random = seededRandom(m * 1000 + n);
    // a deliberately unaligned start for A, as views into the trainer's memory may be
    const a = new Float32Array(memory.buffer, 4, m * k);
    const b = new Float32Array(memory.buffer, 4 + a.byteLength, k * n);
    for (const view of [a, b]) for (let i = 0; i < view.length; i++) view[i] = random() - 0.5;
    const c = new Float32Array(memory.buffer, b.byteOffset + b.byteLength, m * n).fill(Number.NaN);
    const [aRow, aInner] = transposed ? [1, m] : [k, 1];
    gemm(a.byteOffset, aRow, aInner, b.byteOffset, c.byteOffset, m, k, n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += a[i * aRow + t * aInner]! * b[t * n + j]!;
        expect(c[i * n + j]!).toBeCloseTo(s, 4);
      }
  }
});
