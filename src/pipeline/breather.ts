// Long synchronous work (parsing traces, training batches, generating runs) holds the event loop, and
// while it does, Ctrl-C's signal handler cannot run and the live view cannot draw. A Breather is checked
// between pieces of work: it throws when the step was aborted, and every 50 ms it gives the event loop
// one turn (setImmediate, not a resolved promise, which would run before any signal handler).
import { throwIfAborted } from "./errors.ts";

const TURN_EVERY_MS = 50;

export class Breather {
  private last = performance.now();

  async maybe(signal: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    if (performance.now() - this.last < TURN_EVERY_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.last = performance.now();
    throwIfAborted(signal);
  }
}
