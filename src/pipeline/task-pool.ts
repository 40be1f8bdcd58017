// At most N tasks at once: the one bounded-concurrency loop, used by cache-data's downloads and
// db-batch-predict's fetches. (The MQTT service's WorkQueue adds a bounded backlog and retries on top.)

/** Tasks started one by one, never more than `limit` running; a task's failure is kept for `drain`. */
export class TaskPool {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError("a task pool needs a limit of at least 1");
  }

  get size(): number {
    return this.running.size;
  }

  /** true once a task has failed: callers stop starting new ones. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Waits until a task may start: fewer than `limit` running, and `full(running)` (a caller's own bound,
   * e.g. "no more downloads than --limit can still use") false — or nothing running at all.
   */
  async room(full: (running: number) => boolean = () => false): Promise<void> {
    while (this.running.size > 0 && (this.running.size >= this.limit || full(this.running.size))) await Promise.race(this.running);
  }

  start(task: () => Promise<void>): void {
    const run: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** Waits for every running task, then throws the first failure if there was one. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    if (this.failure) throw this.failure.error;
  }
}

/**
 * At most `limit` holders at once; the others wait for a turn, first come first served. For a phase inside
 * the tasks of a TaskPool (cache-data's downloads, a run's writes follow outside it).
 */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: number) {
    if (!(limit >= 1)) throw new RangeError("slots need a limit of at least 1");
    this.free = limit;
  }

  /** Resolves once a slot is this caller's; it must `release` it when done, whatever happens. */
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Hands the slot to the longest waiter, or frees it. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** `fn` over every item, at most `limit` at once, results in the items' order; stops starting after a failure. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  const pool = new TaskPool(limit);
  for (let i = 0; i < items.length && !pool.failed; i++) {
    await pool.room();
    if (pool.failed) break;
    pool.start(async () => {
      out[i] = await fn(items[i]!);
    });
  }
  await pool.drain();
  return out;
}
