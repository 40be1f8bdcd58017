// One plain line per meaningful event, no escape codes: what CI logs and pipes get.
import type { PipelineEvent } from "../pipeline/events.ts";
import { formatEpoch, formatHistogram, formatPrediction, formatProgress, formatValue } from "./format.ts";
import { ProgressThrottle, type Reporter } from "./reporter.ts";

export interface LineSink {
  write(line: string): void;
}

export class PlainReporter implements Reporter {
  private throttle: ProgressThrottle;
  constructor(
    private readonly out: LineSink,
    private readonly err: LineSink,
    private readonly quiet = false,
    progressIntervalMs = 3000,
  ) {
    this.throttle = new ProgressThrottle(progressIntervalMs);
  }

  event(e: PipelineEvent): void {
    if (e.type === "warning") {
      this.err.write(`warning: ${e.message}`);
      return;
    }
    if (this.quiet) return;
    switch (e.type) {
      case "stage":
        if (e.state === "started") this.out.write(`== ${e.stage}${e.detail ? `: ${e.detail}` : ""}`);
        break;
      case "progress":
        if (this.throttle.shouldReport(e.stage, e.done, e.total)) this.out.write(formatProgress(e));
        break;
      case "info":
        this.out.write(e.message);
        break;
      case "histogram":
        this.out.write(formatHistogram(e));
        break;
      case "epoch":
        this.out.write(formatEpoch(e));
        break;
      case "prediction":
        this.out.write(formatPrediction(e));
        break;
      case "result":
        for (const line of e.lines ?? []) this.out.write(line);
        this.out.write(
          `${e.stage} done: ${Object.entries(e.summary)
            .map(([k, v]) => `${k}=${formatValue(v)}`)
            .join(" ")}`,
        );
        break;
    }
  }

  error(message: string, _exitCode: number, stack?: string): void {
    this.err.write(`error: ${message}`);
    if (stack) this.err.write(stack);
  }

  close(): void {}
}
