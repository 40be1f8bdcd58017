// Numeric flag values arrive as numbers or strings (cac converts what looks numeric); checked in one place.
import { UsageError } from "./errors.ts";

export function wholeNumber(name: string, value: string | number, min: number, max: number): number {
  const n = typeof value === "number" ? value : value.trim() === "" ? NaN : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} ${value} must be a whole number from ${min} to ${max}`);
  return n;
}
