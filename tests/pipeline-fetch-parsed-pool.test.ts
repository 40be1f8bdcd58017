// The worker threads that download and parse traces for mqtt-trainer (src/pipeline/cache/fetch-parsed-pool.ts):
// what they hand back is what the same download parsed on this thread gives, to the bit; Ctrl-C reaches
// them; and a pool left idle never keeps a process alive.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzip } from "../src/io/gzip-json.ts";
import { DEFAULT_FETCH_POLICY, Interrupted, type FetchPolicy } from "../src/io/log-server.ts";
import { FetchParsedPool } from "../src/pipeline/cache/fetch-parsed-pool.ts";
import { fetchParsedHere, type FetchParsedRequest, type FetchParsedResult } from "../src/pipeline/cache/fetch-parsed.ts";
import { syntheticDstat } from "./dataset-cache.ts";
import { serveLogTree, type TestLogServer } from "./helpers/log-server.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-fetch-pool-"));
const PATH = "logs/dstat-csv_log.txt.gz";
const policy: FetchPolicy = { ...DEFAULT_FETCH_POLICY, paths: [PATH], retries: 0, backoffMs: 1 };
let server: TestLogServer;
let pool: FetchParsedPool;
const never = new AbortController().signal;

beforeAll(() => {
  for (let run = 0; run < 6; run++) {
    mkdirSync(join(root, `run${run}`, "logs"), { recursive: true });
    // A trace with gaps and odd cells, so that NaNs and every column's bits are compared.
    const text = syntheticDstat(400 + 37 * run, run + 1).replace(/\n(\d)/g, (m, d, at: number) => (at % 7 === 0 ? "\n,\n" + d : m));
    writeFileSync(join(root, `run${run}`, PATH), gzip(new TextEncoder().encode(text)));
  }
  mkdirSync(join(root, "junk", "logs"), { recursive: true });
  writeFileSync(join(root, "junk", PATH), gzip(new TextEncoder().encode("not,a\ndstat,file\n")));
  server = serveLogTree({
    root,
    route: (path) => (path.startsWith("/slow/") ? Bun.sleep(30_000).then(() => new Response("late")) : undefined),
  });
  pool = new FetchParsedPool(2);
});

afterAll(() => {
  pool.close();
  server.stop();
  rmSync(root, { recursive: true, force: true });
});

/** The parsed trace with every number as its bytes, so equal means bit for bit (NaNs included). */
function bits(result: FetchParsedResult) {
  const bytes = (a: Float64Array | undefined) => (a ? Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)) : a);
  const t = result.parsed;
  return {
    fetched: result.fetched,
    parsed: t && { ...t, times: bytes(t.times), values: t.values.map(bytes) },
  };
}

describe("fetch-parsed pool", () => {
  test("a trace parsed on a worker is the same bits as one parsed here; misses and junk are the same outcomes", async () => {
    const requests: FetchParsedRequest[] = [
      ...Array.from({ length: 6 }, (_, run) => ({
        logRoot: `${server.url}/run${run}/`,
        policy,
        year: 2018,
        columns: ["usr", "sys", "used", "read"],
        keepRows: 300,
      })),
      { logRoot: `${server.url}/run0/`, policy }, // every column, every row
      { logRoot: `${server.url}/nothing-here/`, policy },
      { logRoot: `${server.url}/junk/`, policy },
      { dstatUrl: `${server.url}/run3/${PATH}`, policy, columns: ["idl"] },
    ];
    // All at once: the two workers parse side by side, as under a burst of events.
    const there = await Promise.all(requests.map((r) => pool.fetch(r, never)));
    const here = await Promise.all(requests.map((r) => fetchParsedHere(r, never)));
    expect(there.map(bits)).toEqual(here.map(bits));
    expect(there.map((r) => r.fetched.kind)).toEqual([...Array(7).fill("found"), "missing", "failed"].concat("found"));
    expect(there[0]!.parsed!.rows).toBe(300);
  });

  test("an aborted request rejects as interrupted at once, and the pool goes on serving", async () => {
    const abort = new AbortController();
    const pending = pool.fetch({ dstatUrl: `${server.url}/slow/${PATH}`, policy }, abort.signal);
    while (!server.requests.some((p) => p.startsWith("/slow/"))) await Bun.sleep(5);
    abort.abort();
    expect(await pending.then(() => "resolved", (err: unknown) => err)).toBeInstanceOf(Interrupted);
    const after = await pool.fetch({ logRoot: `${server.url}/run1/`, policy }, never);
    expect(after.fetched.kind).toBe("found");
  });

  test("close rejects what is in flight as interrupted, and later requests too", async () => {
    const own = new FetchParsedPool(1);
    const pending = own.fetch({ dstatUrl: `${server.url}/slow/${PATH}`, policy }, never);
    own.close();
    expect(await pending.then(() => "resolved", (err: unknown) => err)).toBeInstanceOf(Interrupted);
    expect(await own.fetch({ logRoot: `${server.url}/run1/`, policy }, never).then(() => "resolved", (err: unknown) => err)).toBeInstanceOf(
      Interrupted,
    );
  });

  test("an idle pool that was never closed does not keep its process alive", async () => {
    const script = join(root, "idle-pool.ts");
    const src = resolve(import.meta.dir, "../src/pipeline/cache/fetch-parsed-pool.ts");
    const log = resolve(import.meta.dir, "../src/io/log-server.ts");
    writeFileSync(
      script,
      `import { FetchParsedPool } from ${JSON.stringify(src)};
import { DEFAULT_FETCH_POLICY } from ${JSON.stringify(log)};
const pool = new FetchParsedPool(2);
const got = await pool.fetch({ logRoot: ${JSON.stringify(`${server.url}/run2/`)}, policy: { ...DEFAULT_FETCH_POLICY, paths: [${JSON.stringify(PATH)}] } }, new AbortController().signal);
console.log(got.fetched.kind);
`,
    );
    const child = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
    const exited = await Promise.race([child.exited, Bun.sleep(20_000).then(() => "still running")]);
    if (exited === "still running") child.kill();
    expect(exited).toBe(0);
    expect((await new Response(child.stdout).text()).trim()).toBe("found");
  });
});
