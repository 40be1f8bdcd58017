// cache-data and build-dataset against a Zuul on loopback: builds paged newest first in Zuul's flat and
// nested shapes, results mapped and the rest counted, inventories read, re-runs that stop at what the
// last complete pass saw, the faults a busy Zuul shows, and Ctrl-C half-way then a re-run that completes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRunList, readRunMetadata } from "../src/io/raw-cache.ts";
import { openZuulSource } from "../src/io/sources/zuul-source.ts";
import { Workspace } from "../src/io/workspace.ts";
import { buildDataset, type BuildDatasetOptions } from "../src/pipeline/build-dataset.ts";
import { cacheData, type CacheOptions } from "../src/pipeline/cache-data.ts";
import { AbortedError } from "../src/pipeline/errors.ts";
import { collect, collectFailure } from "./helpers/collect-events.ts";
import { serveZuul, type BuildSpec, type TestZuul } from "./helpers/zuul-server.ts";
import { disk } from "./helpers/disk.ts";

const JOB = "tempest-full-py3";
const PROVIDERS = ["rax-dfw", "ovh-gra1", "vexxhost-ca-ymq-1"];
const DSTAT_PATHS = ["controller/logs/dstat-csv_log.txt.gz", "logs/dstat-csv_log.txt", "logs/dstat-csv.log"];
// 10 SUCCESS, 6 FAILURE, 2 TIMED_OUT are test outcomes; the other 5 are not, or have no logs.
const RESULTS = [
  ...Array<string>(10).fill("SUCCESS"),
  ...Array<string>(6).fill("FAILURE"),
  ...Array<string>(2).fill("TIMED_OUT"),
  "POST_FAILURE",
  "POST_FAILURE",
  "NODE_FAILURE",
  "SKIPPED",
  "SUCCESS-NO-LOGS",
];
const T0 = Date.UTC(2024, 0, 1);
const uuid = (i: number) => (0xabc00000 + i).toString(16).padStart(32, "0");

function build(i: number, result: string): BuildSpec {
  return {
    uuid: uuid(i),
    job: JOB,
    // interleaved so that neither the newest nor the oldest are all one result
    result: result === "SUCCESS-NO-LOGS" ? "SUCCESS" : result,
    hasLogs: result !== "SUCCESS-NO-LOGS",
    start: T0 + i * 3 * 3600_000,
    provider: PROVIDERS[i % 3]!,
    label: i % 2 ? "ubuntu-jammy" : "ubuntu-noble",
    dstatPath: DSTAT_PATHS[i % 3]!,
    nested: i % 2 === 0,
    change: 800000 + i,
  };
}

/** The 23 builds in a shuffled-but-fixed order of results, plus builds of another job the API filters out. */
function history(): BuildSpec[] {
  const order = RESULTS.map((r, k) => [r, (k * 7) % RESULTS.length] as const).sort((a, b) => a[1] - b[1]);
  return [
    ...order.map(([r], i) => build(i, r)),
    { ...build(100, "SUCCESS"), job: "other-job" },
    { ...build(101, "FAILURE"), job: "other-job" },
  ];
}

let dir: string;
let zuul: TestZuul;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ciml-zuul-"));
  zuul = serveZuul(history());
});
afterAll(() => {
  zuul.stop();
  rmSync(dir, { recursive: true, force: true });
});

const options = (data: string, extra: Partial<CacheOptions> = {}): CacheOptions => ({
  dataPath: join(dir, data),
  buildName: JOB,
  zuulUrl: zuul.api(),
  zuulPageSize: 5,
  zuulHttp: { backoffMs: 10, retries: 3, maxRetryAfterMs: 5000 },
  limit: 0,
  parallel: 4,
  timeoutSeconds: 20,
  fetch: { retries: 1, backoffMs: 10 },
  ...extra,
});

const pagesRequested = (from: number) => zuul.requests.slice(from).filter((r) => r.startsWith("/api/tenant/openstack/builds?"));
const logRequests = (from: number) => zuul.requests.slice(from).filter((r) => r.startsWith("/logs/"));
const outcomes = (specs: BuildSpec[]) =>
  specs.filter((b) => b.job === JOB && b.hasLogs !== false && ["SUCCESS", "FAILURE", "TIMED_OUT"].includes(b.result!));

