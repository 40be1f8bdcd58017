// --class-label: what a run's class is, from its cached metadata.
import type { RunMetadata } from "../../io/raw-cache.ts";
import { CimlError } from "../errors.ts";

/** Cloud operators whose regions the original grouped into one class for `node_provider`. */
const OPERATOR_PREFIXES = ["rax", "ovh", "vexxhost"];

/** The run's class as a string; status gives "0" (passed) or "1" (failed). */
export function classOf(metadata: RunMetadata, classLabel: string): string {
  if (classLabel === "status") {
    const status = metadata.status as unknown;
    return status === 0 || status === "0" || status === "Success" ? "0" : "1";
  }
  const key = classLabel === "node_provider_all" ? "node_provider" : classLabel;
  const value = metadata[key];
  if (value === undefined || value === null || value === "") throw new CimlError(`run metadata has no ${key}`);
  const raw = String(value);
  if (classLabel !== "node_provider") return raw;
  return OPERATOR_PREFIXES.find((p) => raw.startsWith(p)) ?? raw;
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
