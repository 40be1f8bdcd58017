// fetchDstat against a real HTTP server on loopback and real files: each fault of the issue, one by one.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  backoffDelay,
  DEFAULT_DSTAT_PATHS,
  DEFAULT_FETCH_POLICY,
  fetchDstat,
  fetchDstatAt,
  fetchLogText,
  Interrupted,
  isInterrupted,
  joinUrl,
  reasonedAbort,
  sleep,
  type FetchPolicy,
} from "../src/io/log-server.ts";
import { DstatParseError, readDstat } from "../src/io/dstat-csv.ts";
import { fetchPolicyFor } from "../src/pipeline/cache/ensure-run-cached.ts";
import { sourceReadsLocalLogs } from "../src/io/sources/open-run-source.ts";
import { fixturePath } from "./fixtures.ts";
import { serveLogTree, type TestLogServer } from "./helpers/log-server.ts";

const REAL_GZ = readFileSync(fixturePath("dstat", "openstack-devstack-focal-rax-dfw-20211021.dstat-csv_log.txt.gz"));
const REAL_TEXT = readFileSync(fixturePath("dstat", "openstack-devstack-focal-rax-dfw-20211021.csv"), "utf8");
const NOT_CSV = readFileSync(fixturePath("dstat", "standin-NOT-CSV-terminal-output.txt"));

const policy: FetchPolicy = {
  ...DEFAULT_FETCH_POLICY,
  connectTimeoutMs: 1500,
  // Generous for the downloads meant to succeed (a loaded machine can pause a stream for a while);
  // the stall test shortens it for itself.
  readTimeoutMs: 10_000,
  totalTimeoutMs: 5000,
  retries: 2,
  backoffMs: 10,
};
const check = async (text: AsyncIterable<Uint8Array>) => {
  try {
    await readDstat(text);
    return null;
  } catch (err) {
    if (err instanceof DstatParseError) return err.message;
    throw err;
  }
};
/** The dstat text of a found body, gunzipped when it is gzip. */
const textOf = (body: Uint8Array) => (body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : Buffer.from(body)).toString("utf8");
const signal = new AbortController().signal;

let server: TestLogServer;
const hits = new Map<string, number>();
const count = (path: string) => {
  const n = (hits.get(path) ?? 0) + 1;
  hits.set(path, n);
  return n;
};

beforeAll(() => {
  server = serveLogTree({
    route(path) {
      const n = count(path);
      if (path === "/real/logs/dstat-csv_log.txt.gz") return new Response(REAL_GZ);
      if (path === "/encoded/logs/dstat-csv_log.txt.gz") return new Response(REAL_GZ, { headers: { "content-encoding": "gzip" } });
      if (path === "/plain/logs/dstat-csv_log.txt") return new Response(REAL_TEXT);
      if (path === "/flaky/logs/dstat-csv_log.txt.gz") return n === 1 ? new Response("oops", { status: 500 }) : new Response(REAL_GZ);
      if (path === "/down/logs/dstat-csv_log.txt.gz") return new Response("busy", { status: 503 });
      if (path === "/html/logs/dstat-csv_log.txt.gz")
        return new Response("<!DOCTYPE html><html><body>Log server maintenance</body></html>", {
          headers: { "content-type": "text/html" },
        });
      if (path === "/junk/logs/dstat-csv_log.txt.gz") return new Response(NOT_CSV);
      if (path === "/html-then-stall/logs/dstat-csv_log.txt.gz") {
        // An error page that never ends: only a check that reads while the body streams can answer.
        const page = `<!DOCTYPE html><html><body>${"Log server maintenance. ".repeat(1000)}`;
        return new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode(page)) }));
      }
      if (path === "/truncated/logs/dstat-csv_log.txt.gz") return new Response(REAL_GZ.subarray(0, Math.floor(REAL_GZ.length / 2)));
      if (path === "/forbidden/logs/dstat-csv_log.txt.gz") return new Response("no", { status: 403 });
      if (path === "/bomb/logs/dstat-csv_log.txt.gz") return new Response(gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20)));
      if (path === "/huge/logs/dstat-csv_log.txt.gz") {
        // Chunked, without Content-Length: the cap can only be noticed while the body streams.
        let sent = 0;
        return new Response(
          new ReadableStream({
            pull: (c) => {
              if (sent++ < 40) c.enqueue(new Uint8Array(16 * 1024).fill(0x41));
              else c.close();
            },
          }),
        );
      }
      if (path === "/stall/logs/dstat-csv_log.txt.gz" || path === "/stall-abort/logs/dstat-csv_log.txt.gz") {
        // Headers and a first chunk, then silence: a read that stalls.
        return new Response(new ReadableStream({ start: (c) => c.enqueue(REAL_GZ.subarray(0, 100)) }));
      }
      return undefined;
    },
  });
}, 60_000);
afterAll(() => server.stop());

