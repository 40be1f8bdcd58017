// Runs one pipeline step under a face: picks the reporter, turns Ctrl-C into an abort, and turns the
// outcome into an exit code (0 ok, 1 failed, 2 usage, 130 interrupted).
import { CimlError, isAbort } from "../pipeline/errors.ts";
import type { Step } from "../pipeline/events.ts";
import { JsonReporter } from "../tui/json-reporter.ts";
import { PlainReporter, type LineSink } from "../tui/plain-reporter.ts";
import type { Reporter } from "../tui/reporter.ts";

export interface FaceFlags {
  json?: boolean;
  quiet?: boolean;
  /** cac turns --no-tui into tui=false */
  tui?: boolean;
}

const EXIT_INTERRUPTED = 130;

const stdoutSink: LineSink = { write: (line) => void process.stdout.write(`${line}\n`) };
const stderrSink: LineSink = { write: (line) => void process.stderr.write(`${line}\n`) };

async function chooseReporter(flags: FaceFlags): Promise<Reporter> {
  if (flags.json) return new JsonReporter(stdoutSink);
  if (flags.quiet || flags.tui === false || !process.stdout.isTTY) return new PlainReporter(stdoutSink, stderrSink, flags.quiet);
  // Loaded lazily: headless runs never pay for React and Ink.
  const { InkReporter } = await import("../tui/ink-reporter.tsx");
  return new InkReporter();
}

/** Message for an error the user did not cause: one line, with where to look. */
function unexpected(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return `${msg.split("\n")[0]} (unexpected; rerun with CIML_DEBUG=1 for the stack)`;
}

export async function runWithReporter<O, R>(
  step: Step<O, R>,
  options: O,
  reporter: Reporter,
  controller = new AbortController(),
): Promise<{ code: number; result?: R }> {
  try {
    const result = await step(options, { emit: (e) => reporter.event(e), signal: controller.signal });
    return { code: 0, result };
  } catch (err) {
    if (controller.signal.aborted || isAbort(err)) {
      reporter.error("interrupted; nothing half-written was kept, run the command again to resume", EXIT_INTERRUPTED);
      return { code: EXIT_INTERRUPTED };
    }
    if (process.env.CIML_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    if (err instanceof CimlError) {
      reporter.error(err.message, err.exitCode);
      return { code: err.exitCode };
    }
    reporter.error(unexpected(err), 1);
    return { code: 1 };
  } finally {
    reporter.close();
  }
}

/** The whole face for one command: SIGINT/SIGTERM abort the step; a second Ctrl-C exits at once. */
export async function runStep<O, R>(step: Step<O, R>, options: O, flags: FaceFlags): Promise<number> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(EXIT_INTERRUPTED);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const reporter = await chooseReporter(flags);
    return (await runWithReporter(step, options, reporter, controller)).code;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
