// One command of the CLI as data: its name, help texts and option lines (known without loading
// anything), and a loader that imports the command's pipeline module only when the command runs or
// its help is shown, so `ciml --help` does not pay for TensorFlow, MQTT and the database drivers.
import type { Step } from "../pipeline/events.ts";
import { type DefaultValue, Flags } from "./flags.ts";
import type { OptionSpec } from "./option-spec.ts";
import type { FaceFlags } from "./run-step.ts";

export interface CommandSpec {
  name: string;
  /** another name the original tool used for this command */
  alias?: string;
  /** the positional argument as the help writes it, e.g. "<build_uuid>" */
  argument?: string;
  /** one line: what the command does */
  summary: string;
  /** further lines for the command's own help */
  notes?: readonly string[];
  /** one to three command lines that work as written */
  examples: readonly string[];
  options: readonly OptionSpec[];
  load(): Promise<LoadedCommand>;
}

interface LoadedCommand {
  /** the step's defaults by option name, for the help */
  defaults(): Map<string, DefaultValue>;
  /** the step's options made from what was typed (tests look at them) */
  normalise(flags: Flags): unknown;
  run(flags: Flags, face: FaceFlags): Promise<number>;
}

/** Ties a step to its normaliser: the one function that turns what was typed into the step's options. */
export function stepCommand<O, R>(step: Step<O, R>, normalise: (f: Flags) => O): LoadedCommand {
  return {
    defaults() {
      const defaults = new Map<string, DefaultValue>();
      normalise(new Flags(new Map(), [], {}, defaults));
      return defaults;
    },
    normalise,
    async run(flags, face) {
      const options = normalise(flags);
      // The faces (and Ink behind them) load only when a command runs, not for the help.
      const { runStep } = await import("./run-step.ts");
      return runStep(step, options, face);
    },
  };
}
