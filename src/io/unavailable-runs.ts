// Runs found to have no dstat file anywhere, which cache-data and the prediction commands skip.
// The original keeps them in one list, `.raw/unavailable.json.gz`; two cache-data processes for different
// build names each rewrote it whole and lost the other's entries. Here each build name owns one file,
// `.raw/.unavailable/<build_name>.json.gz`, written only by that build's cache-data, and readers take the
// union of those files and the original's list (read for compatibility, never written). No file has two
// writers, so no lock is needed, and the same holds on object storage where an object has one owner.
import { readRunList, writeRunList } from "./raw-cache.ts";
import type { Workspace } from "./workspace.ts";
import { within } from "./workspace/store.ts";

const LIST_SUFFIX = ".json.gz";

/** Every run any cache-data found unavailable. */
export async function readUnavailableRuns(ws: Workspace): Promise<Set<string>> {
  const runs = new Set(await readRunList(ws.store, ws.unavailableRuns));
  const names = (await ws.store.list(ws.unavailableDir)).filter((name) => name.endsWith(LIST_SUFFIX) && !name.includes("/"));
  const lists = await Promise.all(names.map((name) => readRunList(ws.store, within(ws.unavailableDir, name))));
  for (const list of lists) for (const run of list) runs.add(run);
  return runs;
}

/** The runs this build name's cache-data found unavailable, so far. */
export async function readOwnUnavailableRuns(ws: Workspace, buildName: string): Promise<Set<string>> {
  return new Set(await readRunList(ws.store, ws.unavailableRunsOf(buildName)));
}

/** Replaces this build name's list; only its own cache-data calls this. */
export function writeOwnUnavailableRuns(ws: Workspace, buildName: string, runs: Iterable<string>): Promise<void> {
  return writeRunList(ws.store, ws.unavailableRunsOf(buildName), runs);
}
