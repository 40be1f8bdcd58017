// Runs the prediction commands downloaded into the cache, so build-dataset sees the cache grow as CI
// runs. The build's run list `.raw/<build_name>.json.gz` belongs to that build's cache-data; a predictor
// that rewrote it too could lose entries of the other writer (read, add, write: on S3, from two machines).
// So each predictor process owns one list of its own, `.raw/.found/<build_name>/<writer>.json.gz`, and
// readers take the union (readBuildRuns). No object has two writers, so none needs a lock.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { readRunList, writeRunList } from "./raw-cache.ts";
import type { Workspace } from "./workspace.ts";
import { within } from "./workspace/store.ts";

/** Every run of a build name in the cache's index: its cache-data's list and every predictor's. */
export async function readBuildRuns(ws: Workspace, buildName: string): Promise<string[]> {
  const runs = new Set(await readRunList(ws.store, ws.buildRuns(buildName)));
  const dir = ws.foundRunsDir(buildName);
  const names = (await ws.store.list(dir)).filter((name) => name.endsWith(".json.gz") && !name.includes("/"));
  for (const list of await Promise.all(names.map((name) => readRunList(ws.store, within(dir, name)))))
    for (const run of list) runs.add(run);
  return [...runs].sort();
}

/** This process's lists, one per build name, each rewritten whole as runs are added. */
export class FoundRuns {
  /** host, pid and random bytes: unique among processes on every machine sharing the bucket */
  private readonly writer = `${hostname()
    .replace(/[^A-Za-z0-9_-]/g, "_")
    .slice(0, 40)}-${process.pid}-${randomBytes(4).toString("hex")}`;
  private readonly runs = new Map<string, Set<string>>();
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly ws: Workspace) {}

  /** Records runs newly cached for `buildName`; writes run one after another, so the newest list lands last. */
  add(buildName: string, runUuids: string[]): Promise<void> {
    if (runUuids.length === 0) return this.saving;
    const path = within(this.ws.foundRunsDir(buildName), `${this.writer}.json.gz`);
    const set = this.runs.get(buildName) ?? new Set();
    this.runs.set(buildName, set);
    for (const run of runUuids) set.add(run);
    this.saving = this.saving.catch(() => undefined).then(() => writeRunList(this.ws.store, path, set));
    return this.saving;
  }
}
