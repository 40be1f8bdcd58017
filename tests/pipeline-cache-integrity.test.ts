// cache-data keeps the workspace's own files apart and whole: reserved build names, two processes for
// different build names at once, damaged cached traces, and database rows without or with repeated uuids
// (real SQLite and MariaDB, a real HTTP log server on loopback).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzip } from "../src/io/gzip-json.ts";
import { readRunList, writeRunList } from "../src/io/raw-cache.ts";
import { openSql } from "../src/io/sql-connection.ts";
import { openSubunit2sqlWriter, type NewRun } from "../src/io/subunit2sql-writer.ts";
import { readUnavailableRuns } from "../src/io/unavailable-runs.ts";
import { Workspace } from "../src/io/workspace.ts";
import { cacheData, type CacheOptions } from "../src/pipeline/cache-data.ts";
import { LogServer } from "./helpers/ci-history.ts";
import { collect, collectFailure } from "./helpers/collect-events.ts";
import { dropDatabase, mariadbUri, uniqueDatabaseName } from "./helpers/mariadb.ts";
import { syntheticDstat, uuidFor } from "./dataset-cache.ts";
import { disk } from "./helpers/disk.ts";
import { MAIN } from "./helpers/run-ciml.ts";

const dir = mkdtempSync(join(tmpdir(), "ciml-cache-integrity-"));
const logs = new LogServer();
const databases: string[] = [];
afterAll(async () => {
  logs.stop();
  for (const name of databases) await dropDatabase(name);
  rmSync(dir, { recursive: true, force: true });
});
let counter = 0;
const fresh = (name: string) => join(dir, `${name}${++counter}`);

function run(uuid: string, buildName: string, artifacts: string | null, id = 0): NewRun {
  return {
    uuid,
    skips: 0,
    fails: id % 3 === 0 ? 2 : 0,
    passes: 100,
    runTime: 60,
    artifacts,
    runAt: "2018-03-09 17:33:07",
    metadata: { build_name: buildName },
  };
}

/** A database holding `runs` (in this order, so in id order); uuids starting with "null-" are stored as NULL. */
async function database(uri: string, runs: NewRun[]): Promise<void> {
  const writer = await openSubunit2sqlWriter(uri);
  await writer.insertRuns(runs);
  await writer.close();
  const sql = await openSql(uri, { create: true });
  await sql.run("UPDATE runs SET uuid = NULL WHERE uuid LIKE 'null-%'");
  await sql.close();
}

const options = (dataPath: string, dbUri: string, buildName: string): CacheOptions => ({
  dataPath,
  buildName,
  dbUri,
  limit: 0,
  parallel: 8,
  timeoutSeconds: 20,
  fetch: { retries: 0 },
});

describe("reserved build names", () => {
  test("a build named after the unavailable list is refused and the list is left alone", async () => {
    const dataPath = fresh("reserved");
    const ws = new Workspace(dataPath);
    await writeRunList(disk, ws.unavailableRuns, ["keep-me"]);
    for (const name of ["unavailable", "Unavailable"]) {
      const { error } = await collectFailure(cacheData, options(dataPath, "sqlite:///nowhere.db", name));
      expect(error.message).toBe(
        `build name "${name}" is the name of the workspace's own .raw/unavailable.json.gz: choose a plain name such as "tempest-full" or "usr_1m-1min-status"`,
      );
    }
    expect(await readRunList(disk, ws.unavailableRuns)).toEqual(["keep-me"]);
  });
});

for (const kind of ["sqlite", "mariadb"] as const) {
  describe(`rows without a uuid or repeating one (${kind})`, () => {
    test("are skipped and counted: no null.csv.gz, and no run both cached and unavailable", async () => {
      let uri: string;
      if (kind === "sqlite") uri = `sqlite:///${fresh("db")}.db`;
      else {
        const name = uniqueDatabaseName("integrity");
        databases.push(name);
        uri = mariadbUri(name);
      }
      const trace = syntheticDstat(120, 7);
      const good = [uuidFor(901), uuidFor(902)];
      for (const uuid of [...good, "n1", "n2"]) logs.addTrace(uuid, trace);
      await database(uri, [
        run(good[0]!, "dups", `${logs.root}/${good[0]}`, 0),
        run("null-1", "dups", `${logs.root}/n1`, 1),
        run(good[1]!, "dups", `${logs.root}/${good[1]}`, 2),
        // the same run again, this time without a log root: it must not be declared unavailable
        run(good[1]!, "dups", null, 3),
        run("null-2", "dups", `${logs.root}/n2`, 4),
      ]);
      const dataPath = fresh("dups");
      const { result, events } = await collect(cacheData, options(dataPath, uri, "dups"));
      const ws = new Workspace(dataPath);
      expect(existsSync(join(ws.rawDir, "null.csv.gz"))).toBe(false);
      expect(existsSync(join(ws.metadataDir, "null.json.gz"))).toBe(false);
      expect(await readRunList(disk, ws.buildRuns("dups"))).toEqual([...good].sort());
      expect([...(await readUnavailableRuns(ws))]).toEqual([]);
      expect(result).toMatchObject({ total: 2, cached: 2, unavailable: 0, skippedRows: 3 });
      expect(events.filter((e) => e.type === "warning").map((e) => (e as { message: string }).message)).toEqual([
        "the database has 2 runs of dups without a uuid and 1 repeating an earlier run's uuid; skipped them",
      ]);
    }, 30_000);
  });
}