describe("cache-data --zuul-url", () => {
  test("pages through every build newest first, caches the test outcomes and counts the rest by result", async () => {
    const from = zuul.requests.length;
    const { result } = await collect(cacheData, options("main"));
    expect(result).toMatchObject({ total: 23, cached: 18, already: 0, unavailable: 0, failed: 0, stored: 18 });
    expect(result.excluded).toEqual({ POST_FAILURE: 2, NODE_FAILURE: 1, SKIPPED: 1, "no log_url": 1 });
    // 23 builds at 5 a page: five pages, with Zuul's query parameters
    const pages = pagesRequested(from);
    expect(pages.map((p) => new URL(`http://x${p}`).searchParams.get("skip"))).toEqual(["0", "5", "10", "15", "20"]);
    expect(new URL(`http://x${pages[0]}`).searchParams.toString()).toBe(`job_name=${JOB}&complete=true&limit=5&skip=0`);

    const ws = new Workspace(join(dir, "main"));
    const expected = outcomes(zuul.builds);
    expect(await readRunList(disk, ws.buildRuns(JOB))).toEqual(expected.map((b) => b.uuid).sort());
    // no token given: none sent; and never one to the log server
    expect(zuul.authorizations.every((a) => a === null)).toBe(true);
    for (const b of expected) {
      const change = String(b.change);
      expect(await readRunMetadata(ws, b.uuid)).toEqual({
        status: b.result === "SUCCESS" ? 0 : 1,
        artifact: `${zuul.url}/logs/${b.uuid}/`,
        run_at: new Date(b.start).toISOString().slice(0, 19).replace("T", " "),
        build_name: JOB,
        build_uuid: b.uuid,
        build_short_uuid: b.uuid.slice(0, 7),
        build_change: change,
        build_patchset: "2",
        build_branch: "master",
        build_queue: "gate",
        project: "openstack/nova",
        voting: "1",
        result: b.result,
        build_set: `bs${b.uuid}`,
        node_provider: b.provider,
        build_node: b.label,
      });
    }
  }, 60_000);

  test("a re-run with three new builds reads one page and fetches only the new builds' files", async () => {
    const before = zuul.requests.length;
    const firstLogs = logRequests(0);
    const newest = [0, 1, 2].map((k) => build(200 + k, k === 1 ? "FAILURE" : "SUCCESS"));
    zuul.builds.push(...newest);
    const { result } = await collect(cacheData, options("main"));
    expect(result).toMatchObject({ cached: 3, already: 0, failed: 0, stored: 21 });
    expect(pagesRequested(before)).toHaveLength(1);
    const logs = logRequests(before);
    expect(logs.every((p) => newest.some((b) => p.startsWith(`/logs/${b.uuid}/`)))).toBe(true);
    // nothing fetched twice over both runs: each dstat file and each inventory once
    const all = [...firstLogs, ...logs].filter((p) => p.endsWith("inventory.yaml") || p.includes("dstat"));
    const found = all.filter((p) =>
      zuul.builds.some((b) => p === `/logs/${b.uuid}/${b.dstatPath}` || p === `/logs/${b.uuid}/zuul-info/inventory.yaml`),
    );
    expect(new Set(found).size).toBe(found.length);

    const again = zuul.requests.length;
    const { result: third } = await collect(cacheData, options("main"));
    expect(third).toMatchObject({ total: 0, cached: 0, stored: 21 });
    expect(pagesRequested(again)).toHaveLength(1);
    expect(logRequests(again)).toEqual([]);
  }, 60_000);

  test("a 500 then a 429 with Retry-After on a page are waited out; the pass completes", async () => {
    zuul.faults.set("/api/tenant/openstack/builds", [
      () => new Response("Internal Server Error", { status: 500 }),
      () => new Response("slow down", { status: 429, headers: { "retry-after": "1" } }),
    ]);
    const from = zuul.requests.length;
    const started = performance.now();
    const { result } = await collect(cacheData, options("faults"));
    expect(result).toMatchObject({ cached: 21, failed: 0 });
    // the first page was asked three times: 500, 429, then the answer
    expect(pagesRequested(from).filter((p) => p.endsWith("skip=0"))).toHaveLength(3);
    // Retry-After said one second; waiting less would be ignoring it (a lower bound cannot flake)
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  }, 60_000);

  test("Ctrl-C half-way: nothing partial, no mark; the re-run completes the cache", async () => {
    zuul.logLatencyMs = 30;
    const controller = new AbortController();
    const half = await collectFailure(cacheData, options("interrupted", { parallel: 2 }), controller.signal, (e) => {
      if (e.type === "progress" && (e.counts?.cached ?? 0) >= 6) controller.abort();
    });
    zuul.logLatencyMs = 0;
    expect(half.error).toBeInstanceOf(AbortedError);
    const ws = new Workspace(join(dir, "interrupted"));
    const listed = await readRunList(disk, ws.buildRuns(JOB));
    expect(listed.length).toBeGreaterThanOrEqual(6);
    expect(listed.length).toBeLessThan(21);
    for (const id of listed) expect(await readRunMetadata(ws, id)).toBeDefined();
    expect(existsSync(ws.sourceMarks(JOB))).toBe(false);

    const { result } = await collect(cacheData, options("interrupted"));
    expect(result).toMatchObject({ already: listed.length, cached: 21 - listed.length, stored: 21, failed: 0 });
    expect(existsSync(ws.sourceMarks(JOB))).toBe(true);
  }, 60_000);

  test("one bad build in a page is counted, not fatal", async () => {
    zuul.faults.set("/api/tenant/openstack/builds", [
      () => Response.json([{ uuid: "../../etc/passwd", job_name: JOB, result: "SUCCESS" }, { job_name: JOB }]),
    ]);
    const { result } = await collect(cacheData, options("malformed-build", { zuulPageSize: 100 }));
    expect(result.excluded["malformed build"]).toBe(2);
    expect(result.stored).toBe(0);
  }, 30_000);
});

