// cache-data with the SQLite driver and a file:// log root (the embedded default), plus Ctrl-C half-way.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { parseDstatCsv } from "../src/io/dstat-csv.ts";
import { readRunList, readRunMetadata } from "../src/io/raw-cache.ts";
import { SCHEMA_TABLES } from "../src/io/subunit2sql-schema.ts";
import { openSubunit2sql } from "../src/io/subunit2sql.ts";
import { readUnavailableRuns } from "../src/io/unavailable-runs.ts";
import { Workspace } from "../src/io/workspace.ts";
import { cacheData, type CacheOptions } from "../src/pipeline/cache-data.ts";
import { simulate } from "../src/pipeline/simulate.ts";
import { collect, collectFailure } from "./helpers/collect-events.ts";
import { disk } from "./helpers/disk.ts";

const RUNS = 200;
let dir: string;
let dbPath: string;
let missing = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ciml-sqlite-"));
  dbPath = join(dir, "ci.db");
  const { result } = await collect(simulate, {
    runs: RUNS,
    failureRate: 0.2,
    missingRate: 0.05,
    buildNames: ["tempest-full", "tempest-full-py3"],
    seed: 5,
    dbUri: `sqlite:///${dbPath}`,
    logRoot: join(dir, "logs"),
    intervalSeconds: 30,
  });
  missing = result.missing;
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (dataPath: string, buildName = "tempest-full"): CacheOptions => ({
  dataPath,
  buildName,
  dbUri: `sqlite:////${dbPath.replace(/^\//, "")}`,
  limit: 0,
  parallel: 8,
  timeoutSeconds: 20,
});

interface Row {
  id: number;
  uuid: string;
  fails: number;
  passes: number;
  artifacts: string;
  run_at: string;
}

function dbRuns(buildName: string): Row[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db
      .query(
        "SELECT runs.id, uuid, fails, passes, artifacts, run_at FROM runs JOIN run_metadata m ON m.run_id = runs.id WHERE m.`key` = 'build_name' AND m.value = ? ORDER BY runs.id",
      )
      .all(buildName) as Row[];
  } finally {
    db.close();
  }
}

function servedFile(artifacts: string): string | undefined {
  const root = fileURLToPath(artifacts);
  return ["logs/dstat-csv_log.txt.gz", "logs/dstat-csv_log.txt"].map((p) => join(root, p)).find((f) => existsSync(f));
}

describe("simulate into SQLite", () => {
  test("the schema has every subunit2sql table and index", () => {
    const db = new Database(dbPath, { readonly: true });
    const tables = (
      db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]
    ).map((r) => r.name);
    const indexes = (
      db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]
    ).map((r) => r.name);
    const runCols = db.query("PRAGMA table_info(runs)").all() as { name: string; type: string }[];
    db.close();
    expect(tables).toEqual([...SCHEMA_TABLES].sort());
    expect(indexes).toContain("ix_run_uuid");
    expect(indexes).toContain("uq_run_metadata");
    expect(indexes).toContain("ix_run_key_value");
    expect(indexes).toHaveLength(21);
    expect(Object.fromEntries(runCols.map((c) => [c.name, c.type]))).toEqual({
      id: "INTEGER",
      uuid: "VARCHAR(36)",
      skips: "INT",
      fails: "INT",
      passes: "INT",
      run_time: "FLOAT",
      artifacts: "TEXT",
      run_at: "DATETIME",
    });
  }, 60_000);
});

describe("simulate: reproducible, and extending a history never repeats it", () => {
  test("the same seed writes the same rows; a second simulate adds new runs after the last one", async () => {
    const a = join(dir, "a.db");
    const b = join(dir, "b.db");
    const sim = (path: string) =>
      collect(simulate, {
        runs: 12,
        failureRate: 0.3,
        missingRate: 0.1,
        buildNames: ["tempest-full"],
        seed: 9,
        dbUri: `sqlite:///${path}`,
        logRoot: join(dir, "extend-logs"),
        intervalSeconds: 600,
      });
    await sim(a);
    await sim(b);
    const rows = (path: string) => {
      const db = new Database(path, { readonly: true });
      const out = db.query("SELECT id, uuid, fails, passes, artifacts, run_at FROM runs ORDER BY id").all() as {
        uuid: string;
        run_at: string;
      }[];
      db.close();
      return out;
    };
    expect(rows(b)).toEqual(rows(a));
    const { events } = await sim(a);
    expect(events).toContainEqual({ type: "info", message: `sqlite:///${a} already holds 12 runs; adding 12 more after them` });
    const all = rows(a);
    expect(all).toHaveLength(24);
    expect(new Set(all.map((r) => r.uuid)).size).toBe(24);
    expect(all[12]!.run_at > all[11]!.run_at).toBe(true);
  }, 60_000);
});

