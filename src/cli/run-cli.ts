// The command line from words to exit code: finds the command (or the help, or the version), parses
// its options, loads its pipeline module and runs it under the face the user chose. Every mistake
// before the step starts is reported by the same reporters as the step's own errors.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { removeEmptyFolders } from "../io/empty-folders.ts";
import { UsageError } from "../pipeline/errors.ts";
import { closest, commandFromLinkName } from "./argv.ts";
import { COMMANDS, commandNames, FACE_OPTIONS, findCommand, HELP_OPTIONS } from "./command-table.ts";
import type { CommandSpec } from "./command-spec.ts";
import { describeError } from "./describe-error.ts";
import { Flags } from "./flags.ts";
import { commandHelp, topHelp } from "./help.ts";
import { parseArgv } from "./parse-argv.ts";
import type { FaceFlags } from "./run-step.ts";

type Environment = Readonly<Record<string, string | undefined>>;

const GLOBAL_OPTIONS = [...FACE_OPTIONS, ...HELP_OPTIONS];

/** Options that take a value, in any command: the word after one is its value, not the command. */
const VALUE_OPTIONS = new Set(COMMANDS.flatMap((c) => c.options.filter((o) => o.arity > 0).flatMap((o) => [o.name, o.short ?? o.name])));

/** Where the command name is among the words: the first word that is neither an option nor an option's value. */
function commandIndex(words: readonly string[]): number {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--") return -1;
    if (!w.startsWith("-")) return i;
    if (VALUE_OPTIONS.has(w)) i++;
  }
  return -1;
}

/** A help page or the version (console.log, as in main.ts: process.stdout is slow to start in Bun). */
function write(text: string): number {
  console.log(text);
  return 0;
}

async function showCommandHelp(command: CommandSpec, name: string): Promise<number> {
  const loaded = await command.load();
  return write(commandHelp(command, name, loaded.defaults()));
}

/** Runs `words` (what follows `ciml`); `program` is the path the executable was started as, for ciml-<command> links. */
export async function runCli(
  words: readonly string[],
  programs: readonly (string | undefined)[],
  env: Environment,
  version: string,
): Promise<number> {
  const linked = programs.map((p) => commandFromLinkName(p, commandNames())).find((c) => c !== null);
  const all = linked ? [linked, ...words] : [...words];
  const face: FaceFlags = {
    json: all.includes("--json"),
    quiet: all.includes("--quiet"),
    noTui: all.includes("--no-tui"),
    debug: env.CIML_DEBUG === "1" || env.CIML_DEBUG === "true",
  };
  const at = commandIndex(all);
  const name = at < 0 ? undefined : all[at]!;
  let dataPathToTidy: string | undefined;
  try {
    if (name === "help") {
      const topic = all[at + 1];
      if (topic === undefined) return write(topHelp(version));
      const command = findCommand(topic);
      if (!command) throw unknownCommand(topic);
      return await showCommandHelp(command, topic);
    }
    if (name === undefined) {
      const { given } = parseArgv(all, GLOBAL_OPTIONS, "ciml");
      if (given.has("--version") && !given.has("--help")) return write(version);
      return write(topHelp(version));
    }
    const command = findCommand(name);
    if (!command) throw unknownCommand(name);
    const rest = [...all.slice(0, at), ...all.slice(at + 1)];
    const { given, positionals } = parseArgv(rest, [...command.options, ...GLOBAL_OPTIONS], `ciml ${name}`);
    if (given.has("--help")) return await showCommandHelp(command, name);
    if (given.has("--version")) return write(version);
    const expected = command.argument ? 1 : 0;
    if (positionals.length > expected)
      throw new UsageError(
        `unexpected argument ${JSON.stringify(positionals[expected])}${command.argument ? ` after ${command.argument}` : ""}; run \`ciml ${name} --help\``,
      );
    if (positionals.length < expected) throw new UsageError(`missing ${command.argument}: ciml ${name} ${command.argument} [options]`);
    const flags = new Flags(given, positionals, env);
    if (command.options.some((o) => o.name === "--data-path")) {
      const given = flags.fromEnv("--data-path", "CIML_DATA_PATH", "data") ?? "data";
      // A bucket has no folders to tidy.
      const dataPath = /^s3:\/\//i.test(given) ? undefined : resolve(given);
      if (dataPath && !existsSync(dataPath)) dataPathToTidy = dataPath;
    }
    const loaded = await command.load();
    const code = await loaded.run(flags, face);
    if (code !== 0 && dataPathToTidy) removeEmptyFolders(dataPathToTidy);
    return code;
  } catch (err) {
    if (dataPathToTidy) removeEmptyFolders(dataPathToTidy);
    const { message, exitCode, stack } = describeError(err, face.debug === true);
    const { lineReporter } = await import("./run-step.ts");
    const reporter = lineReporter(face);
    reporter.error(message, exitCode, stack);
    reporter.close();
    return exitCode;
  }
}

function unknownCommand(name: string): UsageError {
  const hint = closest(name, commandNames());
  return new UsageError(`unknown command "${name}"${hint ? `; did you mean "${hint}"?` : ""} Run \`ciml --help\` for the list`);
}
