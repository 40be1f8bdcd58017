// --class-label: what a run's class is, from its cached metadata.
import type { RunMetadata } from "../../io/raw-cache.ts";
import { ExampleError } from "../errors.ts";

/** Cloud operators whose regions the original grouped into one class for `node_provider`. */
const OPERATOR_PREFIXES = ["rax", "ovh", "vexxhost"];

/** The run's class as a string; status gives "0" (passed) or "1" (failed). */
export function classOf(metadata: RunMetadata, classLabel: string): string {
  if (classLabel === "status") {
    const status = metadata.status as unknown;
    return status === 0 || status === "0" || status === "Success" ? "0" : "1";
  }
  const key = classLabel === "node_provider_all" ? "node_provider" : classLabel;
  // Own keys only: a run without "constructor" must not find Object.prototype's.
  const value = Object.hasOwn(metadata, key) ? metadata[key] : undefined;
  if (value === undefined || value === null || value === "") throw new ExampleError(`run metadata has no ${key}`);
  const raw = String(value);
  if (classLabel !== "node_provider") return raw;
  return OPERATOR_PREFIXES.find((p) => raw.startsWith(p)) ?? raw;
}

/** How a class is named to a reader: status classes say which is pass and which is fail. */
export function classDescription(classLabel: string, cls: string): string {
  if (classLabel !== "status") return cls;
  return cls === "0" ? "0 = passed" : "1 = failed";
}

/** Status classes are numbers in the npz (int64) as in the original; every other label is a string. */
export function isNumericLabel(classLabel: string): boolean {
  return classLabel === "status";
}

/**
 * The class vocabulary: every class seen (and both status classes for status), sorted so that class ids
 * never depend on the order runs were read — numerically when every class is a number, else as strings.
 */
export function classVocabulary(classLabel: string, seen: Iterable<string>): string[] {
  const all = new Set(seen);
  if (isNumericLabel(classLabel)) {
    all.add("0");
    all.add("1");
  }
  const names = [...all];
  const numeric = names.every((c) => c.trim() !== "" && Number.isFinite(Number(c)));
  return numeric ? names.sort((a, b) => Number(a) - Number(b)) : names.sort();
}