describe("fetchDstat over HTTP", () => {
  test("a gzip file is found at the 4th default path after three 404s; the body is the served bytes", async () => {
    const got = await fetchDstat(`${server.url}/real`, policy, check, signal);
    expect(got.kind).toBe("found");
    if (got.kind !== "found") return;
    expect(got.url).toBe(`${server.url}/real/logs/dstat-csv_log.txt.gz`);
    expect(Buffer.from(got.body).equals(REAL_GZ)).toBe(true);
    expect(textOf(got.body)).toBe(REAL_TEXT);
    const tried = server.requests.filter((p) => p.startsWith("/real/"));
    expect(tried).toEqual(DEFAULT_DSTAT_PATHS.map((p) => `/real/${p}`));
  }, 60_000);

  test("Content-Encoding: gzip is undone by the client; the text is the file's text", async () => {
    const got = await fetchDstat(`${server.url}/encoded/`, policy, check, signal);
    expect(got.kind === "found" && textOf(got.body)).toBe(REAL_TEXT);
  }, 60_000);

  test("a plain-text dstat at the 3rd path", async () => {
    const got = await fetchDstat(`${server.url}/plain`, policy, check, signal);
    expect(got.kind === "found" && got.url).toBe(`${server.url}/plain/logs/dstat-csv_log.txt`);
  }, 60_000);

  test("500 then 200: retried and found", async () => {
    const got = await fetchDstat(`${server.url}/flaky`, policy, check, signal);
    expect(got.kind).toBe("found");
    expect(got.kind === "found" && got.attempts).toBe(2);
  }, 60_000);

  test("5xx every time: failed after the retries, not missing", async () => {
    const got = await fetchDstat(`${server.url}/down`, policy, check, signal);
    expect(got).toMatchObject({ kind: "failed", url: `${server.url}/down/logs/dstat-csv_log.txt.gz` });
    expect(got.kind === "failed" && got.reason).toContain("HTTP 503 (after 3 attempts)");
    expect(hits.get("/down/logs/dstat-csv_log.txt.gz")).toBe(3);
  }, 60_000);

  test("a stalled read times out, is retried, then reported as a failure", async () => {
    const got = await fetchDstat(`${server.url}/stall`, { ...policy, readTimeoutMs: 300 }, check, signal);
    expect(got.kind).toBe("failed");
    expect(got.kind === "failed" && got.reason).toBe("timeout: read stalled for 0.3 s (after 3 attempts)");
    expect(hits.get("/stall/logs/dstat-csv_log.txt.gz")).toBe(3);
  }, 60_000);

  test("an HTML error page with status 200 is not data", async () => {
    const got = await fetchDstat(`${server.url}/html`, policy, check, signal);
    expect(got.kind).toBe("failed");
    expect(got.kind === "failed" && got.reason).toContain("not a dstat CSV");
  }, 60_000);

  test("dstat screen output saved as a file is not data", async () => {
    const got = await fetchDstat(`${server.url}/junk`, policy, check, signal);
    expect(got.kind).toBe("failed");
  }, 60_000);

  test("a truncated gzip is not data", async () => {
    const got = await fetchDstat(`${server.url}/truncated`, policy, check, signal);
    expect(got.kind).toBe("failed");
    expect(got.kind === "failed" && got.reason).toMatch(/gzip/);
  }, 60_000);

  test("404 on every path: missing, with the four URLs tried", async () => {
    const got = await fetchDstat(`${server.url}/nothing/here`, policy, check, signal);
    expect(got).toEqual({ kind: "missing", urls: DEFAULT_DSTAT_PATHS.map((p) => `${server.url}/nothing/here/${p}`) });
  }, 60_000);

  test("the check reads the body as it arrives: an endless HTML page is refused without waiting for its end", async () => {
    const got = await fetchDstat(
      `${server.url}/html-then-stall`,
      { ...policy, totalTimeoutMs: 20_000, readTimeoutMs: 20_000 },
      check,
      signal,
    );
    expect(got).toEqual({
      kind: "failed",
      url: `${server.url}/html-then-stall/logs/dstat-csv_log.txt.gz`,
      reason: "an HTML page, not a dstat CSV (an error page from the log server?)",
    });
    expect(hits.get("/html-then-stall/logs/dstat-csv_log.txt.gz")).toBe(1);
  }, 60_000);

  test("403 is a failure, never missing", async () => {
    const got = await fetchDstat(`${server.url}/forbidden`, policy, check, signal);
    expect(got.kind).toBe("failed");
    expect(hits.get("/forbidden/logs/dstat-csv_log.txt.gz")).toBe(1);
  }, 60_000);

  test("size caps: a body over maxBytes and a gzip that expands past maxTextBytes are refused", async () => {
    const small = { ...policy, maxBytes: 10_000 };
    const big = await fetchDstat(`${server.url}/real`, small, check, signal);
    expect(big.kind === "failed" && big.reason).toBe("file is larger than the 10000 bytes cap");
    const bomb = await fetchDstat(`${server.url}/bomb`, { ...policy, maxTextBytes: 1024 * 1024 }, check, signal);
    expect(bomb.kind === "failed" && bomb.reason).toMatch(/expands beyond/);
  }, 60_000);

  test("a streamed body over the cap says so and is not retried", async () => {
    const got = await fetchDstat(`${server.url}/huge`, { ...policy, maxBytes: 64 * 1024 }, check, signal);
    expect(got).toEqual({
      kind: "failed",
      url: `${server.url}/huge/logs/dstat-csv_log.txt.gz`,
      reason: "file is larger than the 64 KiB cap",
    });
    expect(hits.get("/huge/logs/dstat-csv_log.txt.gz")).toBe(1);
  }, 60_000);

  test("a log root ending in # or ? still gets the candidate paths in its path", async () => {
    for (const root of [`${server.url}/real#`, `${server.url}/real?`]) {
      const got = await fetchDstat(root, policy, check, signal);
      expect(got.kind === "found" && got.url).toBe(`${server.url}/real/logs/dstat-csv_log.txt.gz`);
    }
  }, 60_000);

  test("--dstat-path replaces the defaults", async () => {
    const got = await fetchDstat(`${server.url}/plain`, { ...policy, paths: ["logs/dstat-csv_log.txt"] }, check, signal);
    expect(got.kind).toBe("found");
    expect(server.requests.filter((p) => p.startsWith("/plain/")).at(-1)).toBe("/plain/logs/dstat-csv_log.txt");
  }, 60_000);

  test("connection refused is retried then reported as a failure", async () => {
    const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const port = probe.port;
    probe.stop(true);
    const got = await fetchDstat(`http://127.0.0.1:${port}/x`, policy, check, signal);
    expect(got.kind).toBe("failed");
    expect(got.kind === "failed" && got.reason).toMatch(/^connection error/);
  }, 60_000);

  test("an abort stops the download", async () => {
    const controller = new AbortController();
    const before = server.requests.length;
    const download = fetchDstat(`${server.url}/stall-abort`, policy, check, controller.signal);
    // Interrupt once the download is under way (the server has the request), not after a guessed delay.
    const deadline = Date.now() + 10_000;
    while (!server.requests.slice(before).includes("/stall-abort/logs/dstat-csv_log.txt.gz") && Date.now() < deadline) await Bun.sleep(5);
    controller.abort();
    await expect(download).rejects.toMatchObject({ name: "AbortError" });
  }, 60_000);
});

