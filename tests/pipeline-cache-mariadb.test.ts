// cache-data against the real MariaDB and a real HTTP log server on loopback that serves both a simulated
// history (200 runs) and the dstat files of tests/fixtures, as OpenStack's log server did (gzip encoding).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseDstatCsv } from "../src/io/dstat-csv.ts";
import { readRunList, readRunMetadata } from "../src/io/raw-cache.ts";
import { SCHEMA_TABLES } from "../src/io/subunit2sql-schema.ts";
import { openSubunit2sqlWriter } from "../src/io/subunit2sql-writer.ts";
import { readUnavailableRuns } from "../src/io/unavailable-runs.ts";
import { Workspace } from "../src/io/workspace.ts";
import { cacheData, type CacheOptions } from "../src/pipeline/cache-data.ts";
import { simulate } from "../src/pipeline/simulate.ts";
import { fixturePath } from "./fixtures.ts";
import { collect, collectFailure } from "./helpers/collect-events.ts";
import { serveLogTree, type TestLogServer } from "./helpers/log-server.ts";
import { dropDatabase, mariadbUri, queryDatabase, uniqueDatabaseName } from "./helpers/mariadb.ts";
import { disk } from "./helpers/disk.ts";

const database = uniqueDatabaseName("cache");
const uri = mariadbUri(database);
const SIMULATED = 200;
const REAL_FILES = readdirSync(fixturePath("dstat")).filter((f) => /\.(csv|gz|txt)$/.test(f) && f !== "index.csv");
const REAL_PREFIX = "/real/";

let logDir: string;
let dataDir: string;
let server: TestLogServer;
let missing = 0;

/** The dstat text a run's artifacts URL serves, or undefined (404 everywhere). */
function servedText(artifacts: string): string | undefined {
  const rel = artifacts.slice(server.url.length);
  if (rel.startsWith(REAL_PREFIX)) {
    const bytes = readFileSync(fixturePath("dstat", rel.slice(REAL_PREFIX.length)));
    return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString("utf8");
  }
  for (const p of ["logs/dstat-csv_log.txt.gz", "logs/dstat-csv_log.txt"]) {
    const file = join(logDir, rel, p);
    if (existsSync(file)) return (p.endsWith(".gz") ? gunzipSync(readFileSync(file)) : readFileSync(file)).toString("utf8");
  }
  return undefined;
}

function parses(text: string): boolean {
  try {
    parseDstatCsv(text);
    return true;
  } catch {
    return false;
  }
}

const options = (): CacheOptions => ({
  dataPath: dataDir,
  buildName: "tempest-full",
  dbUri: uri,
  limit: 0,
  parallel: 8,
  timeoutSeconds: 20,
  fetch: { backoffMs: 10 },
});

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), "ciml-logs-"));
  dataDir = mkdtempSync(join(tmpdir(), "ciml-data-"));
  server = serveLogTree({
    root: logDir,
    gzipEncoding: true,
    route(path) {
      // /real/<file>/logs/dstat-csv_log.txt[.gz] → that real file, under the name its compression calls for.
      const m = /^\/real\/([^/]+)\/logs\/dstat-csv_log\.txt(\.gz)?$/.exec(path);
      if (!m) return undefined;
      const bytes = readFileSync(fixturePath("dstat", m[1]!));
      const gz = bytes[0] === 0x1f && bytes[1] === 0x8b;
      if (gz !== (m[2] === ".gz")) return new Response("not found", { status: 404 });
      return new Response(bytes, gz ? { headers: { "content-encoding": "gzip" } } : {});
    },
  });
  const { result } = await collect(simulate, {
    runs: SIMULATED,
    failureRate: 0.15,
    missingRate: 0.05,
    buildNames: ["tempest-full"],
    seed: 11,
    dbUri: uri,
    logRoot: logDir,
    logUrl: server.url,
    intervalSeconds: 30,
  });
  missing = result.missing;
  const writer = await openSubunit2sqlWriter(uri);
  await writer.insertRuns(
    REAL_FILES.map((f, i) => ({
      uuid: `real-${String(i).padStart(2, "0")}-${f.replace(/[^A-Za-z0-9]/g, "").slice(0, 26)}`,
      skips: 0,
      fails: i % 5 === 0 ? 1 : 0,
      passes: 100,
      runTime: 60,
      artifacts: `${server.url}${REAL_PREFIX}${f}`,
      runAt: "2021-10-21 21:58:39",
      metadata: { build_name: "tempest-full", node_provider: "rax-dfw", source_file: f },
    })),
  );
  await writer.close();
}, 60_000);

