// One plain line per meaningful event, no escape codes: what CI logs and pipes get.
import type { PipelineEvent } from "../pipeline/events.ts";
import { formatEpoch, formatHistogram, formatPrediction, formatProgress, formatValue } from "./format.ts";
import { ProgressThrottle, type Reporter } from "./reporter.ts";
import { plainLine } from "./shown-text.ts";

export interface LineSink {
  write(line: string): void;
}

/** Every line goes out escaped: messages carry values from the database (run ids, build names). */
function safe(sink: LineSink): LineSink {
  return { write: (line) => sink.write(plainLine(line)) };
}

export class PlainReporter implements Reporter {
  private throttle: ProgressThrottle;
  private readonly out: LineSink;
  private readonly err: LineSink;
  constructor(
    out: LineSink,
    private readonly errSink: LineSink,
    private readonly quiet = false,
    progressIntervalMs = 3000,
  ) {
    this.throttle = new ProgressThrottle(progressIntervalMs);
    this.out = safe(out);
    this.err = safe(errSink);
  }

  event(e: PipelineEvent): void {
    if (e.type === "warning") {
      this.err.write(`warning: ${e.message}`);
      return;
    }
    // A command's own output (its predictions, what it wrote, its figures) is printed even with
    // --quiet; only the progress around it is silenced.
    if (this.quiet && e.type !== "prediction" && e.type !== "result") return;
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
        for (const command of e.next ?? []) this.out.write(`  ${command}`);
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
    // The stack is ours (CIML_DEBUG=1), and its lines are meant as lines.
    if (stack) this.errSink.write(stack);
  }

  close(): void {}
}
