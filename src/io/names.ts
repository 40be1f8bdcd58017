// Dataset, experiment and build names become directory and file names, so they must never
// climb out of the workspace or collide with its own folders.
export type NameKind = "dataset" | "experiment" | "build name";

const RESERVED = new Set(["_splits", "_experiments"]);

/** `.raw/<build_name>.json.gz` lists a build's runs, so no build may be named after the unavailable list. */
export const UNAVAILABLE = "unavailable";

/** Returns why `name` cannot be used, or null when it can. */
export function nameProblem(kind: NameKind, name: string): string | null {
  if (name.length === 0) return `${kind} must not be empty`;
  if (new TextEncoder().encode(name).length > 200) return `${kind} "${name.slice(0, 40)}…" is longer than 200 bytes`;
  if (/[\u0000-\u001f\u007f]/.test(name)) return `${kind} ${JSON.stringify(name)} contains a control character`;
  if (name.includes("/") || name.includes("\\")) return `${kind} "${name}" contains a path separator`;
  if (name.includes("..")) return `${kind} "${name}" contains ".."`;
  if (name.startsWith(".")) return `${kind} "${name}" starts with "." (reserved for the raw cache)`;
  if (kind === "dataset" && RESERVED.has(name)) return `dataset "${name}" is a folder the workspace uses itself`;
  // Case-blind: on macOS and Windows file systems "Unavailable.json.gz" is the same file.
  if (kind === "build name" && name.toLowerCase() === UNAVAILABLE)
    return `build name "${name}" is the name of the workspace's own .raw/${UNAVAILABLE}.json.gz`;
  return null;
}
