// Long CPU-bound loops (reading traces, simulating runs) would otherwise hold the event loop for
// seconds: the live view could not draw and Ctrl-C could not be heard until the loop ended.
import { throwIfAborted } from "./errors.ts";

/** Lets the faces draw and Ctrl-C arrive between items without slowing the loop down. */
export class Breather {
  private last = performance.now();

  /**
   * Yields to the event loop when 50 ms have passed since the last breath. `beforeBreath` runs just
   * before yielding, so a progress event emitted there is drawn during the pause.
   */
  async maybe(signal: AbortSignal, beforeBreath?: () => void): Promise<void> {
    throwIfAborted(signal);
    if (performance.now() - this.last < 50) return;
    beforeBreath?.();
    await new Promise((resolve) => setImmediate(resolve));
    this.last = performance.now();
    throwIfAborted(signal);
  }
}
