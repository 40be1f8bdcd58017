// Splits the words after the command into options and positional arguments, by the command's own
// option list. Every value stays the string the user typed: "2024" is a folder name until a command
// says it wants a number, so no value changes type by its look.
import { UsageError } from "../pipeline/errors.ts";
import { closest } from "./argv.ts";
import type { OptionSpec } from "./option-spec.ts";

/** A switch given is `true`; an option with values holds each occurrence's values, in order. */
export type Given = Map<string, true | string[][]>;

interface ParsedArgv {
  given: Given;
  positionals: string[];
}

function findSpec(specs: readonly OptionSpec[], name: string): OptionSpec | undefined {
  return specs.find((s) => s.name === name || s.short === name);
}

function unknownOption(name: string, specs: readonly OptionSpec[], helpCommand: string): UsageError {
  const hint = closest(name, [...specs.map((s) => s.name), "--help", "--version"]);
  return new UsageError(
    `unknown option ${name}${hint ? `; did you mean ${hint}? See` : "; see"} \`${helpCommand} --help\` for the options`,
  );
}

/** The values of one occurrence: `--tdt-split 7 0 3`, `--tdt-split "7 0 3"`, `--tdt-split 7,0,3` or `--tdt-split=7,0,3`. */
function takeValues(
  spec: OptionSpec,
  inline: string | undefined,
  words: readonly string[],
  at: number,
): { values: string[]; used: number } {
  if (inline !== undefined) return { values: spec.arity > 1 ? splitValues(inline) : [inline], used: 0 };
  const next = words[at];
  if (next === undefined || next.startsWith("--"))
    throw new UsageError(`${spec.name} needs ${spec.arity > 1 ? `${spec.arity} values` : "a value"}: ${spec.name} ${spec.placeholder}`);
  if (spec.arity === 1) return { values: [next], used: 1 };
  const together = splitValues(next);
  if (together.length === spec.arity) return { values: together, used: 1 };
  const values = words.slice(at, at + spec.arity);
  if (values.length < spec.arity || values.some((v) => v.startsWith("--")))
    throw new UsageError(`${spec.name} needs ${spec.arity} values: ${spec.name} ${spec.placeholder?.slice(1, -1)}`);
  return { values, used: spec.arity };
}

function splitValues(value: string): string[] {
  return value.split(/[\s,]+/).filter((v) => v.length > 0);
}

/**
 * `helpCommand` is how the user reaches the options' help ("ciml cache-data"), named in every mistake.
 * Mistakes are usage errors (exit 2) that echo the option as typed.
 */
export function parseArgv(words: readonly string[], specs: readonly OptionSpec[], helpCommand: string): ParsedArgv {
  const given: Given = new Map();
  const positionals: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "--") {
      positionals.push(...words.slice(i + 1));
      break;
    }
    if (!word.startsWith("-") || word === "-" || /^-\d/.test(word)) {
      positionals.push(word);
      continue;
    }
    const eq = word.indexOf("=");
    const name = eq > 0 ? word.slice(0, eq) : word;
    const inline = eq > 0 ? word.slice(eq + 1) : undefined;
    const spec = findSpec(specs, name);
    if (!spec) throw unknownOption(name, specs, helpCommand);
    if (spec.arity === 0) {
      if (inline !== undefined && !spec.optionalValue)
        throw new UsageError(`${spec.name} is a switch and takes no value; write ${spec.name} alone`);
      // A compatibility switch that may carry a value: the value is accepted and not used.
      if (spec.optionalValue && inline === undefined && words[i + 1] !== undefined && !words[i + 1]!.startsWith("-")) i++;
      given.set(spec.name, true);
      continue;
    }
    const { values, used } = takeValues(spec, inline, words, i + 1);
    i += used;
    const before = given.get(spec.name);
    given.set(spec.name, spec.repeatable && Array.isArray(before) ? [...before, values] : [values]);
  }
  return { given, positionals };
}
