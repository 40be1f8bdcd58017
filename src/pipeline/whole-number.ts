// Every whole-number flag is checked here, so they all accept the same spellings and fail with the same
// kind of line. Values arrive as numbers or strings (cac converts what looks numeric).
import { UsageError } from "./errors.ts";

/**
 * `value` as a whole number from `min` to `max` (no upper bound when `max` is omitted), or a usage error
 * naming the flag; `hint` says what the number means when that helps, e.g. "0 = no limit".
 */
export function wholeNumber(name: string, value: string | number, min: number, max?: number, hint?: string): number {
  const n = typeof value === "number" ? value : value.trim() === "" ? NaN : Number(value);
  if (!Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
    const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${name} ${value}: give a whole number ${range}${hint ? ` (${hint})` : ""}`);
  }
  return n;
}
