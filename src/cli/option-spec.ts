// What one command-line option is: its name as the user types it, whether it takes a value and how
// many, and its help line. The command tables are lists of these, one line per option.

export interface OptionSpec {
  /** as typed, e.g. "--build-name" */
  name: string;
  /** one-letter form, e.g. "-k" */
  short?: string;
  /** what the value is called in the help, e.g. "<name>"; absent for a switch */
  placeholder?: string;
  /** how many values one occurrence takes (click's nargs): `--tdt-split 7 0 3` takes 3 */
  arity: number;
  /** may be given more than once, each value kept */
  repeatable: boolean;
  /** a switch that may also carry a value, accepted for compatibility (`--gpu [value]`) */
  optionalValue: boolean;
  help: string;
}

/**
 * Reads the option's shape from how it is written in the help:
 * "--force" (a switch), "--limit <n>" (one value), "--tdt-split <t d s>" (three values),
 * "--gpu [value]" (a switch that may carry one), "-k, --data-keys <key>" (with a short form).
 */
function parse(written: string, help: string, repeatable: boolean): OptionSpec {
  const m = /^(?:(-[a-zA-Z]), )?(--[a-z][a-z0-9-]*)(?: ([<[])(.+)[>\]])?$/.exec(written);
  if (!m) throw new Error(`option written as "${written}" is not of the form "--name <value>"`);
  const [, short, name, bracket, inner] = m;
  const placeholder = inner === undefined ? undefined : bracket === "[" ? `[${inner}]` : `<${inner}>`;
  return {
    name: name!,
    ...(short ? { short } : {}),
    ...(placeholder ? { placeholder } : {}),
    arity: bracket === "<" ? inner!.split(" ").length : 0,
    repeatable,
    optionalValue: bracket === "[",
    help,
  };
}

/** An option given at most once (the last occurrence wins, as in click). */
export function option(written: string, help: string): OptionSpec {
  return parse(written, help, false);
}

/** An option that may be given several times, each value kept. */
export function repeatable(written: string, help: string): OptionSpec {
  return parse(written, help, true);
}
