// The matrix product of gemm-wasm.ts on two threads: a worker shares the trainer's WebAssembly memory and
// computes the lower half of C's rows while this thread computes the upper half. Every element of C is
// summed by the same code in the same order as on one thread, so the result is bit for bit the single-thread
// result, whatever the timing. The handshake is two counters in the shared memory (Atomics.wait/notify):
// a worker that is kept busy costs ≈70 µs per round trip on a loaded 2-core machine, so only products large
// enough to repay it are split.
import { type Gemm, gemmFor, gemmModule } from "./gemm-wasm.ts";

/** Products with fewer multiply-adds than this run on this thread alone. */
const SPLIT_ABOVE = 1 << 20;
/** Int32 slots of the control block: the request counter, the answer counter, then the 8 arguments. */
const SEQ = 0;
const DONE = 1;
const ARGS = 2;
export const CONTROL_BYTES = 64;
const STOP = -1;

// The worker's whole program. It is started from this function's source (a blob URL), so that the single
// executable `bun build --compile` makes needs no second file; it must not refer to anything outside itself.
function workerMain(): void {
  (globalThis as unknown as { onmessage: (event: MessageEvent) => void }).onmessage = (event) => {
    const { module, memory, control } = event.data as { module: WebAssembly.Module; memory: WebAssembly.Memory; control: number };
    const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm as (...args: number[]) => void;
    const ctl = new Int32Array(memory.buffer, control, 16);
    postMessage("attached");
    let seen = 0;
    for (;;) {
      Atomics.wait(ctl, 0, seen);
      const seq = Atomics.load(ctl, 0);
      if (seq === -1) break;
      seen = seq;
      let answer = seq;
      try {
        gemm(ctl[2]!, ctl[3]!, ctl[4]!, ctl[5]!, ctl[6]!, ctl[7]!, ctl[8]!, ctl[9]!);
      } catch {
        answer = -seq; // the caller sees the failure instead of waiting for ever
      }
      Atomics.store(ctl, 1, answer);
      Atomics.notify(ctl, 1);
    }
    // back to the message loop, ready to be terminated
    postMessage("detached");
  };
}

export class ThreadedGemm {
  private seq = 0;

  private constructor(
    private readonly local: Gemm,
    private readonly ctl: Int32Array,
    private readonly worker: Worker | null,
  ) {}

  /**
   * A product over `memory` (shared) that uses a second thread when `threads` is 2. The first
   * CONTROL_BYTES at `control` are the handshake's and must not hold data.
   */
  static async start(memory: WebAssembly.Memory, control: number, threads: 1 | 2): Promise<ThreadedGemm> {
    const ctl = new Int32Array(memory.buffer, control, CONTROL_BYTES / 4);
    if (threads === 1) return new ThreadedGemm(gemmFor(memory), ctl, null);
    const url = URL.createObjectURL(new Blob([`(${workerMain.toString()})()`], { type: "application/javascript" }));
    const worker = new Worker(url);
    try {
      await new Promise<void>((resolve, reject) => {
        worker.onmessage = () => resolve();
        worker.onerror = (e) => reject(new Error(`training worker failed to start: ${e.message}`));
        worker.postMessage({ module: gemmModule(), memory, control });
      });
    } finally {
      // the worker loads its source asynchronously: the URL must live until it has answered
      URL.revokeObjectURL(url);
    }
    return new ThreadedGemm(gemmFor(memory), ctl, worker);
  }

  /** Same arguments as `Gemm`. */
  readonly gemm: Gemm = (a, aRow, aInner, b, c, m, k, n) => {
    if (!this.worker || m * k * n < SPLIT_ABOVE || m < 8) return this.local(a, aRow, aInner, b, c, m, k, n);
    // This thread takes the first rows, a multiple of 4 so both halves run the 4-row blocks.
    const top = Math.ceil(m / 8) * 4;
    const { ctl } = this;
    ctl.set([a + top * aRow * 4, aRow, aInner, b, c + top * n * 4, m - top, k, n], ARGS);
    const seq = ++this.seq;
    Atomics.store(ctl, SEQ, seq);
    Atomics.notify(ctl, SEQ);
    this.local(a, aRow, aInner, b, c, top, k, n);
    for (;;) {
      const done = Atomics.load(ctl, DONE);
      if (done === seq) return;
      if (done === -seq) throw new Error("training worker failed on a matrix product");
      Atomics.wait(ctl, DONE, done);
    }
  };

  /** Sends the worker back to its message loop and ends it. */
  async close(): Promise<void> {
    if (!this.worker) return;
    const worker = this.worker;
    const detached = new Promise<void>((resolve) => {
      worker.onmessage = () => resolve();
    });
    Atomics.store(this.ctl, SEQ, STOP);
    Atomics.notify(this.ctl, SEQ);
    await detached;
    worker.terminate();
  }
}
