// `--json`: one JSON object per line on stdout and nothing else there, for machines.
import type { PipelineEvent } from "../pipeline/events.ts";
import type { LineSink } from "./plain-reporter.ts";
import { ProgressThrottle, type Reporter } from "./reporter.ts";

export class JsonReporter implements Reporter {
  private throttle: ProgressThrottle;
  constructor(
    private readonly out: LineSink,
    progressIntervalMs = 500,
  ) {
    this.throttle = new ProgressThrottle(progressIntervalMs);
  }

  event(e: PipelineEvent): void {
    if (e.type === "progress" && !this.throttle.shouldReport(e.stage, e.done, e.total)) return;
    this.out.write(JSON.stringify({ time: new Date().toISOString(), ...e }));
  }

  error(message: string, exitCode: number, stack?: string): void {
    this.out.write(JSON.stringify({ time: new Date().toISOString(), type: "error", message, exitCode, ...(stack ? { stack } : {}) }));
  }

  close(): void {}
}
