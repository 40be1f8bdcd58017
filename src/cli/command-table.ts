// Every command, in the order the help lists them, and the options every command accepts. Loading this
// file loads no pipeline code: each command imports its module when it runs.
import { buildDatasetCommand } from "./commands/build-dataset.ts";
import { cacheDataCommand } from "./commands/cache-data.ts";
import { dbBatchPredictCommand } from "./commands/db-batch-predict.ts";
import { dbPredictCommand } from "./commands/db-predict.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { mqttTrainerCommand } from "./commands/mqtt-trainer.ts";
import { plotDataCommand } from "./commands/plot-data.ts";
import { quickstartCommand } from "./commands/quickstart.ts";
import { setupExperimentCommand } from "./commands/setup-experiment.ts";
import { simulateCommand } from "./commands/simulate.ts";
import { trainModelCommand } from "./commands/train-model.ts";
import type { CommandSpec } from "./command-spec.ts";
import { option } from "./option-spec.ts";

export const COMMANDS: readonly CommandSpec[] = [
  quickstartCommand,
  simulateCommand,
  cacheDataCommand,
  buildDatasetCommand,
  setupExperimentCommand,
  trainModelCommand,
  plotDataCommand,
  dbPredictCommand,
  dbBatchPredictCommand,
  mqttTrainerCommand,
  doctorCommand,
];

export const FACE_OPTIONS = [
  option("--json", "one JSON object per line on stdout, nothing else there"),
  option("--quiet", "the command's own output (predictions, what it wrote, its summary), warnings and errors; no progress"),
  option("--no-tui", "plain lines even on a terminal"),
];

export const HELP_OPTIONS = [option("-h, --help", "show this help"), option("-v, --version", "print the version")];

/** The command a name stands for: its own name or its alias. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name || c.alias === name);
}

export function commandNames(): string[] {
  return COMMANDS.flatMap((c) => (c.alias ? [c.name, c.alias] : [c.name]));
}
