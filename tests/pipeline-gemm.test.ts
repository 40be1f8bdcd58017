// The hand-assembled SIMD matrix product against a plain triple loop, on shapes that exercise each of its
// blocks: rows 4 at a time and the rest one by one, columns 8 at a time and a last 4, A read straight and transposed.
import { expect, test } from "bun:test";
import { CONTROL_BYTES, ThreadedGemm } from "../src/pipeline/model/gemm-threads.ts";
import { biasReluFor } from "../src/pipeline/model/bias-relu-wasm.ts";
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
  {
    const memory = new WebAssembly.Memory({ initial: 8, maximum: 8, shared: true });
    const gemm = gemmFor(memory);
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

test("on two threads the product is the one-thread product bit for bit, every time", async () => {
  const [m, k, n] = [203, 300, 20]; // an odd row count: the halves are 104 and 99 rows
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 16, shared: true });
  const floats = new Float32Array(memory.buffer);
  const a = CONTROL_BYTES; // the handshake's block comes first
  const [b, one, two] = [a + 4 * m * k, a + 4 * (m * k + k * n), a + 4 * (2 * m * n + m * k + k * n)];
  const random = seededRandom(5);
  for (let i = a / 4; i < one / 4; i++) floats[i] = random() - 0.5;
  const single = await ThreadedGemm.start(memory, 0, 1);
  const threaded = await ThreadedGemm.start(memory, 0, 2);
  try {
    single.gemm(a, k, 1, b, one, m, k, n);
    for (let round = 0; round < 20; round++) {
      floats.fill(Number.NaN, two / 4, two / 4 + m * n);
      threaded.gemm(a, k, 1, b, two, m, k, n);
      expect(floats.subarray(two / 4, two / 4 + m * n)).toEqual(floats.subarray(one / 4, one / 4 + m * n));
    }
  } finally {
    await threaded.close();
  }
});

test("the bias and ReLU kernel gives the JavaScript loop's bits, −0 and tiny sums included", () => {
  const [rows, n] = [7, 12];
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const [out, bias] = [new Float32Array(memory.buffer, 72, rows * n), new Float32Array(memory.buffer, 4, n)]; // unaligned, as views may be
  const random = seededRandom(9);
  const special = [-0, 0, 1e-45, -1e-45, 3.4e38, -3.4e38, 1e-30];
  out.forEach((_, i) => {
    out[i] = i < special.length ? special[i]! : (random() - 0.5) * 10 ** Math.floor(random() * 8 - 4);
  });
  bias.forEach((_, j) => {
    bias[j] = j < 3 ? [-0, 1e-45, 3.4e38][j]! : random() - 0.5;
  });
  const expected = Float32Array.from(out);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < n; j++) {
      let v = expected[i * n + j]! + bias[j]!;
      if (v < 0) v = 0;
      expected[i * n + j] = v;
    }
  biasReluFor(memory)(out.byteOffset, bias.byteOffset, rows, n);
  expect(new Uint32Array(out.slice().buffer)).toEqual(new Uint32Array(expected.buffer));
  expect(Object.is(out[0], -0)).toBe(true); // −0 + −0 stays −0, as in the loop
});
