// Runs the prediction commands downloaded into the cache, so build-dataset sees the cache grow as CI
// runs. The build's run list `.raw/<build_name>.json.gz` belongs to that build's cache-data; a predictor
// that rewrote it too could lose entries of the other writer (read, add, write: on S3, from two machines).
// So each predictor process owns one list of its own, `.raw/.found/<build_name>/<writer>.json.gz`, and
// readers take the union (readBuildRuns). No object has two writers, so none needs a lock.
//
// Every predictor process adds a list, so readers compact them: once enough lists have not been written
// for a grace period (their writers are gone, or idle), a reader writes their union as one new list of
// its own (`merged-<writer>.json.gz`, written once) and only then removes the lists it merged. Nothing is
// lost at any point: the union is stored before anything goes, a list still being written is too young to
// be touched, and two readers compacting at once each store what they read and remove only that (a file
// already removed is no error), leaving two merged lists where there were many.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { readRunList, writeRunList } from "./raw-cache.ts";
import type { Workspace } from "./workspace.ts";
import { within } from "./workspace/store.ts";

/**
 * A list not written for this long is merged. A live writer rewrites its list whole with every run it
 * adds, so one merged while its writer idled is written again, whole, at its writer's next run.
 */
const GRACE_MS = 60 * 60_000;
/** Fewer lists than this old enough: a read costs little, and compacting is not worth its writes. */
const COMPACT_FROM = 8;

/** host, pid and random bytes: unique among processes on every machine sharing the bucket */
function writerName(): string {
  return `${hostname()
    .replace(/[^A-Za-z0-9_-]/g, "_")
    .slice(0, 40)}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** Every run of a build name in the cache's index: its cache-data's list and every predictor's. */
export async function readBuildRuns(ws: Workspace, buildName: string): Promise<string[]> {
  const runs = new Set(await readRunList(ws.store, ws.buildRuns(buildName)));
  const dir = ws.foundRunsDir(buildName);
  for (let attempt = 1; ; attempt++) {
    const names = (await ws.store.list(dir)).filter((name) => name.endsWith(".json.gz") && !name.includes("/"));
    const lists = await Promise.all(names.map((name) => readRunList(ws.store, within(dir, name))));
    // A list can vanish between the listing and its read: another reader compacted it, having stored its
    // runs first in a merged list this listing did not see yet. Listing again finds that merged list.
    const vanished = await Promise.all(names.map(async (name, i) => lists[i]!.length === 0 && !(await ws.store.exists(within(dir, name)))));
    if (vanished.includes(true) && attempt < MAX_LISTINGS) continue;
    for (const list of lists) for (const run of list) runs.add(run);
    if (names.length >= COMPACT_FROM) await compact(ws, dir, names, lists);
    return [...runs].sort();
  }
}

/** Listings of the found lists before a read gives up waiting for a moment without a compaction beside it. */
const MAX_LISTINGS = 5;

/** One list for the lists (read just before as `lists`) not written for GRACE_MS; see the top of the file. */
async function compact(ws: Workspace, dir: string, names: string[], lists: string[][]): Promise<void> {
  // Asked after the read: a list written before now - GRACE_MS was not written since we read it.
  const before = Date.now() - GRACE_MS;
  const ages = await Promise.all(names.map((name) => ws.store.modified(within(dir, name))));
  const old = names.flatMap((_, i) => ((ages[i] ?? Number.POSITIVE_INFINITY) < before ? [i] : []));
  if (old.length < COMPACT_FROM) return;
  try {
    await writeRunList(
      ws.store,
      within(dir, `merged-${writerName()}.json.gz`),
      old.flatMap((i) => lists[i]!),
    );
    for (const i of old) await ws.store.remove(within(dir, names[i]!));
  } catch (err) {
    // Housekeeping: a reader that may not write (a read-only bucket) leaves the lists as they are.
    if ((err as Error)?.name === "AbortError") throw err;
  }
}

/**
 * This process's lists, one per build name, each rewritten whole as runs are added. Writes do not queue up:
 * runs added while a write is under way all go into the one next write (a busy mqtt-trainer adds runs
 * faster than a list reaches the disk, and one write per run would rewrite the growing list every time).
 */
export class FoundRuns {
  private readonly writer = writerName();
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
