// The typed view of what the user typed for one command. Each command's normaliser asks for each
// option in the type its step wants, with the step's default as the fallback; numbers are parsed here,
// strictly, and a bad one is a usage error naming the option.
import { UsageError } from "../pipeline/errors.ts";
import type { Given } from "./parse-argv.ts";

export type DefaultValue = string | number | boolean | readonly string[];

export class Flags {
  /** every option a normaliser asked for, so a test can check none is forgotten */
  readonly read = new Set<string>();
  /**
   * With `defaults`, nothing was typed and each fallback is written down by option name: the help
   * shows the step's defaults by running the command's normaliser this way.
   */
  constructor(
    private readonly given: Given,
    private readonly positionals: readonly string[],
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly defaults?: Map<string, DefaultValue>,
  ) {}

  private occurrences(name: string): string[][] | undefined {
    this.read.add(name);
    const v = this.given.get(name);
    return Array.isArray(v) ? v : undefined;
  }

  private fallback<T extends DefaultValue | undefined>(name: string, value: T): T {
    if (value !== undefined) this.defaults?.set(name, value);
    return value;
  }

  /** A switch: given or not. */
  on(name: string): boolean {
    this.read.add(name);
    return this.given.get(name) === true;
  }

  /** One value as typed (the last occurrence wins). */
  string(name: string): string | undefined;
  string<T extends DefaultValue>(name: string, fallback: T): string | T;
  string(name: string, fallback?: DefaultValue): string | DefaultValue | undefined {
    return this.occurrences(name)?.at(-1)?.[0] ?? this.fallback(name, fallback);
  }

  /** A setting only the environment gives (a token): never shown, never a flag. */
  variable(name: string): string | undefined {
    return this.defaults ? undefined : this.env[name] || undefined;
  }

  /**
   * An option that falls back on an environment variable, then on the step's default. The variables
   * are read here and nowhere else; the help shows the variable's name, never its value (it may be a secret).
   */
  fromEnv(name: string, variable: string, fallback?: string): string | undefined {
    const typed = this.string(name);
    if (typed !== undefined) return typed;
    if (this.defaults) {
      this.defaults.set(name, fallback === undefined ? `$${variable}` : `$${variable}, else ${fallback}`);
      return fallback;
    }
    return this.env[variable] || fallback;
  }

  /** A repeatable option's values, in order. */
  list(name: string): string[] | undefined;
  list(name: string, fallback: readonly string[]): string[];
  list(name: string, fallback?: readonly string[]): string[] | undefined {
    const values = this.occurrences(name)?.flat();
    return values ?? (fallback === undefined ? undefined : [...this.fallback(name, fallback)]);
  }

  /** The values of an option that takes several at once (`--tdt-split 7 0 3`), last occurrence. */
  values(name: string): string[] | undefined;
  values(name: string, fallback: readonly string[]): string[];
  values(name: string, fallback?: readonly string[]): string[] | undefined {
    const values = this.occurrences(name)?.at(-1);
    return values ?? (fallback === undefined ? undefined : [...this.fallback(name, fallback)]);
  }

  /** Each occurrence of a repeatable option that takes several values at once. */
  groups(name: string): string[][] {
    return this.occurrences(name) ?? [];
  }

  /**
   * A whole number written in digits ("1e3", "0x10", "1.0" and "" are refused); its range is the
   * step's to check, with the step's own message.
   */
  whole(name: string): number | undefined;
  whole(name: string, fallback: number): number;
  whole(name: string, fallback?: number): number | undefined {
    const typed = this.string(name);
    if (typed === undefined) return this.fallback(name, fallback);
    if (!/^[+-]?\d+$/.test(typed.trim())) throw new UsageError(`${name} ${typed}: give a whole number, e.g. ${fallback ?? 1}`);
    return Number(typed);
  }

  /** A decimal number such as 0.1 or 1e-3; its range is the step's to check. */
  decimal(name: string): number | undefined;
  decimal(name: string, fallback: number): number;
  decimal(name: string, fallback?: number): number | undefined {
    const typed = this.string(name);
    if (typed === undefined) return this.fallback(name, fallback);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(typed.trim()))
      throw new UsageError(`${name} ${typed}: give a number, e.g. ${fallback ?? 0.5}`);
    return Number(typed);
  }

  /** The positional argument at `index`; `label` is what the help calls it. */
  argument(index: number, label: string): string {
    const value = this.positionals[index];
    if (value !== undefined) return value;
    if (this.defaults) return label;
    throw new UsageError(`missing ${label}`);
  }
}
