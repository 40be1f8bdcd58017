// The trainer's second thread: a worker that shares the trainer's WebAssembly memory (and the optimizer's) and
// runs a list of kernel calls while this thread runs its own part of the same phase. A large matrix product is
// split by rows of C (this thread the upper rows, the worker the lower); other phases hand the worker a whole
// independent product or half of the optimizer's arrays. Every output element is computed by the same code in
// the same order as on one thread, so the result is bit for bit the single-thread result, whatever the timing.
// The handshake is two counters in the shared memory (Atomics.wait/notify). A thread woken from Atomics.wait
// answers 30–50 µs late (measured), and a step has a dozen hand-offs, so each side first polls the other's
// counter for a while before it sleeps (`waitChange`).
import { availableParallelism, loadavg } from "node:os";
import { type BiasRelu, biasReluFor, biasReluModule } from "./bias-relu-wasm.ts";
import { type Gemm, gemmFor, gemmModule } from "./gemm-wasm.ts";

/** Products with fewer multiply-adds than this run on this thread alone. */
const SPLIT_ABOVE = 1 << 20;
/** Int32 slots of the control block: the request counter, the answer counter, the number of jobs. */
const SEQ = 0;
const DONE = 1;
const COUNT = 2;
/** Float64 slot 2 (bytes 16–23) holds the worker's polling time in ms; jobs start at float64 slot 3, each the function's index, then up to 11 arguments. */
const SPIN = 2;
const JOBS = 3;
const JOB = 12;
export const MAX_JOBS = 64;
export const CONTROL_BYTES = (JOBS + MAX_JOBS * JOB) * 8;
const STOP = -1;
/**
 * The longest either side polls before it sleeps in Atomics.wait, in milliseconds: long enough to cover this
 * thread's serial phases between two hand-offs of a 5×100 step (bias and ReLU, the head), 50–100 µs.
 */
const SPIN_MS = 0.1;
/** Hand-offs between two looks at the load average (each a system call). */
const LOOK_EVERY = 256;
/** The worker's function 0 copies bytes between its memories: (to memory, to byte, from memory, from byte, bytes). */
export const COPY = 0;
/** Function 1 is the product (the only export of the first module), with `Gemm`'s arguments; 2 the bias and ReLU. */
export const GEMM = 1;
const BIAS_RELU = 2;

/** Whether a product of this many multiply-adds repays a hand-off to the worker. */
export const worthHandingOff = (multiplyAdds: number) => multiplyAdds >= SPLIT_ABOVE;

/** A WebAssembly module and the shared memory it is instantiated on; its exports become the worker's functions. */
export interface Shared {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
}

/**
 * Waits until ctl[slot] is no longer `old` and returns its new value, polling for up to `spinMs` before it
 * sleeps. Used by both threads: the worker gets it as an argument, since its source must stand alone.
 */
function waitChange(ctl: Int32Array, slot: number, old: number, spinMs: number): number {
  const start = performance.now();
  let value = Atomics.load(ctl, slot);
  while (value === old && performance.now() - start < spinMs) value = Atomics.load(ctl, slot);
  while (value === old) {
    Atomics.wait(ctl, slot, old);
    value = Atomics.load(ctl, slot);
  }
  return value;
}

/**
 * How long to poll: SPIN_MS while the machine has a core free for each of our threads, else 0. Polling pays
 * only where a sleeping thread's core would go idle (a woken idle core answers 30–50 µs late, measured); on
 * a busy machine the core goes to another process meanwhile, a sleeper is woken within ≈10 µs, and polling
 * only takes time from the partner and the neighbours (measured at load 10–15: a 5×100 epoch 1.1–2.3× slower).
 * The one-minute load average counts our own two threads while they run.
 */
function spinMs(): number {
  return loadavg()[0]! < availableParallelism() + 1 ? SPIN_MS : 0;
}

