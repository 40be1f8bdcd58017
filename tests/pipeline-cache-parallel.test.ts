// cache-data's --parallel, seen from a real log server on loopback: it never has more downloads in flight
// than --parallel, and it does use that many. A run gives its download slot back once its trace passed the
// check and waits for its two writes outside it, so the pool holds up to twice --parallel runs; the count
// at the server is what tells the user's bound from the pool's.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRunList } from "../src/io/raw-cache.ts";
import { Workspace } from "../src/io/workspace.ts";
import { cacheData } from "../src/pipeline/cache-data.ts";
import { simulate } from "../src/pipeline/simulate.ts";
import { collect } from "./helpers/collect-events.ts";
import { disk } from "./helpers/disk.ts";
import { serveLogTree, type TestLogServer } from "./helpers/log-server.ts";

const RUNS = 48;
const PARALLEL = 4;
let dir: string;
let server: TestLogServer;
let inFlight = 0;
let most = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ciml-parallel-"));
  server = serveLogTree({
    root: join(dir, "logs"),
    // Each answer waits a little, so downloads overlap and the count below sees how many run at once.
    async route() {
      inFlight++;
      most = Math.max(most, inFlight);
      await Bun.sleep(30);
      inFlight--;
      return undefined;
    },
  });
  await collect(simulate, {
    runs: RUNS,
    failureRate: 0.2,
    missingRate: 0,
    buildNames: ["tempest-full"],
    seed: 11,
    dbUri: `sqlite:///${join(dir, "ci.db")}`,
    logRoot: join(dir, "logs"),
    logUrl: server.url,
    intervalSeconds: 30,
  });
}, 60_000);
afterAll(() => {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("--parallel bounds the downloads at the log server, and every listed run has both files", async () => {
  const dataPath = join(dir, "data");
  const { result } = await collect(cacheData, {
    dataPath,
    buildName: "tempest-full",
    dbUri: `sqlite:///${join(dir, "ci.db")}`,
    limit: 0,
    parallel: PARALLEL,
    timeoutSeconds: 20,
  });
  expect(result).toMatchObject({ total: RUNS, cached: RUNS, failed: 0, stored: RUNS });
  expect(most).toBe(PARALLEL);
  const ws = new Workspace(dataPath);
  const listed = await readRunList(disk, ws.buildRuns("tempest-full"));
  expect(listed).toHaveLength(RUNS);
  for (const run of listed) {
    expect(existsSync(ws.rawTrace(run))).toBe(true);
    expect(existsSync(ws.runMetadata(run))).toBe(true);
  }
}, 60_000);

test("--limit counts the runs still being written: no more downloads than it can use", async () => {
  const before = server.requests.length;
  const { result } = await collect(cacheData, {
    dataPath: join(dir, "limited"),
    buildName: "tempest-full",
    dbUri: `sqlite:///${join(dir, "ci.db")}`,
    limit: 10,
    parallel: PARALLEL,
    timeoutSeconds: 20,
  });
  expect(result).toMatchObject({ cached: 10, stored: 10 });
  // The runs whose log roots were asked for: a run kept as plain text costs a second path, not a second run.
  const roots = new Set(server.requests.slice(before).map((path) => path.replace(/\/logs\/[^/]+$/, "")));
  expect(roots.size).toBe(10);
}, 60_000);
