// Run metadata keys are the database's, not ours: keys that are also names on Object.prototype
// (constructor, toString, hasOwnProperty, __proto__) must be cached, read back and used like any other.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Workspace } from "../src/io/workspace.ts";
import { cacheData } from "../src/pipeline/cache-data.ts";
import { classOf } from "../src/pipeline/dataset/class-label.ts";
import { ExampleError } from "../src/pipeline/errors.ts";
import { LogServer, sqliteHistory, type HistoryDb } from "./helpers/ci-history.ts";
import { collect } from "./helpers/collect-events.ts";
import { syntheticRun } from "./helpers/trained-workspace.ts";

// JSON.parse makes "__proto__" an own key, as a database row would deliver it.
const METADATA: Record<string, string> = JSON.parse(
  JSON.stringify({ build_name: "tempest-full", constructor: "c1", toString: "t2", hasOwnProperty: "h3", valueOf: "v4" }).replace(
    /^\{/,
    '{"__proto__":"p5",',
  ),
);

const logs = new LogServer();
let db: HistoryDb;
const dir = mkdtempSync(join(tmpdir(), "ciml-meta-keys-"));

beforeAll(async () => {
  db = await sqliteHistory();
  const run = syntheticRun(7);
  logs.addTrace(run.uuid, run.trace);
  await db.add([{ uuid: run.uuid, status: run.status, metadata: METADATA }], logs.root);
}, 60_000);

afterAll(async () => {
  await db.drop();
  logs.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("cache-data keeps every metadata key, and Python's json reads them back", async () => {
  const { result } = await collect(cacheData, {
    dataPath: dir,
    buildName: "tempest-full",
    dbUri: db.uri,
    limit: 0,
    parallel: 1,
    timeoutSeconds: 10,
  });
  expect(result.cached).toBe(1);
  const file = new Workspace(dir).runMetadata(syntheticRun(7).uuid);
  const py = Bun.spawnSync([
    "python3",
    "-c",
    "import gzip, json, sys; m = json.load(gzip.open(sys.argv[1], 'rt')); print(json.dumps({k: m.get(k) for k in sys.argv[2:]}))",
    file,
    "__proto__",
    "constructor",
    "toString",
    "hasOwnProperty",
    "valueOf",
  ]);
  // Compared as text: an object literal cannot even hold a "__proto__" key.
  expect(py.stdout.toString().trim()).toBe(
    '{"__proto__": "p5", "constructor": "c1", "toString": "t2", "hasOwnProperty": "h3", "valueOf": "v4"}',
  );
}, 60_000);

test("--class-label constructor uses the run's value, and a run without it is left out, not labelled 'function Object'", () => {
  const metadata = JSON.parse('{"status": 0, "artifact": null, "constructor": "rax", "__proto__": "ovh"}');
  expect(classOf(metadata, "constructor")).toBe("rax");
  expect(classOf(metadata, "__proto__")).toBe("ovh");
  expect(() => classOf({ status: 0, artifact: null }, "constructor")).toThrow(ExampleError);
  expect(() => classOf({ status: 0, artifact: null }, "toString")).toThrow(ExampleError);
});