// The worker's whole program. It is started from this function's source (a blob URL), so that the single
// executable `bun build --compile` makes needs no second file; it must not refer to anything outside itself.
function workerMain(wait: typeof waitChange): void {
  (globalThis as unknown as { onmessage: (event: MessageEvent) => void }).onmessage = (event) => {
    const { shared, control, controlBytes, layout } = event.data as {
      shared: Shared[];
      control: number;
      controlBytes: number;
      layout: { spin: number; jobs: number; job: number };
    };
    const memories = shared.map((s) => s.memory);
    type Fn = (...args: number[]) => void;
    const copy: Fn = (to, toByte, from, fromByte, bytes) =>
      new Uint8Array(memories[to]!.buffer, toByte, bytes).set(new Uint8Array(memories[from]!.buffer, fromByte, bytes));
    const fns: Fn[] = [copy];
    for (const { module, memory } of shared) {
      const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
      for (const { name } of WebAssembly.Module.exports(module)) fns.push(exports[name] as Fn);
    }
    const ctl = new Int32Array(memories[0]!.buffer, control, 4);
    const jobs = new Float64Array(memories[0]!.buffer, control, controlBytes / 8);
    postMessage("attached");
    let seen = 0;
    for (;;) {
      const seq = wait(ctl, 0, seen, jobs[layout.spin]!);
      if (seq === -1) break;
      seen = seq;
      let answer = seq;
      try {
        for (let j = 0, at = layout.jobs; j < ctl[2]!; j++, at += layout.job)
          fns[jobs[at]!]!(
            jobs[at + 1]!,
            jobs[at + 2]!,
            jobs[at + 3]!,
            jobs[at + 4]!,
            jobs[at + 5]!,
            jobs[at + 6]!,
            jobs[at + 7]!,
            jobs[at + 8]!,
            jobs[at + 9]!,
            jobs[at + 10]!,
            jobs[at + 11]!,
          );
      } catch {
        answer = -seq; // the caller sees the failure instead of waiting for ever
      }
      Atomics.store(ctl, 1, answer);
      Atomics.notify(ctl, 1);
    }
    // back to the message loop, ready for the next trainer or to be terminated
    postMessage("detached");
  };
}

/**
 * A worker back in its message loop, kept for the next `start`: starting one costs 7–10 ms (measured), which
 * is a fifth of a 10/10/10 epoch for a caller that trains an epoch per call, as the bench does.
 */
let parked: Worker | null = null;

function newWorker(): Worker {
  const url = URL.createObjectURL(new Blob([`(${workerMain.toString()})(${waitChange.toString()})`], { type: "application/javascript" }));
  const worker = new Worker(url);
  // the worker loads its source asynchronously: the URL must live until it has answered
  worker.addEventListener("message", () => URL.revokeObjectURL(url), { once: true });
  worker.addEventListener("error", () => URL.revokeObjectURL(url), { once: true });
  return worker;
}

export class ThreadedGemm {
  private seq = 0;
  private readonly jobs: Float64Array;
  /** this thread's polling time, looked up again every LOOK_EVERY hand-offs */
  private spinMs = 0;

  private constructor(
    /** the product on this thread alone */
    readonly local: Gemm,
    /** the bias and ReLU on this thread alone */
    readonly biasRelu: BiasRelu,
    private readonly ctl: Int32Array,
    private readonly worker: Worker | null,
    private readonly shared: Shared[],
  ) {
    this.jobs = new Float64Array(ctl.buffer, ctl.byteOffset, CONTROL_BYTES / 8);
  }

  /**
   * The product over `memory` (shared), with a second thread when `threads` is 2. The first CONTROL_BYTES at
   * `control` are the handshake's and must not hold data. `more` are further modules the worker instantiates
   * (each on its own shared memory), whose exports `run` can then call by `functionIndex`.
   */
  static async start(memory: WebAssembly.Memory, control: number, threads: 1 | 2, more: Shared[] = []): Promise<ThreadedGemm> {
    const ctl = new Int32Array(memory.buffer, control, CONTROL_BYTES / 4);
    const shared = [{ module: gemmModule(), memory }, { module: biasReluModule(), memory }, ...more];
    if (threads === 1) return new ThreadedGemm(gemmFor(memory), biasReluFor(memory), ctl, null, shared);
    const worker = parked ?? newWorker();
    parked = null;
    worker.ref();
    try {
      await new Promise<void>((resolve, reject) => {
        worker.onmessage = () => resolve();
        worker.onerror = (e) => reject(new Error(`training worker failed to start: ${e.message}`));
        worker.postMessage({ shared, control, controlBytes: CONTROL_BYTES, layout: { spin: SPIN, jobs: JOBS, job: JOB } });
      });
    } catch (e) {
      worker.terminate();
      throw e;
    }
    return new ThreadedGemm(gemmFor(memory), biasReluFor(memory), ctl, worker, shared);
  }