describe("the original's subunit2sql queries over SQLite", () => {
  test("runs by key/value are streamed in id order; run metadata and test runs by run uuid", async () => {
    const expected = dbRuns("tempest-full-py3");
    const db = await openSubunit2sql(`sqlite:///${dbPath}`);
    try {
      const streamed = [];
      for await (const r of db.runsByKeyValue("build_name", "tempest-full-py3")) streamed.push(r);
      expect(streamed.map((r) => r.uuid)).toEqual(expected.map((r) => r.uuid));
      expect(await db.countRunsByKeyValue("build_name", "tempest-full-py3")).toBe(expected.length);
      const first = streamed[0]!;
      expect(first.run_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      const meta = await db.runMetadata(first.uuid);
      expect(meta.build_name).toBe("tempest-full-py3");
      expect(Object.keys(meta)).toContain("node_provider");
      // simulate writes no test_runs; a row written the way subunit2sql does comes back by run uuid.
      const raw = new Database(dbPath);
      raw.run(
        "INSERT INTO test_runs (test_id, run_id, status, start_time, start_time_microsecond, stop_time, stop_time_microsecond) VALUES (1, ?, 'fail', '2019-01-07 06:20:00', 5, '2019-01-07 06:20:03', 7)",
        [first.id],
      );
      raw.close();
      expect(await db.testRuns(first.uuid)).toEqual([
        {
          status: "fail",
          start_time: "2019-01-07 06:20:00",
          start_time_microsecond: 5,
          stop_time: "2019-01-07 06:20:03",
          stop_time_microsecond: 7,
        },
      ]);
      expect(await db.testRuns(streamed[1]!.uuid)).toEqual([]);
    } finally {
      await db.close();
    }
  }, 60_000);
});

describe("cache-data: SQLite + file://", () => {
  const data = () => join(dir, "data");

  test("caches every run with a file; the bytes and metadata match the log tree and the DB", async () => {
    const runs = dbRuns("tempest-full");
    expect(runs.length).toBe(RUNS / 2);
    const { result } = await collect(cacheData, options(data()));
    const present = runs.filter((r) => servedFile(r.artifacts));
    expect(result).toMatchObject({
      total: runs.length,
      cached: present.length,
      failed: 0,
      unavailable: runs.length - present.length,
      stored: present.length,
    });
    const ws = new Workspace(data());
    expect(await readRunList(disk, ws.buildRuns("tempest-full"))).toEqual(present.map((r) => r.uuid).sort());
    const db = new Database(dbPath, { readonly: true });
    for (const run of present) {
      const served = readFileSync(servedFile(run.artifacts)!);
      const cached = readFileSync(ws.rawTrace(run.uuid));
      // A gzip file is stored byte for byte; a plain one is gzipped on the way in.
      if (served[0] === 0x1f) expect(cached.equals(served)).toBe(true);
      else expect(gunzipSync(cached).equals(served)).toBe(true);
      const meta = db.query("SELECT `key`, value FROM run_metadata WHERE run_id = ? ORDER BY id").all(run.id) as {
        key: string;
        value: string;
      }[];
      expect(await readRunMetadata(ws, run.uuid)).toEqual({
        status: run.fails > 0 || run.passes === 0 ? 1 : 0,
        artifact: run.artifacts,
        // the run's start time, which the chronological split orders by
        run_at: run.run_at,
        ...Object.fromEntries(meta.map((m) => [m.key, m.value])),
      });
    }
    db.close();
  }, 60_000);

  test("re-running touches nothing", async () => {
    const ws = new Workspace(data());
    const list = await readRunList(disk, ws.buildRuns("tempest-full"));
    const mtimes = list.map((u) => statSync(ws.rawTrace(u)).mtimeMs);
    const { result } = await collect(cacheData, options(data()));
    expect(result).toMatchObject({ cached: 0, already: list.length, unavailable: 0, stored: list.length });
    expect(list.map((u) => statSync(ws.rawTrace(u)).mtimeMs)).toEqual(mtimes);
  }, 60_000);

  test("a second build name gets its own list; unavailable runs are shared", async () => {
    const { result } = await collect(cacheData, options(data(), "tempest-full-py3"));
    const ws = new Workspace(data());
    expect(await readRunList(disk, ws.buildRuns("tempest-full-py3"))).toHaveLength(result.stored);
    expect([...(await readUnavailableRuns(ws))]).toHaveLength(missing);
  }, 60_000);

  test("aborted half-way: nothing partial on disk, and the next run completes the cache", async () => {
    const fresh = join(dir, "aborted");
    const controller = new AbortController();
    const { error } = await collectFailure(cacheData, options(fresh), controller.signal, (e) => {
      if (e.type === "progress" && (e.counts?.cached ?? 0) >= 30) controller.abort();
    });
    expect(error.name).toBe("AbortedError");
    const ws = new Workspace(fresh);
    const files = [...readdirSync(ws.rawDir), ...readdirSync(ws.metadataDir)];
    expect(files.filter((f) => f.includes(".tmp-"))).toEqual([]);
    const traces = readdirSync(ws.rawDir).filter((f) => /^[0-9a-f-]{36}\.csv\.gz$/.test(f));
    expect(traces.length).toBeGreaterThanOrEqual(30);
    expect(traces.length).toBeLessThan(RUNS / 2 - missing);
    for (const f of traces) {
      const uuid = f.slice(0, 36);
      expect(parseDstatCsv(gunzipSync(readFileSync(join(ws.rawDir, f))).toString()).rows).toBeGreaterThan(0);
      expect(await readRunMetadata(ws, uuid)).toBeDefined();
    }
    // The saved list is exactly the complete runs, so a later build-dataset never sees a half-cached run.
    expect(await readRunList(disk, ws.buildRuns("tempest-full"))).toEqual(traces.map((f) => f.slice(0, 36)).sort());

    const { result } = await collect(cacheData, options(fresh));
    const expected = await readRunList(disk, new Workspace(data()).buildRuns("tempest-full"));
    expect(result.already).toBe(traces.length);
    expect(result.cached).toBe(expected.length - traces.length);
    expect(await readRunList(disk, ws.buildRuns("tempest-full"))).toEqual(expected);
  }, 60_000);

  test("a missing SQLite file is one clear line", async () => {
    const { error } = await collectFailure(cacheData, { ...options(data()), dbUri: `sqlite:///${join(dir, "nope.db")}` });
    expect(error.message).toContain("does not exist");
    expect(error.message).not.toContain("\n");
  }, 60_000);
});
