// The predictors' run lists (.raw/.found/<build_name>/) are compacted by their readers: two readers at
// once, each a real process, on lists old and new. Every run stays listed, a list still being written
// (too young) is never touched, and the old lists become at most one merged list per reader.
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readBuildRuns } from "../src/io/found-runs.ts";
import { writeRunList } from "../src/io/raw-cache.ts";
import { Workspace } from "../src/io/workspace.ts";

const CHILD = resolve(import.meta.dir, "helpers/found-runs-child.ts");
const BUILD = "tempest-full";
const TWO_HOURS_AGO = (Date.now() - 2 * 3600_000) / 1000;
const run = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;

let root: string | undefined;
afterEach(() => root && rmSync(root, { recursive: true, force: true }));

/**
 * A workspace whose build has a cache-data list and `old` + `young` predictor lists of three runs each,
 * the old ones last written two hours ago. Returns it with every run it lists.
 */
async function workspaceWithLists(old: number, young: number) {
  root = mkdtempSync(join(tmpdir(), "ciml-found-"));
  const ws = new Workspace(root);
  await writeRunList(ws.store, ws.buildRuns(BUILD), [run(0)]);
  const all = [run(0)];
  for (let l = 0; l < old + young; l++) {
    const runs = [1, 2, 3].map((k) => run(100 * (l + 1) + k));
    // Lists overlap, as two predictors that cached the same run do.
    if (l > 0) runs.push(run(100 * l + 1));
    const path = join(ws.foundRunsDir(BUILD), `host-${l}-${l < old ? "old" : "young"}.json.gz`);
    await writeRunList(ws.store, path, runs);
    if (l < old) utimesSync(path, TWO_HOURS_AGO, TWO_HOURS_AGO);
    all.push(...runs);
  }
  return { ws, dir: ws.foundRunsDir(BUILD), all: [...new Set(all)].sort() };
}

async function readInChild(rootDir: string): Promise<string[]> {
  const p = Bun.spawn([process.execPath, CHILD, rootDir, BUILD], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = [await new Response(p.stdout).text(), await new Response(p.stderr).text(), await p.exited];
  if (code !== 0) throw new Error(`found-runs child exited ${code}: ${err}`);
  return JSON.parse(out) as string[];
}

test("two readers at once compact the old lists into merged ones, keep the young list and lose no run", async () => {
  const { ws, dir, all } = await workspaceWithLists(12, 2);
  const [first, second] = await Promise.all([readInChild(root!), readInChild(root!)]);
  expect(first).toEqual(all);
  expect(second).toEqual(all);
  const left = readdirSync(dir).sort();
  expect(left.filter((name) => name.includes("-old"))).toEqual([]);
  expect(left.filter((name) => name.includes("-young"))).toEqual(["host-12-young.json.gz", "host-13-young.json.gz"]);
  const merged = left.filter((name) => name.startsWith("merged-"));
  expect(merged.length).toBeGreaterThanOrEqual(1);
  expect(merged.length).toBeLessThanOrEqual(2);
  expect(await readBuildRuns(ws, BUILD)).toEqual(all);
});

test("too few old lists: a read removes nothing", async () => {
  const { ws, dir, all } = await workspaceWithLists(7, 5);
  const before = readdirSync(dir).sort();
  expect(await readBuildRuns(ws, BUILD)).toEqual(all);
  expect(readdirSync(dir).sort()).toEqual(before);
});

test("a merged list is merged again once it is old, and another build name's lists are not touched", async () => {
  const { ws, dir, all } = await workspaceWithLists(8, 0);
  const other = join(ws.foundRunsDir("other-build"), "host-x-old.json.gz");
  await writeRunList(ws.store, other, [run(9)]);
  utimesSync(other, TWO_HOURS_AGO, TWO_HOURS_AGO);
  expect(await readBuildRuns(ws, BUILD)).toEqual(all);
  const [first] = readdirSync(dir);
  expect(readdirSync(dir)).toEqual([first!]);
  expect(first).toStartWith("merged-");
  // Two hours on: the merged list and seven new lists are old, and become one list again.
  utimesSync(join(dir, first!), TWO_HOURS_AGO, TWO_HOURS_AGO);
  const more = Array.from({ length: 7 }, (_, l) => run(5000 + l));
  for (const [l, r] of more.entries()) {
    const path = join(dir, `later-${l}.json.gz`);
    await writeRunList(ws.store, path, [r]);
    utimesSync(path, TWO_HOURS_AGO, TWO_HOURS_AGO);
  }
  expect(await readBuildRuns(ws, BUILD)).toEqual([...all, ...more].sort());
  const [second] = readdirSync(dir);
  expect(readdirSync(dir)).toEqual([second!]);
  expect(second).not.toBe(first);
  expect(await readBuildRuns(ws, BUILD)).toEqual([...all, ...more].sort());
  expect(existsSync(other)).toBe(true);
});
