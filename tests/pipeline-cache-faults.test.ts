// cache-data through a log server that misbehaves, then recovers: each fault leaves the run uncached and
// not marked unavailable (only 404 everywhere does that), and the next run completes the cache.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { DEFAULT_DSTAT_PATHS } from "../src/io/log-server.ts";
import { readRunList, readRunMetadata } from "../src/io/raw-cache.ts";
import { parseDstatCsv } from "../src/io/dstat-csv.ts";
import { openSubunit2sqlWriter } from "../src/io/subunit2sql-writer.ts";
import { readUnavailableRuns } from "../src/io/unavailable-runs.ts";
import { Workspace } from "../src/io/workspace.ts";
import { ensureRunCached, fetchPolicyFor } from "../src/pipeline/cache/ensure-run-cached.ts";
import { cacheData, type CacheOptions } from "../src/pipeline/cache-data.ts";
import { openSubunit2sqlSource } from "../src/io/sources/subunit2sql-source.ts";
import type { SourceRun } from "../src/io/sources/run-source.ts";
import { generateTrace } from "../src/pipeline/simulate/trace-generator.ts";
import { collect } from "./helpers/collect-events.ts";
import { serveLogTree, type TestLogServer } from "./helpers/log-server.ts";
import { disk } from "./helpers/disk.ts";

const FAULTS = ["ok", "flaky500", "stall", "html", "truncated", "gone"] as const;
type Fault = (typeof FAULTS)[number];
const uuidOf = (f: Fault) => `run-${f}`;

