import { describe, expect, test } from "bun:test";
import { SeenIds } from "../src/pipeline/predict/seen-ids.ts";
import { WorkQueue } from "../src/pipeline/predict/work-queue.ts";

/** A promise the test resolves by hand, to hold work items in flight. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** Polls with a deadline, so a queue that never gets there fails in seconds, not at the suite's timeout. */
const until = async (cond: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${cond}`);
    await Bun.sleep(2);
  }
};

describe("WorkQueue", () => {
  test("never runs more items at once than its concurrency, and runs them all", async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    const q = new WorkQueue<number>(
      async (n) => {
        running++;
        peak = Math.max(peak, running);
        await Bun.sleep(1 + (n % 3));
        running--;
        done.push(n);
      },
      { concurrency: 3, capacity: 100, maxAttempts: 1, retryDelayMs: () => 0 },
    );
    for (let i = 0; i < 20; i++) expect(q.push(i)).toBe(true);
    await until(() => done.length === 20);
    expect(peak).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  test("refuses items beyond its capacity instead of growing", async () => {
    const g = gate();
    const q = new WorkQueue<number>(() => g.opened, { concurrency: 1, capacity: 2, maxAttempts: 1, retryDelayMs: () => 0 });
    const accepted = [1, 2, 3, 4].map((n) => q.push(n));
    // one in flight, two waiting, the fourth refused
    expect(accepted).toEqual([true, true, true, false]);
    g.open();
    await q.drain(1000);
  });

  test("retries a failing item a bounded number of times, then reports it once", async () => {
    const tries: number[] = [];
    const retried: number[] = [];
    const failed: { item: string; attempts: number; message: string }[] = [];
    const q = new WorkQueue<string>(
      async (item) => {
        tries.push(Date.now());
        if (item === "bad") throw new Error("log server down");
      },
      { concurrency: 2, capacity: 10, maxAttempts: 3, retryDelayMs: (a) => 5 * a },
      {
        retrying: (_i, attempt) => retried.push(attempt),
        failed: (item, attempts, err) => failed.push({ item, attempts, message: (err as Error).message }),
      },
    );
    q.push("bad");
    q.push("good");
    await until(() => failed.length === 1);
    expect(retried).toEqual([1, 2]);
    expect(failed).toEqual([{ item: "bad", attempts: 3, message: "log server down" }]);
    expect(tries.length).toBe(4);
  });

  test("an item that fails once and then works is not reported", async () => {
    let calls = 0;
    const failed: string[] = [];
    const q = new WorkQueue<string>(
      async () => {
        if (++calls === 1) throw new Error("flaky");
      },
      { concurrency: 1, capacity: 10, maxAttempts: 3, retryDelayMs: () => 1 },
      { failed: (i) => failed.push(i) },
    );
    q.push("x");
    await until(() => calls === 2 && q.inFlight === 0);
    expect(failed).toEqual([]);
  });

  test("drain lets work in flight finish, hands back what never started, and refuses new items", async () => {
    const g = gate();
    const finished: number[] = [];
    const q = new WorkQueue<number>(
      async (n) => {
        await g.opened;
        finished.push(n);
      },
      { concurrency: 2, capacity: 10, maxAttempts: 1, retryDelayMs: () => 0 },
    );
    for (const n of [1, 2, 3, 4]) q.push(n);
    await until(() => q.inFlight === 2);
    const drained = q.drain(10_000);
    expect(q.push(5)).toBe(false);
    g.open();
    expect(await drained).toEqual([3, 4]);
    expect(finished.sort()).toEqual([1, 2]);
  });

  test("drain aborts work that overruns its time", async () => {
    let sawAbort = false;
    const q = new WorkQueue<number>(
      (_n, signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => {
            sawAbort = true;
            resolve();
          }),
        ),
      { concurrency: 1, capacity: 1, maxAttempts: 1, retryDelayMs: () => 0 },
    );
    q.push(1);
    await q.drain(20);
    expect(sawAbort).toBe(true);
  });

  test("an item waiting for its retry when the drain starts is handed back, not retried", async () => {
    let calls = 0;
    const q = new WorkQueue<string>(
      async () => {
        calls++;
        throw new Error("down");
      },
      { concurrency: 1, capacity: 10, maxAttempts: 5, retryDelayMs: () => 60_000 },
    );
    q.push("x");
    await until(() => q.queued === 1 && q.inFlight === 0);
    expect(await q.drain(1000)).toEqual(["x"]);
    expect(calls).toBe(1);
  });
});

describe("WorkQueue.whenRoom", () => {
  test("a producer told there is no room waits for it, and is told false when the wait is too long or the queue drains", async () => {
    const g = gate();
    const q = new WorkQueue<number>(() => g.opened, { concurrency: 1, capacity: 1, maxAttempts: 1, retryDelayMs: () => 0 });
    expect(q.push(1)).toBe(true); // in flight
    expect(q.push(2)).toBe(true); // waiting: the queue is full
    expect(q.hasRoom).toBe(false);
    expect(await q.whenRoom(20)).toBe(false);
    const room = q.whenRoom(10_000);
    g.open(); // 1 finishes, 2 starts, a place is free
    expect(await room).toBe(true);

    const held = gate();
    const full = new WorkQueue<number>(() => held.opened, { concurrency: 1, capacity: 1, maxAttempts: 1, retryDelayMs: () => 0 });
    full.push(1);
    full.push(2);
    const waiting = full.whenRoom(10_000);
    const drained = full.drain(1000);
    expect(await waiting).toBe(false);
    held.open();
    expect(await drained).toEqual([2]);
  });
});

describe("SeenIds", () => {
  test("claims a build once; a released build can be claimed again", () => {
    const s = new SeenIds();
    expect(s.claim("a")).toBe(true);
    expect(s.claim("a")).toBe(false);
    s.release("a");
    expect(s.claim("a")).toBe(true);
  });

  test("forgets the oldest builds beyond its capacity", () => {
    const s = new SeenIds(3);
    for (const b of ["a", "b", "c", "d"]) s.claim(b);
    expect(s.size).toBe(3);
    expect(s.claim("a")).toBe(true);
    expect(s.claim("d")).toBe(false);
  });
});
