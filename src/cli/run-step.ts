// Runs one pipeline step under a face: picks the reporter, turns Ctrl-C into an abort, and turns the
// outcome into an exit code (0 ok, 1 failed, 2 usage, 130 interrupted).
import { isAbort } from "../pipeline/errors.ts";
import type { Step } from "../pipeline/events.ts";
import { JsonReporter } from "../tui/json-reporter.ts";
import { PlainReporter, type LineSink } from "../tui/plain-reporter.ts";
import type { Reporter } from "../tui/reporter.ts";
import { describeError } from "./describe-error.ts";

export interface FaceFlags {
  json?: boolean;
  quiet?: boolean;
  noTui?: boolean;
  /** CIML_DEBUG=1: errors come with their stack */
  debug?: boolean;
}

const EXIT_INTERRUPTED = 130;

const stdoutSink: LineSink = { write: (line) => void process.stdout.write(`${line}\n`) };
const stderrSink: LineSink = { write: (line) => void process.stderr.write(`${line}\n`) };

/** The reporter of a face that draws nothing live: what errors before a step starts are told to. */
export function lineReporter(flags: FaceFlags): Reporter {
  return flags.json ? new JsonReporter(stdoutSink) : new PlainReporter(stdoutSink, stderrSink, flags.quiet);
}

async function chooseReporter(flags: FaceFlags): Promise<Reporter> {
  if (flags.json || flags.quiet || flags.noTui || !process.stdout.isTTY) return lineReporter(flags);
  // Loaded lazily: headless runs never pay for React and Ink.
  const { InkReporter } = await import("../tui/ink-reporter.tsx");
  return new InkReporter();
}

export async function runWithReporter<O, R>(
  step: Step<O, R>,
  options: O,
  reporter: Reporter,
  controller = new AbortController(),
  debug = false,
): Promise<{ code: number; result?: R }> {
  try {
    const result = await step(options, { emit: (e) => reporter.event(e), signal: controller.signal });
    return { code: 0, result };
  } catch (err) {
    if (controller.signal.aborted || isAbort(err)) {
      reporter.error("interrupted; nothing half-written was kept, run the command again to resume", EXIT_INTERRUPTED);
      return { code: EXIT_INTERRUPTED };
    }
    const { message, exitCode, stack } = describeError(err, debug);
    reporter.error(message, exitCode, stack);
    return { code: exitCode };
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
    return (await runWithReporter(step, options, reporter, controller, flags.debug)).code;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
