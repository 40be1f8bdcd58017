// Runs found to have no dstat file anywhere, which cache-data and the prediction commands skip.
// The original keeps them in one list, `.raw/unavailable.json.gz`; two cache-data processes for different
// build names each rewrote it whole and lost the other's entries. Here each build name owns one file,
// `.raw/.unavailable/<build_name>.json.gz`, written only by that build's cache-data, and readers take the
// union of those files and the original's list (read for compatibility, never written). No file has two
// writers, so no lock is needed, and the same holds on object storage where an object has one owner.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { readRunList, writeRunList } from "./raw-cache.ts";
import type { Workspace } from "./workspace.ts";

const LIST_SUFFIX = ".json.gz";

/** Every run any cache-data found unavailable. */
export function readUnavailableRuns(ws: Workspace): Set<string> {
  const runs = new Set(readRunList(ws.unavailableRuns));
  let names: string[];
  try {
    names = readdirSync(ws.unavailableDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return runs;
    throw err;
  }
  for (const name of names) {
    if (!name.endsWith(LIST_SUFFIX) || name.startsWith(".")) continue; // temp files of a writer at work
    for (const run of readRunList(join(ws.unavailableDir, name))) runs.add(run);
  }
  return runs;
}

/** The runs this build name's cache-data found unavailable, so far. */
export function readOwnUnavailableRuns(ws: Workspace, buildName: string): Set<string> {
  return new Set(readRunList(ws.unavailableRunsOf(buildName)));
}

/** Replaces this build name's list; only its own cache-data calls this. */
export function writeOwnUnavailableRuns(ws: Workspace, buildName: string, runs: Iterable<string>): void {
  writeRunList(ws.unavailableRunsOf(buildName), runs);
}
