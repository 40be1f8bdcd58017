// The help pages: the top-level one (commands, environment, exit codes, the other ways in) and one
// per command (what it does, examples, every option with the step's default written one way).
import { COMMANDS, FACE_OPTIONS, HELP_OPTIONS } from "./command-table.ts";
import type { CommandSpec } from "./command-spec.ts";
import type { DefaultValue } from "./flags.ts";
import type { OptionSpec } from "./option-spec.ts";

/** The variables ciml reads, with what each stands for. */
const ENVIRONMENT: readonly [string, string][] = [
  ["CIML_DATA_PATH", "workspace root when --data-path is not given (else ./data)"],
  ["CIML_DB_URI", "database URI when --db-uri is not given"],
  ["CIML_MQTT_PASSWORD", "mqtt-trainer's broker password when --password is not given (kept out of `ps`)"],
  ["CIML_DEBUG=1", "add the stack trace to error messages"],
];

const EXIT_CODES: readonly [string, string][] = [
  ["0", "done"],
  ["1", "failed; the message says why and what to do"],
  ["2", "usage error: unknown command or option, or a bad value"],
  ["130", "interrupted (Ctrl-C); nothing half-written is kept, run the command again to resume"],
];

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

function written(o: OptionSpec): string {
  const names = o.short ? `${o.short}, ${o.name}` : `    ${o.name}`;
  return o.placeholder ? `${names} ${o.placeholder}` : names;
}

function shownDefault(value: DefaultValue): string {
  return typeof value === "object" ? value.join(" ") : String(value);
}

function optionRows(options: readonly OptionSpec[], defaults: ReadonlyMap<string, DefaultValue>): [string, string][] {
  return options.map((o) => {
    const d = defaults.get(o.name);
    // Switches default to off and say nothing; a default already explained in the help text is not repeated.
    const suffix = d === undefined || d === false || o.help.includes("(default:") ? "" : ` (default: ${shownDefault(d)})`;
    return [written(o), `${o.help}${suffix}`];
  });
}

export function topHelp(version: string): string {
  const commands = COMMANDS.map((c): [string, string] => [c.name, c.alias ? `${c.summary} (also: ${c.alias})` : c.summary]);
  return [
    `${version}: learns from CI runs (pass/fail and their dstat resource traces) to tell failing jobs from passing ones`,
    "",
    "Usage:",
    "  ciml <command> [options]",
    "  ciml help [command]             a command's options and examples (also: ciml <command> --help)",
    "  ciml-<command> [options]        a link named ciml-<command> to the ciml executable runs that command",
    "",
    "Commands:",
    ...table(commands),
    "",
    "Options of every command:",
    ...table(optionRows([...FACE_OPTIONS, ...HELP_OPTIONS], new Map())),
    "",
    "Environment:",
    ...table(ENVIRONMENT),
    "",
    "Exit codes:",
    ...table(EXIT_CODES),
    "",
    "New here? `ciml quickstart` runs the whole pipeline on a simulated CI history in about a minute.",
  ].join("\n");
}

/** `name` is what the user typed (the alias shows the alias). */
export function commandHelp(command: CommandSpec, name: string, defaults: ReadonlyMap<string, DefaultValue>): string {
  const usage = `ciml ${name}${command.argument ? ` ${command.argument}` : ""} [options]`;
  const aka = command.alias ? ` (${name === command.alias ? `also: ${command.name}` : `also: ${command.alias}`})` : "";
  return [
    `ciml ${name}: ${command.summary}${aka}`,
    ...(command.notes ?? []),
    "",
    "Usage:",
    `  ${usage}`,
    "",
    "Examples:",
    ...command.examples.map((e) => `  ${e.replace(/^ciml \S+/, `ciml ${name}`)}`),
    "",
    "Options:",
    ...table(optionRows(command.options, defaults)),
    "",
    "Options of every command:",
    ...table(optionRows([...FACE_OPTIONS, ...HELP_OPTIONS], new Map())),
    "",
    "Exit codes: 0 done, 1 failed, 2 usage error, 130 interrupted. `ciml --help` lists the environment variables.",
  ].join("\n");
}