  /** Whether there is a second thread to `run` jobs on. */
  get twoThreads(): boolean {
    return this.worker !== null;
  }

  /** The worker's index of export `name` of the module at `shared` (0, 1: its own; then the `more` of `start`). */
  functionIndex(shared: number, name: string): number {
    let index = COPY + 1;
    for (let s = 0; s < shared; s++) index += WebAssembly.Module.exports(this.shared[s]!.module).length;
    return index + WebAssembly.Module.exports(this.shared[shared]!.module).findIndex((e) => e.name === name);
  }

  /** Whether `array` lives in the first memory (the product's), where the worker's jobs can address it by byte offset. */
  holds(array: Float32Array): boolean {
    return array.buffer === this.shared[0]!.memory.buffer;
  }

  /** The first index in the worker's memories of `memory` (0: the product's; then those of the `more` of `start`), or -1. */
  memoryIndex(memory: WebAssembly.Memory): number {
    return this.shared.findIndex((s) => s.memory === memory);
  }

  /**
   * Hands `jobs` (each a function index then its arguments) to the worker, runs `local` here meanwhile, and
   * returns when both are done. The jobs must not touch what `local` reads or writes. Needs two threads.
   */
  run(jobs: number[][], local: () => void): void {
    if (jobs.length > MAX_JOBS) throw new Error(`at most ${MAX_JOBS} jobs per hand-off`);
    const { ctl } = this;
    jobs.forEach((job, j) => this.jobs.set(job, JOBS + j * JOB));
    ctl[COUNT] = jobs.length;
    const seq = ++this.seq;
    if (seq % LOOK_EVERY === 1) this.jobs[SPIN] = this.spinMs = spinMs();
    const before = Atomics.load(ctl, DONE); // the worker changes it only once it has this request
    Atomics.store(ctl, SEQ, seq);
    Atomics.notify(ctl, SEQ);
    local();
    if (waitChange(ctl, DONE, before, this.spinMs) !== seq) throw new Error("training worker failed on its part of a step");
  }

  /** Same arguments as `Gemm`; large products are split by rows between the two threads. */
  readonly gemm: Gemm = (a, aRow, aInner, b, c, m, k, n) => this.product(a, aRow, aInner, b, c, m, k, n, -1);

  /** `gemm`, then C = max(C + bias, 0) row by row (`bias` a byte address), each thread on the rows it computed. */
  readonly gemmBiasRelu = (a: number, aRow: number, aInner: number, b: number, c: number, m: number, k: number, n: number, bias: number) =>
    this.product(a, aRow, aInner, b, c, m, k, n, bias);

  private product(a: number, aRow: number, aInner: number, b: number, c: number, m: number, k: number, n: number, bias: number): void {
    const rows = (at: number, count: number) => {
      this.local(a + at * aRow * 4, aRow, aInner, b, c + at * n * 4, count, k, n);
      if (bias >= 0) this.biasRelu(c + at * n * 4, bias, count, n);
    };
    if (!this.worker || !worthHandingOff(m * k * n) || m < 8) {
      rows(0, m);
      return;
    }
    // This thread takes the first rows, a multiple of 4 so both halves run the 4-row blocks.
    const top = Math.ceil(m / 8) * 4;
    const low = c + top * n * 4;
    const jobs = [[GEMM, a + top * aRow * 4, aRow, aInner, b, low, m - top, k, n]];
    if (bias >= 0) jobs.push([BIAS_RELU, low, bias, m - top, n]);
    this.run(jobs, () => rows(0, top));
  }

  /** Sends the worker back to its message loop, to be kept for the next `start` (not keeping the process alive) or ended. */
  async close(): Promise<void> {
    if (!this.worker) return;
    const worker = this.worker;
    const detached = new Promise<void>((resolve) => {
      worker.onmessage = () => resolve();
    });
    Atomics.store(this.ctl, SEQ, STOP);
    Atomics.notify(this.ctl, SEQ);
    await detached;
    worker.onmessage = null;
    worker.onerror = null;
    if (parked) worker.terminate();
    else {
      worker.unref();
      parked = worker;
    }
  }
}
