import type { PipelineEvent } from "../pipeline/events.ts";

/** A face: it is told every event, then how the step ended. */
export interface Reporter {
  event(e: PipelineEvent): void;
  /**
   * The step failed with a message meant for the user (already one line); `stack` only with
   * CIML_DEBUG=1. Each face prints errors here and nowhere else, in its one shape.
   */
  error(message: string, exitCode: number, stack?: string): void;
  /** Called once, last; the reporter flushes and lets go of the terminal. */
  close(): void;
}

/** Reports progress at most every `intervalMs` per stage, but never drops the last one of a stage. */
export class ProgressThrottle {
  private last = new Map<string, number>();
  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  shouldReport(stage: string, done: number, total: number | null): boolean {
    if (total !== null && done >= total) return true;
    const t = this.now();
    const prev = this.last.get(stage);
    if (prev !== undefined && t - prev < this.intervalMs) return false;
    this.last.set(stage, t);
    return true;
  }
}