describe("Zuul errors: one line each", () => {
  const failure = async (extra: Partial<CacheOptions>) => {
    const { error } = await collectFailure(cacheData, options(`err-${Math.random()}`, extra));
    return error as Error & { exitCode?: number };
  };

  test("a tenant that does not exist (404)", async () => {
    const e = await failure({ zuulUrl: zuul.api("nosuch") });
    expect(e.message).toBe(
      `Zuul at ${zuul.api("nosuch")}: HTTP 404 for builds?job_name=${JOB}&complete=true&limit=5&skip=0; check the tenant name in --zuul-url (https://HOST/api/tenant/TENANT)`,
    );
    expect(e.exitCode).toBe(1);
  });

  test("a job with no builds", async () => {
    const e = await failure({ buildName: "no-such-job" });
    expect(e.message).toBe(
      `Zuul at ${zuul.api()} has no completed builds of job no-such-job; check --build-name (the job name) and the filters`,
    );
    expect(e.exitCode).toBe(1);
  });

  test("an unreachable Zuul", async () => {
    const gone = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const url = `http://127.0.0.1:${gone.port}/api/tenant/openstack`;
    gone.stop(true);
    const e = await failure({ zuulUrl: url, zuulHttp: { retries: 1, backoffMs: 10 } });
    expect(e.message).toMatch(
      new RegExp(`^Zuul at ${url}: cannot connect \\(.+\\) for builds\\?.+ \\(after 2 attempts\\); try again later$`),
    );
    expect(e.exitCode).toBe(1);
  });

  test("an HTML page with status 200, and an answer that is not a list of builds", async () => {
    zuul.faults.set("/api/tenant/openstack/builds", [
      () => new Response("<!DOCTYPE html><html><body>Zuul</body></html>", { headers: { "content-type": "text/html" } }),
      () => Response.json({ builds: [] }),
    ]);
    const html = await failure({});
    expect(html.message).toMatch(
      /: builds\?.+ answered an HTML page, not JSON; give the API root, e\.g\. https:\/\/zuul\.opendev\.org\/api\/tenant\/openstack$/,
    );
    const shape = await failure({});
    expect(shape.message).toMatch(/: the answer to builds\?.+ is not a list of builds$/);
    expect([html.exitCode, shape.exitCode]).toEqual([1, 1]);
  });

  test("the web UI's URL instead of the API root is a usage error that names the right one", async () => {
    const e = await failure({ zuulUrl: `${zuul.url}/t/openstack/builds` });
    expect(e.message).toBe(
      `--zuul-url ${zuul.url}/t/openstack/builds: that is the web page; give the API root ${zuul.url}/api/tenant/openstack`,
    );
    expect(e.exitCode).toBe(2);
  });

  test("the token goes to the API as a bearer token and never into a message", async () => {
    zuul.faults.set("/api/tenant/openstack/builds", [() => new Response("no", { status: 401 })]);
    const e = await failure({ zuulToken: "s3cr3t-token-value" });
    expect(e.message).toContain("CIML_ZUUL_TOKEN was refused");
    expect(e.message).not.toContain("s3cr3t");
  });
});

