// A bounded queue with bounded concurrency and bounded retries, for work that arrives from outside at
// its own pace (MQTT events). Bounded everywhere so that a flood of events or a log server that is down
// cannot grow memory or retry forever: a full queue refuses, a failing item gives up after maxAttempts.

interface WorkQueueOptions {
  concurrency: number;
  /** items waiting (not yet started) at most; push() refuses beyond it */
  capacity: number;
  /** attempts per item, the first included */
  maxAttempts: number;
  /** pause before attempt n+1 after attempt n failed (n from 1) */
  retryDelayMs: (attempt: number) => number;
}

interface WorkQueueHooks<T> {
  retrying?(item: T, attempt: number, err: unknown): void;
  failed?(item: T, attempts: number, err: unknown): void;
  /** after every attempt, once the counts (inFlight, queued) are up to date */
  settled?(): void;
}

type Work<T> = (item: T, signal: AbortSignal) => Promise<void>;

export class WorkQueue<T> {
  private readonly waiting: T[] = [];
  private readonly attempts = new Map<T, number>();
  private readonly retryTimers = new Map<T, ReturnType<typeof setTimeout>>();
  private running = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private roomWaiters: ((room: boolean) => void)[] = [];
  /** aborts the work in flight, only when a drain overruns its time */
  private readonly hardStop = new AbortController();

  constructor(
    private readonly work: Work<T>,
    private readonly options: WorkQueueOptions,
    private readonly hooks: WorkQueueHooks<T> = {},
  ) {
    if (options.concurrency < 1 || options.capacity < 0 || options.maxAttempts < 1)
      throw new RangeError("work queue needs concurrency ≥ 1, capacity ≥ 0, maxAttempts ≥ 1");
  }

  /** false when the queue is full or draining: the caller counts the item as dropped. */
  push(item: T): boolean {
    if (this.closed || this.waiting.length >= this.options.capacity) return false;
    this.waiting.push(item);
    this.pump();
    return true;
  }

  /** whether push() would take an item now */
  get hasRoom(): boolean {
    return !this.closed && this.waiting.length < this.options.capacity;
  }

  /**
   * Resolves true once push() would take an item, false when `timeoutMs` passed first or the queue is
   * draining. Lets a producer that can wait (an MQTT broker holding unacknowledged messages) wait.
   */
  whenRoom(timeoutMs: number): Promise<boolean> {
    if (this.hasRoom || this.closed) return Promise.resolve(this.hasRoom);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.roomWaiters = this.roomWaiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = (room: boolean) => {
        clearTimeout(timer);
        resolve(room);
      };
      this.roomWaiters.push(wake);
    });
  }

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length + this.retryTimers.size;
  }

  /**
   * Stops taking items, lets the attempts in flight finish (aborting them after `timeoutMs`), and hands
   * back what never ran or was waiting for a retry.
   */
  async drain(timeoutMs: number): Promise<T[]> {
    this.closed = true;
    for (const wake of this.roomWaiters.splice(0)) wake(false);
    const abandoned = [...this.retryTimers.keys(), ...this.waiting.splice(0)];
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    if (this.running > 0) {
      const overrun = setTimeout(() => this.hardStop.abort(), timeoutMs);
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      clearTimeout(overrun);
    }
    return abandoned;
  }

  private pump(): void {
    while (!this.closed && this.running < this.options.concurrency && this.waiting.length > 0) {
      void this.attempt(this.waiting.shift()!);
    }
    // The producer waits for one place at a time (MQTT hands over one message at a time).
    if (this.roomWaiters.length > 0 && this.hasRoom) this.roomWaiters.shift()!(true);
  }

  private async attempt(item: T): Promise<void> {
    this.running++;
    const attempt = (this.attempts.get(item) ?? 0) + 1;
    this.attempts.set(item, attempt);
    try {
      await this.work(item, this.hardStop.signal);
      this.attempts.delete(item);
    } catch (err) {
      if (!this.closed && attempt < this.options.maxAttempts) {
        this.hooks.retrying?.(item, attempt, err);
        this.retryTimers.set(
          item,
          setTimeout(() => {
            this.retryTimers.delete(item);
            // A retry goes first: it has waited already, and capacity is not consulted (it was admitted once).
            this.waiting.unshift(item);
            this.pump();
          }, this.options.retryDelayMs(attempt)),
        );
      } else {
        this.attempts.delete(item);
        this.hooks.failed?.(item, attempt, err);
      }
    } finally {
      this.running--;
      this.pump();
      this.hooks.settled?.();
      if (this.running === 0 && this.closed) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
