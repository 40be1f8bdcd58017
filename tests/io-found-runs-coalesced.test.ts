// A predictor's found-runs list (found-runs.ts) under a burst: runs added while a list is being written go
// into one next write, not one write each, and every run added ends up in the list on disk.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FileContent } from "../src/io/atomic-file.ts";
import { FoundRuns, readBuildRuns } from "../src/io/found-runs.ts";
import { Workspace } from "../src/io/workspace.ts";
import { LocalStore } from "../src/io/workspace/local-store.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-found-runs-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The real local store, counting its writes. */
class CountingStore extends LocalStore {
  writes = 0;
  override write(location: string, content: FileContent): Promise<void> {
    this.writes++;
    return super.write(location, content);
  }
}

test("200 runs added one at a time while lists are written: a few writes, and every run listed", async () => {
  const store = new CountingStore(root);
  const ws = new Workspace(store);
  const found = new FoundRuns(ws);
  const runs = Array.from({ length: 200 }, (_, i) => `run-${String(i).padStart(3, "0")}`);
  const added: Promise<void>[] = [];
  for (const [i, run] of runs.entries()) {
    added.push(found.add(i % 2 ? "tempest-full" : "grenade", [run]));
    // some adds come while a write is under way, some before the next one starts
    if (i % 50 === 49) await Bun.sleep(1);
  }
  await Promise.all(added);
  // one write per build name per round (4 rounds at most here), far from one per run
  expect(store.writes).toBeGreaterThan(0);
  expect(store.writes).toBeLessThanOrEqual(10);
  expect(await readBuildRuns(ws, "tempest-full")).toEqual(runs.filter((_, i) => i % 2));
  expect(await readBuildRuns(ws, "grenade")).toEqual(runs.filter((_, i) => i % 2 === 0));
  // nothing new: no write
  const before = store.writes;
  await found.add("grenade", []);
  expect(store.writes).toBe(before);
});