describe("db-predict's view of a Zuul build", () => {
  test("GET build/UUID gives the same run cache-data caches; another job's build is skipped", async () => {
    const source = openZuulSource({ url: zuul.api() });
    const signal = new AbortController().signal;
    const b = outcomes(zuul.builds)[0]!;
    const { runs, skipped } = await source.runsOfBuild(b.uuid, JOB, signal);
    expect(skipped).toEqual([]);
    expect(runs.map((r) => [r.id, r.status, r.logRoot])).toEqual([[b.uuid, b.result === "SUCCESS" ? 0 : 1, `${zuul.url}/logs/${b.uuid}/`]]);
    const other = zuul.builds.find((x) => x.job === "other-job")!;
    expect(await source.runsOfBuild(other.uuid, JOB, signal)).toEqual({
      runs: [],
      skipped: [`Build uuid: ${other.uuid} is not of proper build_name, skipping`],
    });
  });
});

describe("build-dataset on a Zuul cache", () => {
  const datasetOptions = (dataset: string, extra: Partial<BuildDatasetOptions>): BuildDatasetOptions => ({
    dataPath: join(dir, "main"),
    dataset,
    buildName: JOB,
    slicer: ":",
    sampleInterval: "1min",
    classLabel: "status",
    tdtSplit: ["6", "2", "2"],
    force: true,
    visualize: false,
    dataPlotsFolder: dir,
    aggregationFunctions: [],
    dtype: "float32",
    ...extra,
  });

  test("--class-label node_provider groups the inventories' providers; --class-label status gives 0/1", async () => {
    const byProvider = await collect(buildDataset, datasetOptions("providers", { classLabel: "node_provider" }));
    expect(byProvider.result.config.classes).toEqual(["ovh", "rax", "vexxhost"]);
    const byStatus = await collect(buildDataset, datasetOptions("status", {}));
    expect(byStatus.result.config.classes).toEqual(["0", "1"]);
    expect(byStatus.result.examples.training + byStatus.result.examples.dev + byStatus.result.examples.test).toBe(21);
  }, 60_000);

  test("--split-order time: every training run started before every test run", async () => {
    const { result } = await collect(buildDataset, datasetOptions("by-time", { splitOrder: "time" }));
    expect(result.config.split_order).toBe("time");
    expect(result.config.seed).toBeNull();
    const ws = new Workspace(join(dir, "main"));
    const times = async (dataset: string, set: string) =>
      Promise.all(
        (await readRunList(disk, ws.datasetFile(dataset, `${set}.json.gz`))).map(
          async (id) => (await readRunMetadata(ws, id))!.run_at as string,
        ),
      );
    const training = await times("by-time", "training");
    const dev = await times("by-time", "dev");
    const test = await times("by-time", "test");
    expect(training.length).toBe(12);
    expect(test.length).toBeGreaterThan(0);
    const latest = (xs: string[]) => [...xs].sort().at(-1)!;
    const earliest = (xs: string[]) => [...xs].sort()[0]!;
    expect(latest(training) < earliest(dev)).toBe(true);
    expect(latest(dev) < earliest(test)).toBe(true);
    // the default stays the seeded random split, which mixes old and new
    const random = await collect(buildDataset, datasetOptions("random", {}));
    expect(random.result.config.split_order).toBe("random");
    expect(latest(await times("random", "training")) > earliest(await times("random", "test"))).toBe(true);
  }, 60_000);
});
