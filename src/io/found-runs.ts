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

/**
 * This process's lists, one per build name, each rewritten whole as runs are added. Writes do not queue up:
 * runs added while a write is under way all go into the one next write (a busy mqtt-trainer adds runs
 * faster than a list reaches the disk, and one write per run would rewrite the growing list every time).
 */
export class FoundRuns {
  /** host, pid and random bytes: unique among processes on every machine sharing the bucket */
  private readonly writer = `${hostname()
    .replace(/[^A-Za-z0-9_-]/g, "_")
    .slice(0, 40)}-${process.pid}-${randomBytes(4).toString("hex")}`;
  private readonly runs = new Map<string, Set<string>>();
  /** build names with runs that no write has started with yet */
  private readonly dirty = new Set<string>();
  /** the last write started (or about to start) */
  private saving: Promise<void> = Promise.resolve();
  /** the next write, when it has not started yet: further runs join it */
  private next: Promise<void> | null = null;

  constructor(private readonly ws: Workspace) {}

  /**
   * Records runs newly cached for `buildName`; settles once a list holding them is written. Writes run one
   * after another, each with everything added before it started, so the newest list lands last.
   */
  add(buildName: string, runUuids: string[]): Promise<void> {
    if (runUuids.length === 0) return this.next ?? this.saving;
    const set = this.runs.get(buildName) ?? new Set();
    this.runs.set(buildName, set);
    for (const run of runUuids) set.add(run);
    this.dirty.add(buildName);
    this.next ??= this.saving = this.saving
      .catch(() => undefined)
      .then(() => {
        this.next = null;
        const names = [...this.dirty];
        this.dirty.clear();
        // A failed write leaves its runs in `runs`: the next write of that build name carries them.
        return Promise.all(
          names.map((name) =>
            writeRunList(this.ws.store, within(this.ws.foundRunsDir(name), `${this.writer}.json.gz`), this.runs.get(name)!),
          ),
        ).then(() => undefined);
      });
    return this.next;
  }
}