describe("a damaged cached trace", () => {
  test("is noticed (cut short, a flipped byte) and fetched again; whole ones are not", async () => {
    const uri = `sqlite:///${fresh("db")}.db`;
    const uuids = [uuidFor(801), uuidFor(802), uuidFor(803)];
    uuids.forEach((u, i) => logs.addTrace(u, syntheticDstat(300, 20 + i)));
    await database(
      uri,
      uuids.map((u, i) => run(u, "damage", `${logs.root}/${u}`, i)),
    );
    const dataPath = fresh("damage");
    const ws = new Workspace(dataPath);
    await collect(cacheData, options(dataPath, uri, "damage"));
    const whole = readFileSync(ws.rawTrace(uuids[0]!));
    truncateSync(ws.rawTrace(uuids[0]!), whole.length - 100);
    const flipped = readFileSync(ws.rawTrace(uuids[1]!));
    flipped[flipped.length - 6]! ^= 0x10; // the length of the text in the gzip trailer
    writeFileSync(ws.rawTrace(uuids[1]!), flipped);
    const before = uuids.map((u) => logs.fetchesOf(u));

    const { result } = await collect(cacheData, options(dataPath, uri, "damage"));
    expect(result).toMatchObject({ damaged: 2, cached: 2, already: 1, failed: 0 });
    expect(uuids.map((u, i) => logs.fetchesOf(u) > before[i]!)).toEqual([true, true, false]);
    for (const u of uuids) expect(() => gunzip(readFileSync(ws.rawTrace(u)))).not.toThrow();
    expect(await readRunList(disk, ws.buildRuns("damage"))).toEqual([...uuids].sort());
  }, 30_000);
});

describe("two cache-data processes for different build names at once", () => {
  test("keep both builds' unavailable runs, and the original's list", async () => {
    const uri = `sqlite:///${fresh("db")}.db`;
    const builds = ["left", "right"];
    const runs: NewRun[] = [];
    const missing = new Map<string, string[]>(builds.map((b) => [b, []]));
    for (let i = 0; i < 300; i++) {
      const build = builds[i % 2]!;
      const uuid = uuidFor(1000 + i);
      // most runs have no dstat file anywhere (404 on every path): both processes find many at once
      if (i % 10 === 0) logs.addTrace(uuid, syntheticDstat(60, i));
      else missing.get(build)!.push(uuid);
      runs.push(run(uuid, build, `${logs.root}/${uuid}`, i));
    }
    await database(uri, runs);
    const dataPath = fresh("two");
    const ws = new Workspace(dataPath);
    await writeRunList(disk, ws.unavailableRuns, ["from-the-original"]);
    const env = { ...process.env, CI: "true" };
    const children = builds.map((b) =>
      Bun.spawn(
        [process.execPath, MAIN, "cache-data", "--build-name", b, "--db-uri", uri, "--data-path", dataPath, "--parallel", "2", "--json"],
        { env, stdout: "pipe", stderr: "pipe" },
      ),
    );
    const outcomes = await Promise.all(
      children.map(async (c) => {
        const [code, out, err] = await Promise.all([c.exited, new Response(c.stdout).text(), new Response(c.stderr).text()]);
        // With --json an error is a JSON line on stdout: shown when the exit code is not 0.
        return { code, err, errors: out.split("\n").filter((l) => l.includes('"type":"error"')) };
      }),
    );
    expect(outcomes).toEqual(builds.map(() => ({ code: 0, err: "", errors: [] })));
    const unavailable = await readUnavailableRuns(ws);
    expect(unavailable.size).toBe(1 + 270);
    for (const b of builds) for (const u of missing.get(b)!) expect(unavailable.has(u)).toBe(true);
    expect(unavailable.has("from-the-original")).toBe(true);
    expect(readdirSync(ws.unavailableDir).sort()).toEqual(["left.json.gz", "right.json.gz"]);
  }, 120_000);
});