afterAll(async () => {
  server?.stop();
  await dropDatabase(database);
  rmSync(logDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe("cache-data: MariaDB + HTTP log server", () => {
  test("caches every run whose served file is dstat; the cache matches what was served and what the DB holds", async () => {
    const { result, events } = await collect(cacheData, options());
    const runs = await queryDatabase<{ id: number; uuid: string; fails: number; passes: number; artifacts: string; run_at: string }>(
      database,
      "SELECT id, uuid, fails, passes, artifacts, DATE_FORMAT(run_at, '%Y-%m-%d %H:%i:%s') AS run_at FROM runs ORDER BY id",
    );
    expect(runs.length).toBe(SIMULATED + REAL_FILES.length);
    const usable = runs.filter((r) => servedText(r.artifacts) !== undefined && parses(servedText(r.artifacts)!));
    const junk = runs.filter((r) => servedText(r.artifacts) !== undefined && !parses(servedText(r.artifacts)!));
    expect(junk.map((r) => r.uuid).some((u) => u.includes("NOTCSV"))).toBe(true);
    expect(usable.length).toBeGreaterThanOrEqual(SIMULATED - missing);
    expect(result).toMatchObject({
      total: runs.length,
      cached: usable.length,
      already: 0,
      unavailable: missing,
      failed: junk.length,
      stored: usable.length,
    });

    const ws = new Workspace(dataDir);
    expect(await readRunList(disk, ws.buildRuns("tempest-full"))).toEqual(usable.map((r) => r.uuid).sort());
    expect([...(await readUnavailableRuns(ws))]).toHaveLength(missing);
    for (const run of runs) {
      const cached = existsSync(ws.rawTrace(run.uuid));
      expect(cached).toBe(usable.includes(run));
      if (!cached) continue;
      // Every cached file gunzips to the text the server held.
      expect(gunzipSync(readFileSync(ws.rawTrace(run.uuid))).toString("utf8")).toBe(servedText(run.artifacts)!);
      // Metadata equals the DB rows: the original's status rule, the artifact, then every run_metadata key.
      const meta = await queryDatabase<{ key: string; value: string }>(
        database,
        "SELECT `key`, value FROM run_metadata WHERE run_id = ? ORDER BY id",
        [run.id],
      );
      expect(await readRunMetadata(ws, run.uuid)).toEqual({
        status: run.fails > 0 || run.passes === 0 ? 1 : 0,
        artifact: run.artifacts,
        // the run's start time, which the chronological split orders by
        run_at: run.run_at,
        ...Object.fromEntries(meta.map((m) => [m.key, m.value])),
      });
    }
    expect(events).toContainEqual({ type: "info", message: `Obtained ${runs.length} runs named tempest-full from the DB` });
    const progress = events.filter((e) => e.type === "progress");
    expect(progress.at(-1)).toMatchObject({
      done: runs.length,
      total: runs.length,
      counts: { cached: usable.length, failed: junk.length },
    });
    expect(progress.some((e) => e.type === "progress" && (e.current ?? []).some((u) => u.startsWith(server.url)))).toBe(true);
    const warnings = events.filter((e) => e.type === "warning").map((e) => (e.type === "warning" ? e.message : ""));
    expect(warnings.some((w) => w.includes("NOT-CSV") && w.includes("not a usable dstat CSV"))).toBe(true);
  }, 60_000);

  test("re-running fetches nothing it has: only the run that was not dstat is asked for again", async () => {
    const before = server.requests.length;
    const { result } = await collect(cacheData, options());
    const asked = server.requests.slice(before);
    expect(result.cached).toBe(0);
    expect(result.unavailable).toBe(0);
    expect(result.ignored).toBe(missing);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((p) => p.includes("NOT-CSV"))).toBe(true);
  }, 60_000);

  test("--limit stops when that many runs of the build name are cached, counting those cached before", async () => {
    const fresh = mkdtempSync(join(tmpdir(), "ciml-data-"));
    try {
      const first = await collect(cacheData, { ...options(), dataPath: fresh, limit: 30, parallel: 8 });
      expect(first.result.stored).toBe(30);
      const ws = new Workspace(fresh);
      expect(await readRunList(disk, ws.buildRuns("tempest-full"))).toHaveLength(30);
      expect(
        readdirSync(ws.rawDir).filter((f) => f.endsWith(".csv.gz") && f !== "tempest-full.json.gz" && f !== "unavailable.json.gz"),
      ).toHaveLength(30);
      const second = await collect(cacheData, { ...options(), dataPath: fresh, limit: 45 });
      expect(second.result).toMatchObject({ cached: 15, stored: 45 });
      const third = await collect(cacheData, { ...options(), dataPath: fresh, limit: 10 });
      expect(third.result).toMatchObject({ cached: 0, stored: 45 });
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }, 60_000);

  test("mysql:// with ?charset= reads the same database", async () => {
    const fresh = mkdtempSync(join(tmpdir(), "ciml-data-"));
    try {
      const { result } = await collect(cacheData, {
        ...options(),
        dataPath: fresh,
        dbUri: `${mariadbUri(database, "mysql")}?charset=utf8mb4`,
        limit: 5,
      });
      expect(result.stored).toBe(5);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }, 60_000);
});

const SOCKET = "/run/mysqld/mysqld.sock";
test.skipIf(!existsSync(SOCKET))(
  "the unix_socket form reads the same database",
  async () => {
    const fresh = mkdtempSync(join(tmpdir(), "ciml-data-"));
    try {
      const { result } = await collect(cacheData, {
        ...options(),
        dataPath: fresh,
        dbUri: `mysql+pymysql://root@/${database}?unix_socket=${SOCKET}&charset=utf8`,
        limit: 3,
      });
      expect(result).toMatchObject({ total: SIMULATED + REAL_FILES.length, stored: 3 });
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  },
  60_000,
);

describe("simulate into MariaDB", () => {
  test("the schema has every subunit2sql table, with the real column types and indexes", async () => {
    const tables = await queryDatabase<{ t: string }>(
      database,
      "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY t",
      [database],
    );
    expect(tables.map((r) => r.t).sort()).toEqual([...SCHEMA_TABLES].sort());
    const indexes = await queryDatabase<{ i: string }>(
      database,
      "SELECT DISTINCT CONCAT(TABLE_NAME, '.', INDEX_NAME) AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND INDEX_NAME <> 'PRIMARY'",
      [database],
    );
    expect(indexes).toHaveLength(21);
    expect(indexes.map((r) => r.i)).toContain("run_metadata.uq_run_metadata");
    const prefix = await queryDatabase<{ n: number }>(
      database,
      "SELECT SUB_PART AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND INDEX_NAME = 'ix_tests_test_id'",
      [database],
    );
    expect(prefix).toEqual([{ n: 30 }]);
    const cols = await queryDatabase<{ c: string; t: string }>(
      database,
      "SELECT COLUMN_NAME AS c, COLUMN_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'runs' ORDER BY ORDINAL_POSITION",
      [database],
    );
    expect(cols.map((r) => `${r.c} ${r.t}`)).toEqual([
      "id bigint(20)",
      "uuid varchar(36)",
      "skips int(11)",
      "fails int(11)",
      "passes int(11)",
      "run_time float",
      "artifacts text",
      "run_at datetime",
    ]);
  }, 60_000);
});

describe("cache-data: database faults", () => {
  test("a refused password gives one line with the password masked", async () => {
    const { error } = await collectFailure(cacheData, { ...options(), dbUri: `mysql+pymysql://root:s3cret-Pw@127.0.0.1:3306/${database}` });
    expect(error.message).toBe(
      `database mysql+pymysql://root:***@127.0.0.1:3306/${database}: access denied for user "root" (wrong user or password)`,
    );
    expect((error as { exitCode?: number }).exitCode).toBe(1);
  }, 60_000);

  test("a host that does not answer gives one line naming the connect timeout", async () => {
    const { error } = await collectFailure(cacheData, {
      ...options(),
      dbUri: "mysql+pymysql://ci:pw@10.255.255.1:3306/subunit2sql",
      dbConnectTimeoutMs: 1000,
    });
    expect(error.message).toMatch(
      /^database mysql\+pymysql:\/\/ci:\*\*\*@10\.255\.255\.1:3306\/subunit2sql: (no answer within the connect timeout|host unreachable|connection refused)/,
    );
    expect(error.message).not.toContain("\n");
  }, 60_000);

  test("a server that is not listening gives one line", async () => {
    const { error } = await collectFailure(cacheData, { ...options(), dbUri: "mysql://root@127.0.0.1:1/subunit2sql" });
    expect(error.message).toBe(
      "database mysql://root@127.0.0.1:1/subunit2sql: connection refused (is the server running, and on this port?)",
    );
  }, 60_000);
});
