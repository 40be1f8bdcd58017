// Runs the fake step under the real CLI face (signals, reporter choice, exit code), for subprocess tests.
import { runStep } from "../../src/cli/run-step.ts";
import { fakeStep } from "./fake-step.ts";

const [dir, count, tickMs, ...flags] = process.argv.slice(2);
const code = await runStep(
  fakeStep,
  { dir: dir!, count: Number(count), tickMs: Number(tickMs) },
  { json: flags.includes("--json"), noTui: flags.includes("--no-tui") },
);
process.exit(code);