describe("fetchDstat over file://", () => {
  const dir = mkdtempSync(join(tmpdir(), "ciml-logs-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const local = { ...policy, fileRoots: true };

  test("a file is read; ENOENT on every path is missing", async () => {
    mkdirSync(join(dir, "run1/logs"), { recursive: true });
    writeFileSync(join(dir, "run1/logs/dstat-csv_log.txt.gz"), REAL_GZ);
    const root = pathToFileURL(dir).href;
    const got = await fetchDstat(`${root}/run1`, local, check, signal);
    expect(got.kind === "found" && Buffer.from(gunzipSync(got.body)).toString()).toBe(REAL_TEXT);
    const none = await fetchDstat(`${root}/run2`, local, check, signal);
    expect(none.kind).toBe("missing");
  }, 60_000);

  test("Ctrl-C during the check of a local file is no read error of the file", async () => {
    mkdirSync(join(dir, "run3/logs"), { recursive: true });
    writeFileSync(join(dir, "run3/logs/dstat-csv_log.txt.gz"), REAL_GZ);
    const controller = new AbortController();
    const interrupted = async (text: AsyncIterable<Uint8Array>) => {
      controller.abort();
      return check(
        (async function* () {
          for await (const chunk of text) {
            controller.signal.throwIfAborted();
            yield chunk;
          }
        })(),
      );
    };
    expect(fetchDstat(`${pathToFileURL(dir).href}/run3`, local, interrupted, signal)).rejects.toThrow(/abort/i);
  }, 60_000);

  test("a file:// root is refused unless the run database is a local file", async () => {
    const root = pathToFileURL(dir).href;
    const got = await fetchDstat(`${root}/run1`, policy, check, signal);
    expect(got).toEqual({
      kind: "failed",
      url: `${root}/run1`,
      reason: "log root is a local file:// URL, read only when the run database is a local sqlite:/// file",
    });
    expect(sourceReadsLocalLogs({ dbUri: "mysql+pymysql://u:p@db.example.org/subunit2sql" })).toBe(false);
    expect(sourceReadsLocalLogs({ defaultDbUri: "sqlite:///ci.db" })).toBe(true);
    expect(sourceReadsLocalLogs({ zuulUrl: "https://zuul.example.org/api/tenant/t" })).toBe(false);
    expect(sourceReadsLocalLogs({ runsFile: "runs.jsonl" })).toBe(true);
    expect(fetchPolicyFor({ timeoutSeconds: 60 }, DEFAULT_DSTAT_PATHS, false).fileRoots).toBe(false);
  }, 60_000);

  test("a root ending in # or ? cannot make a local file itself the download (file:///etc/shadow#)", async () => {
    // A dstat-like file that is not under any log root: the "secret" a database row points at.
    const secret = join(dir, "secret.csv");
    writeFileSync(secret, REAL_TEXT);
    for (const suffix of ["#", "?"]) {
      const got = await fetchDstat(`${pathToFileURL(secret).href}${suffix}`, local, check, signal);
      expect(got.kind).toBe("missing");
    }
  }, 60_000);
});

test("the path a log host answered most is tried first; a run elsewhere is still found, 404 everywhere still missing", async () => {
  // Its own server: the remembered path is per host, and the tests above share theirs.
  const own = serveLogTree({
    route(path) {
      if (path === "/a/logs/dstat-csv_log.txt.gz" || path === "/b/logs/dstat-csv_log.txt.gz") return new Response(REAL_GZ);
      if (path === "/multinode/controller/logs/dstat-csv_log.txt.gz") return new Response(REAL_GZ);
      if (path === "/c/logs/dstat-csv_log.txt.gz") return new Response(REAL_GZ);
      return undefined;
    },
  });
  try {
    const tried = (run: string) => own.requests.filter((p) => p.startsWith(`/${run}/`));
    expect((await fetchDstat(`${own.url}/a`, policy, check, signal)).kind).toBe("found");
    expect(tried("a")).toHaveLength(4);
    // One round trip instead of four for the next run of the same layout.
    const b = await fetchDstat(`${own.url}/b`, policy, check, signal);
    expect(b.kind === "found" && b.url).toBe(`${own.url}/b/logs/dstat-csv_log.txt.gz`);
    expect(tried("b")).toEqual(["/b/logs/dstat-csv_log.txt.gz"]);
    // Another layout: the usual path first, then the list in order.
    const m = await fetchDstat(`${own.url}/multinode`, policy, check, signal);
    expect(m.kind === "found" && m.url).toBe(`${own.url}/multinode/controller/logs/dstat-csv_log.txt.gz`);
    expect(tried("multinode")).toEqual(["/multinode/logs/dstat-csv_log.txt.gz", "/multinode/controller/logs/dstat-csv_log.txt.gz"]);
    // One odd run does not change the habit: logs/ answered twice, controller/ once, so logs/ stays first.
    await fetchDstat(`${own.url}/c`, policy, check, signal);
    expect(tried("c")).toEqual(["/c/logs/dstat-csv_log.txt.gz"]);
    const none = await fetchDstat(`${own.url}/none`, policy, check, signal);
    expect(none).toEqual({ kind: "missing", urls: DEFAULT_DSTAT_PATHS.map((p) => `${own.url}/none/${p}`) });
    expect(new Set(tried("none"))).toEqual(new Set(DEFAULT_DSTAT_PATHS.map((p) => `/none/${p}`)));
  } finally {
    own.stop();
  }
}, 60_000);

test("backoff doubles per attempt and jitters within ±50 %", () => {
  expect(backoffDelay(100, 0, () => 0)).toBe(50);
  expect(backoffDelay(100, 0, () => 0.999999)).toBeCloseTo(150, 3);
  expect(backoffDelay(100, 3, () => 0.5)).toBe(800);
}, 60_000);

describe("what each answer of a log server becomes", () => {
  // Its own server, with a fresh host memory per test (each test uses its own paths on it).
  let edge: TestLogServer;
  const plain = "controller: ubuntu-jammy\n";
  beforeAll(() => {
    edge = serveLogTree({
      route(path) {
        const n = count(`edge${path}`);
        if (path === "/text/inventory.yaml") return new Response(plain);
        if (path === "/gz/inventory.yaml") return new Response(gzipSync(plain));
        if (path === "/bomb/inventory.yaml") return new Response(gzipSync(Buffer.alloc(64 * 1024, 0x20)));
        if (path === "/cut/inventory.yaml") return new Response(gzipSync(plain).subarray(0, 12));
        if (path === "/busy/inventory.yaml") return new Response(null, { status: 503 });
        if (path === "/gone/logs/dstat-csv_log.txt.gz") return new Response(null, { status: 410 });
        if (path === "/empty404/logs/dstat-csv_log.txt.gz") return new Response(null, { status: 404 });
        if (path === "/nobody/logs/dstat-csv_log.txt.gz") return new Response(null, { status: 200 });
        if (path === "/denied/logs/dstat-csv_log.txt.gz") return new Response(null, { status: 403 });
        if (path === "/slow-down/logs/dstat-csv_log.txt.gz")
          return n === 1 ? new Response("later", { status: 429 }) : new Response(REAL_GZ);
        if (path === "/too-slow/logs/dstat-csv_log.txt.gz") return n === 1 ? new Response(null, { status: 408 }) : new Response(REAL_GZ);
        if (path === "/exact/logs/dstat-csv_log.txt.gz") return new Response(REAL_GZ);
        return undefined;
      },
    });
  });
  afterAll(() => edge.stop());
  const one = (dir: string) => ({ ...policy, paths: [`${dir}/dstat-csv_log.txt.gz`] });

  test("a small text file: read as it is, gunzipped when gzip; 404 is missing; 5xx retried then failed", async () => {
    expect(await fetchLogText(`${edge.url}/text/inventory.yaml`, policy, signal)).toEqual({ kind: "found", text: plain });
    expect(await fetchLogText(`${edge.url}/gz/inventory.yaml`, policy, signal)).toEqual({ kind: "found", text: plain });
    expect(await fetchLogText(`${edge.url}/none/inventory.yaml`, policy, signal)).toEqual({
      kind: "missing",
      urls: [`${edge.url}/none/inventory.yaml`],
    });
    expect(await fetchLogText(`${edge.url}/busy/inventory.yaml`, policy, signal)).toEqual({
      kind: "failed",
      url: `${edge.url}/busy/inventory.yaml`,
      reason: "server error: HTTP 503 (after 3 attempts)",
    });
    expect(hits.get("edge/busy/inventory.yaml")).toBe(3);
  }, 60_000);

  test("a small text file that is a gzip bomb or a cut gzip is refused with the reason", async () => {
    expect(await fetchLogText(`${edge.url}/bomb/inventory.yaml`, { ...policy, maxTextBytes: 1024 }, signal)).toEqual({
      kind: "failed",
      url: `${edge.url}/bomb/inventory.yaml`,
      reason: "gzip body expands beyond 1024 bytes (limit)",
    });
    const cut = await fetchLogText(`${edge.url}/cut/inventory.yaml`, policy, signal);
    expect(cut.kind === "failed" && cut.reason).toBe("corrupt or truncated gzip (unexpected end of file)");
  }, 60_000);

  test("URLs that are not http(s), or local without leave, are refused before any request", async () => {
    const before = edge.requests.length;
    const notHttp = "log root is not an http://, https:// or file:// URL";
    expect(await fetchDstat("ftp://logs.example.org/run", policy, check, signal)).toEqual({
      kind: "failed",
      url: "ftp://logs.example.org/run",
      reason: notHttp,
    });
    expect(await fetchDstat("not a url", policy, check, signal)).toEqual({ kind: "failed", url: "not a url", reason: notHttp });
    expect(await fetchLogText("file:///etc/hostname", policy, signal)).toEqual({
      kind: "failed",
      url: "file:///etc/hostname",
      reason: "URL is a local file:// URL, read only when the run database is a local sqlite:/// file",
    });
    expect(await fetchLogText("gopher://x/y", policy, signal)).toEqual({
      kind: "failed",
      url: "gopher://x/y",
      reason: "URL is not an http://, https:// or file:// URL",
    });
    // Every URL is checked before the first is fetched.
    expect(await fetchDstatAt([`${edge.url}/exact/logs/dstat-csv_log.txt.gz`, "ftp://x/y"], policy, check, signal)).toEqual({
      kind: "failed",
      url: "ftp://x/y",
      reason: "URL is not an http://, https:// or file:// URL",
    });
    expect(edge.requests.length).toBe(before);
  }, 60_000);

  test("an https:// log root is fetched (here: nothing listens, so a connection error, retried)", async () => {
    const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const port = probe.port;
    probe.stop(true);
    const got = await fetchDstat(`https://127.0.0.1:${port}/run`, one("logs"), check, signal);
    expect(got).toEqual({
      kind: "failed",
      url: `https://127.0.0.1:${port}/run/logs/dstat-csv_log.txt.gz`,
      reason: "connection error: ECONNREFUSED (after 3 attempts)",
    });
  }, 60_000);

  test("410 is missing like 404, also with an empty body; 429 and 408 are retried", async () => {
    expect((await fetchDstat(`${edge.url}/gone`, one("logs"), check, signal)).kind).toBe("missing");
    expect((await fetchDstat(`${edge.url}/empty404`, one("logs"), check, signal)).kind).toBe("missing");
    expect(hits.get("edge/empty404/logs/dstat-csv_log.txt.gz")).toBe(1);
    const slow = await fetchDstat(`${edge.url}/slow-down`, one("logs"), check, signal);
    expect(slow.kind === "found" && slow.attempts).toBe(2);
    const late = await fetchDstat(`${edge.url}/too-slow`, one("logs"), check, signal);
    expect(late.kind === "found" && late.attempts).toBe(2);
  }, 60_000);

  test("403 says HTTP 403, once, and a 200 without a body is an empty file", async () => {
    expect(await fetchDstat(`${edge.url}/denied`, one("logs"), check, signal)).toEqual({
      kind: "failed",
      url: `${edge.url}/denied/logs/dstat-csv_log.txt.gz`,
      reason: "HTTP 403",
    });
    expect(hits.get("edge/denied/logs/dstat-csv_log.txt.gz")).toBe(1);
    expect(await fetchDstat(`${edge.url}/nobody`, one("logs"), check, signal)).toEqual({
      kind: "failed",
      url: `${edge.url}/nobody/logs/dstat-csv_log.txt.gz`,
      reason: "empty file, not a dstat CSV",
    });
  }, 60_000);

  test("a refusal or a body that is not dstat at one path does not stop the search at the next", async () => {
    // Servers of their own: on a host that already answered at logs/, that path would be asked first.
    for (const first of [new Response("no", { status: 403 }), new Response("<!DOCTYPE html><html></html>")]) {
      const own = serveLogTree({
        route(path) {
          if (path === "/r/controller/logs/dstat-csv_log.txt.gz") return first;
          if (path === "/r/logs/dstat-csv_log.txt.gz") return new Response(REAL_GZ);
          return undefined;
        },
      });
      try {
        const got = await fetchDstat(`${own.url}/r`, policy, check, signal);
        expect(got.kind === "found" && got.url).toBe(`${own.url}/r/logs/dstat-csv_log.txt.gz`);
        expect(own.requests[0]).toBe("/r/controller/logs/dstat-csv_log.txt.gz");
      } finally {
        own.stop();
      }
    }
  }, 60_000);

  test("a body of exactly maxBytes is accepted", async () => {
    const got = await fetchDstat(`${edge.url}/exact`, { ...one("logs"), maxBytes: REAL_GZ.length }, check, signal);
    expect(got.kind).toBe("found");
  }, 60_000);

  test("a check that fails on its own (a bug, not the download) is thrown, not retried", async () => {
    const before = hits.get("edge/exact/logs/dstat-csv_log.txt.gz") ?? 0;
    const broken = async () => {
      throw new RangeError("bug in the check");
    };
    await expect(fetchDstat(`${edge.url}/exact`, one("logs"), broken, signal)).rejects.toThrow("bug in the check");
    expect(hits.get("edge/exact/logs/dstat-csv_log.txt.gz")).toBe(before + 1);
  }, 60_000);

  test("an interrupted command sends no request", async () => {
    const controller = new AbortController();
    controller.abort();
    const before = edge.requests.length;
    await expect(fetchDstat(`${edge.url}/exact`, one("logs"), check, controller.signal)).rejects.toMatchObject({
      name: "AbortError",
      message: "interrupted",
    });
    expect(edge.requests.length).toBe(before);
  }, 60_000);

  test("Ctrl-C during a long backoff ends the wait at once", async () => {
    const controller = new AbortController();
    const before = edge.requests.length;
    const download = fetchDstatAt([`${edge.url}/busy/inventory.yaml`], { ...policy, backoffMs: 60_000 }, check, controller.signal);
    const deadline = Date.now() + 10_000;
    while (edge.requests.length === before && Date.now() < deadline) await Bun.sleep(5);
    controller.abort();
    // Well before the minute's backoff: a per-test deadline of 10 s holds the promise.
    await expect(download).rejects.toMatchObject({ name: "AbortError", message: "interrupted" });
  }, 10_000);
});

describe("host memory is per host", () => {
  test("a second log host starts from the given order, not from another host's habit", async () => {
    const a = serveLogTree({ route: (path) => (path === "/r/logs/dstat-csv_log.txt.gz" ? new Response(REAL_GZ) : undefined) });
    const b = serveLogTree({ route: (path) => (path === "/r/logs/dstat-csv_log.txt.gz" ? new Response(REAL_GZ) : undefined) });
    try {
      await fetchDstat(`${a.url}/r`, policy, check, signal);
      await fetchDstat(`${a.url}/r`, policy, check, signal);
      expect(a.requests).toEqual([...DEFAULT_DSTAT_PATHS.map((p) => `/r/${p}`), "/r/logs/dstat-csv_log.txt.gz"]);
      await fetchDstat(`${b.url}/r`, policy, check, signal);
      expect(b.requests).toEqual(DEFAULT_DSTAT_PATHS.map((p) => `/r/${p}`));
    } finally {
      a.stop();
      b.stop();
    }
  }, 60_000);

  test("a path that only failed is not learned", async () => {
    const own = serveLogTree({
      route(path) {
        if (path === "/x/logs/dstat-csv_log.txt.gz") return new Response("no", { status: 403 });
        if (path === "/y/controller/logs/dstat-csv_log.txt.gz") return new Response(REAL_GZ);
        return undefined;
      },
    });
    try {
      expect(await fetchDstat(`${own.url}/x`, policy, check, signal)).toMatchObject({ kind: "failed", reason: "HTTP 403" });
      await fetchDstat(`${own.url}/y`, policy, check, signal);
      expect(own.requests.filter((p) => p.startsWith("/y/"))).toEqual(["/y/controller/logs/dstat-csv_log.txt.gz"]);
    } finally {
      own.stop();
    }
  }, 60_000);
});

describe("local log trees (file://): what each file-system answer becomes", () => {
  const dir = mkdtempSync(join(tmpdir(), "ciml-local-edges-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const local = { ...policy, fileRoots: true, paths: ["logs/dstat-csv_log.txt.gz"] };
  const root = (name: string) => `${pathToFileURL(dir).href}/${name}`;

  test("a folder where the file should be is not a regular file", async () => {
    mkdirSync(join(dir, "folder/logs/dstat-csv_log.txt.gz"), { recursive: true });
    expect(await fetchDstat(root("folder"), local, check, signal)).toMatchObject({ kind: "failed", reason: "not a regular file" });
  }, 60_000);

  test("the size cap holds for local files: over is refused, exactly at it is read", async () => {
    mkdirSync(join(dir, "sized/logs"), { recursive: true });
    writeFileSync(join(dir, "sized/logs/dstat-csv_log.txt.gz"), REAL_GZ);
    expect(await fetchDstat(root("sized"), { ...local, maxBytes: REAL_GZ.length - 1 }, check, signal)).toMatchObject({
      kind: "failed",
      reason: `file is larger than the ${REAL_GZ.length - 1} bytes cap`,
    });
    expect((await fetchDstat(root("sized"), { ...local, maxBytes: REAL_GZ.length }, check, signal)).kind).toBe("found");
  }, 60_000);

  test("a file that cannot be read names the file and the error; a path through a file is missing", async () => {
    mkdirSync(join(dir, "loop/logs"), { recursive: true });
    const looped = join(dir, "loop/logs/dstat-csv_log.txt.gz");
    symlinkSync(looped, looped);
    expect(await fetchDstat(root("loop"), local, check, signal)).toMatchObject({ kind: "failed", reason: `cannot read ${looped}: ELOOP` });
    writeFileSync(join(dir, "flat"), "a file, not a folder");
    expect((await fetchDstat(root("flat"), local, check, signal)).kind).toBe("missing");
  }, 60_000);

  test("a read error of the device (EIO) is retried, then reported", async () => {
    // /proc/self/mem is a regular file whose read at offset 0 fails with EIO.
    const got = await fetchDstat("file:///proc/self", { ...local, paths: ["mem"] }, check, signal);
    expect(got).toMatchObject({ kind: "failed", reason: "read error EIO (after 3 attempts)" });
  }, 60_000);

  test("a file:// URL naming another host is refused with the reason", async () => {
    const got = await fetchDstat("file://fileserver.example.org/logs/run", local, check, signal);
    // Refused once, not retried: the URL will not get better.
    expect(got.kind === "failed" && got.reason).toBe('bad file URL (File URL host must be "localhost" or empty on linux)');
  }, 60_000);
});

describe("the small parts", () => {
  test("joinUrl puts the path under the root whatever slashes either has", () => {
    expect(joinUrl("http://h/a/", "p/q")).toBe("http://h/a/p/q");
    expect(joinUrl("http://h/a//", "//p/q")).toBe("http://h/a/p/q");
    expect(joinUrl("http://h/a?x=1#f", "p")).toBe("http://h/a/p");
  });

  test("reasonedAbort follows the outer signal until released, and says why it aborted first", () => {
    const outer = new AbortController();
    const followed = reasonedAbort(outer.signal);
    outer.abort();
    expect(followed.controller.signal.aborted).toBe(true);
    expect(followed.why()).toBe("interrupted");
    followed.abortWith("timeout: later");
    expect(followed.why()).toBe("interrupted");

    const second = new AbortController();
    const released = reasonedAbort(second.signal);
    released.release();
    second.abort();
    expect(released.controller.signal.aborted).toBe(false);
    expect(released.why()).toBe("");
  });

  test("sleep rejects at once on an aborted signal, and on an abort while it waits", async () => {
    const aborted = new AbortController();
    aborted.abort();
    await expect(sleep(60_000, aborted.signal)).rejects.toEqual(new Interrupted("interrupted"));
    const later = new AbortController();
    const waiting = sleep(60_000, later.signal);
    later.abort();
    await expect(waiting).rejects.toMatchObject({ name: "AbortError", message: "interrupted" });
    await sleep(1, new AbortController().signal);
  }, 10_000);

  test("isInterrupted knows an interruption from other errors", () => {
    expect(isInterrupted(new Interrupted("interrupted"))).toBe(true);
    expect(isInterrupted(new Error("interrupted"))).toBe(false);
  });
});