let dir: string;
let server: TestLogServer;
let broken = true;
const traces = new Map<Fault, string>();
const served = new Map<string, number>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ciml-faults-"));
  for (const [i, f] of FAULTS.entries())
    traces.set(f, generateTrace({ failure: "none", startMs: Date.UTC(2019, 4, 1), host: "n", intervalSeconds: 60, nodeSpeed: 1 }, i).csv);
  server = serveLogTree({
    route(path) {
      const m = /^\/([a-z0-9]+)\/logs\/dstat-csv_log\.txt\.gz$/.exec(path);
      if (!m) return new Response("not found", { status: 404 });
      const fault = m[1] as Fault;
      const n = (served.get(fault) ?? 0) + 1;
      served.set(fault, n);
      const gz = gzipSync(traces.get(fault)!);
      if (fault === "gone") return new Response("not found", { status: 404 });
      if (fault === "flaky500" && n === 1) return new Response("Internal Server Error", { status: 500 });
      if (broken && fault === "stall") return new Response(new ReadableStream({ start: (c) => c.enqueue(gz.subarray(0, 64)) }));
      if (broken && fault === "html")
        return new Response("<html><body><h1>Service Unavailable</h1></body></html>", { headers: { "content-type": "text/html" } });
      if (broken && fault === "truncated") return new Response(gz.subarray(0, gz.length - 40));
      return new Response(gz);
    },
  });
  const writer = await openSubunit2sqlWriter(`sqlite:///${join(dir, "ci.db")}`);
  await writer.insertRuns(
    FAULTS.map((f) => ({
      uuid: uuidOf(f),
      skips: 0,
      fails: 0,
      passes: 10,
      runTime: 1,
      artifacts: `${server.url}/${f}`,
      runAt: "2019-05-01 00:00:00",
      metadata: { build_name: "tempest-full", fault: f },
    })),
  );
  await writer.close();
}, 60_000);
afterAll(() => {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const options = (): CacheOptions => ({
  dataPath: join(dir, "data"),
  buildName: "tempest-full",
  dbUri: `sqlite:///${join(dir, "ci.db")}`,
  limit: 0,
  parallel: 4,
  timeoutSeconds: 10,
  // Long enough that a loaded machine never stalls a good download this long; short enough for the stall run.
  fetch: { readTimeoutMs: 1500, retries: 2, backoffMs: 20 },
});

test("faults: 500→200 is cached after a retry; stall, HTML 200 and truncated gzip are reported, not cached, not unavailable; 404 everywhere is unavailable", async () => {
  const { result, events } = await collect(cacheData, options());
  const ws = new Workspace(join(dir, "data"));
  expect(result).toMatchObject({ total: 6, cached: 2, unavailable: 1, failed: 3 });
  expect(served.get("flaky500")).toBe(2);
  expect(served.get("stall")).toBe(3);
  expect(await readRunList(disk, ws.buildRuns("tempest-full"))).toEqual([uuidOf("flaky500"), uuidOf("ok")]);
  expect([...(await readUnavailableRuns(ws))]).toEqual([uuidOf("gone")]);
  for (const f of ["stall", "html", "truncated"] as const) {
    expect(existsSync(ws.rawTrace(uuidOf(f)))).toBe(false);
    expect(await readRunMetadata(ws, uuidOf(f))).toBeUndefined();
  }
  const warnings = events.flatMap((e) => (e.type === "warning" ? [e.message] : []));
  expect(warnings.find((w) => w.startsWith("run-stall:"))).toMatch(/timeout: read stalled .*after 3 attempts/);
  expect(warnings.find((w) => w.startsWith("run-html:"))).toContain("not a usable dstat CSV");
  expect(warnings.find((w) => w.startsWith("run-truncated:"))).toContain("gzip");
  const final = events.find((e) => e.type === "result");
  expect(final?.type === "result" && final.lines?.[1]).toBe("3 runs could not be fetched this time; run cache-data again to retry them");
}, 60_000);

test("once the server recovers, the next run completes the cache", async () => {
  broken = false;
  const { result } = await collect(cacheData, options());
  expect(result).toMatchObject({ cached: 3, already: 2, ignored: 1, failed: 0, stored: 5 });
  const ws = new Workspace(join(dir, "data"));
  for (const f of FAULTS.filter((f) => f !== "gone")) {
    expect(gunzipSync(await Bun.file(ws.rawTrace(uuidOf(f))).bytes()).toString()).toBe(traces.get(f)!);
    expect(await readRunMetadata(ws, uuidOf(f))).toMatchObject({
      status: 0,
      artifact: `${server.url}/${f}`,
      build_name: "tempest-full",
      fault: f,
    });
  }
}, 60_000);

test("ensureRunCached (the prediction path) reuses a cached run and replaces a corrupt cache file", async () => {
  const ws = new Workspace(join(dir, "data"));
  const source = await openSubunit2sqlSource(`sqlite:///${join(dir, "ci.db")}`);
  try {
    let ok: SourceRun | undefined;
    for await (const item of source.list("tempest-full", { signal: new AbortController().signal }).items)
      if (item.kind === "run" && item.run.id === uuidOf("ok")) ok = item.run;
    if (!ok) throw new Error("run ok not listed");
    const policy = fetchPolicyFor({ timeoutSeconds: 10 }, DEFAULT_DSTAT_PATHS, false);
    const before = served.get("ok");
    const already = await ensureRunCached(ws, ok, { policy }, new AbortController().signal);
    expect(already.kind).toBe("already");
    // The check's parse is handed on (the prediction path uses it instead of reading the trace again).
    expect(already.kind === "already" && already.table.rows).toBe(parseDstatCsv(traces.get("ok")!).rows);
    expect(served.get("ok")).toBe(before);
    await Bun.write(ws.rawTrace(ok.id), "garbage, not gzip");
    const again = await ensureRunCached(ws, ok, { policy }, new AbortController().signal);
    expect(again.kind).toBe("cached");
    expect(gunzipSync(await Bun.file(ws.rawTrace(ok.id)).bytes()).toString()).toBe(traces.get("ok")!);
  } finally {
    await source.close();
  }
}, 60_000);

test("a run id that cannot name a file is reported as that run's failure; the others are cached", async () => {
  const writer = await openSubunit2sqlWriter(`sqlite:///${join(dir, "ci.db")}`);
  await writer.insertRuns(
    ["../../escape", "run-fine"].map((uuid) => ({
      uuid,
      skips: 0,
      fails: 0,
      passes: 1,
      runTime: 1,
      artifacts: `${server.url}/ok`,
      runAt: "2019-05-01 00:00:00",
      metadata: { build_name: "odd-ids" },
    })),
  );
  await writer.close();
  const { result, events } = await collect(cacheData, { ...options(), buildName: "odd-ids" });
  expect(result).toMatchObject({ total: 2, cached: 1, failed: 1, stored: 1 });
  expect(existsSync(join(dir, "escape.csv.gz"))).toBe(false);
  expect(events.some((e) => e.type === "warning" && e.message.includes("is not a UUID-like name"))).toBe(true);
}, 60_000);
