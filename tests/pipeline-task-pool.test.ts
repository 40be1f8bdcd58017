// The one bounded-concurrency loop: never more than N at once, results in order, a failure stops new starts.
import { describe, expect, test } from "bun:test";
import { mapLimited, Slots, TaskPool } from "../src/pipeline/task-pool.ts";

/** A task that waits for the test to let it go, so "how many run at once" is counted, not timed. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe("mapLimited", () => {
  test("runs at most `limit` at once and keeps the items' order", async () => {
    const gates = Array.from({ length: 6 }, gate);
    let running = 0;
    let most = 0;
    const result = mapLimited([5, 1, 4, 2, 3, 0], 2, async (x) => {
      running++;
      most = Math.max(most, running);
      await gates[x]!.opened;
      running--;
      return x * 10;
    });
    for (const x of [1, 5, 4, 2, 0, 3]) {
      for (let i = 0; i < 10; i++) await Promise.resolve();
      gates[x]!.open();
    }
    expect(await result).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(2);
  });

  test("a failure starts nothing new, waits for what runs, then is thrown", async () => {
    const started: number[] = [];
    const slow = gate();
    const result = mapLimited([0, 1, 2, 3], 2, async (x) => {
      started.push(x);
      if (x === 0) await slow.opened;
      if (x === 1) throw new Error("item 1 broke");
      return x;
    });
    await Promise.resolve();
    slow.open();
    await expect(result).rejects.toThrow("item 1 broke");
    expect(started).toEqual([0, 1]);
  });
});

describe("TaskPool", () => {
  test("room() also waits while the caller's own bound says full", async () => {
    const pool = new TaskPool(4);
    const gates = [gate(), gate()];
    for (const g of gates) pool.start(() => g.opened);
    let roomGiven = false;
    const room = pool.room((running) => running >= 2).then(() => (roomGiven = true));
    await Promise.resolve();
    expect(roomGiven).toBe(false);
    gates[0]!.open();
    await room;
    expect(pool.size).toBe(1);
    gates[1]!.open();
    await pool.drain();
    expect(pool.size).toBe(0);
  });
});

describe("Slots", () => {
  test("at most `limit` holders; a released slot goes to the longest waiter", async () => {
    const slots = new Slots(2);
    const order: string[] = [];
    const holder = (name: string) => slots.take().then(() => order.push(name));
    const all = ["a", "b", "c", "d"].map(holder);
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(order).toEqual(["a", "b"]);
    slots.release();
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(order).toEqual(["a", "b", "c"]);
    slots.release();
    slots.release();
    slots.release();
    await Promise.all(all);
    expect(order).toEqual(["a", "b", "c", "d"]);
    // Every slot is free again: two takes pass at once, a third waits.
    let third = false;
    await slots.take();
    await slots.take();
    void slots.take().then(() => (third = true));
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(third).toBe(false);
  });
});
