// cache-data's download promises, through the CLI as a user runs it against a real HTTP log server:
// 408 and 429 are retried, --dstat-path replaces the default paths, --timeout bounds one download,
// and --limit never starts downloads it cannot use.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { serveLogTree, type TestLogServer } from "./helpers/log-server.ts";

const MAIN = join(import.meta.dir, "../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "ciml-cli-fetch-"));
const RUNS = 24;

function env() {
  const e: Record<string, string | undefined> = { ...process.env, CI: "true" };
  delete e.CIML_DB_URI;
  delete e.CIML_DATA_PATH;
  return e;
}

/** Runs ciml without blocking this process, which serves the child's log server. */
async function ciml(...args: string[]) {
  const p = Bun.spawn([process.execPath, MAIN, ...args], { cwd: dir, env: env(), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

/** The log directories of the simulated runs, as URL paths (`/00/612200/11/gate/tempest-full/a6202f1`). */
function runDirs(): string[] {
  const logs = join(dir, "logs");
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      if (e.name === "logs") found.push(`/${relative(logs, d)}`);
      else walk(join(d, e.name));
    }
  };
  walk(logs);
  return found.sort();
}

let server: TestLogServer;
let dirs: string[] = [];
/** Run directories whose first answers are these statuses, in order, before the file is served. */
const troubles = new Map<string, number[]>();
const stalled = new Set<string>();

beforeAll(async () => {
  server = serveLogTree({
    root: join(dir, "logs"),
    route(path) {
      const run = dirs.find((d) => path.startsWith(`${d}/`));
      if (!run) return undefined;
      const queue = troubles.get(run);
      if (queue?.length) {
        const status = queue.shift()!;
        return new Response("try later", { status, headers: status === 429 ? { "retry-after": "0" } : {} });
      }
      if (stalled.has(run)) return new Response(new ReadableStream({ start: (c) => c.enqueue(new Uint8Array([0x1f, 0x8b])) }));
      return undefined;
    },
  });
  const sim = await ciml(
    "simulate",
    "--runs",
    String(RUNS),
    "--missing-rate",
    "0",
    "--db-uri",
    "sqlite:///ci.db",
    "--log-root",
    "./logs",
    "--log-url",
    server.url,
    "--interval",
    "30",
  );
  expect(sim.code).toBe(0);
  dirs = runDirs();
  expect(dirs).toHaveLength(RUNS);
}, 60_000);
afterAll(() => {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const runsRequested = (from: number) => new Set(server.requests.slice(from).map((p) => dirs.find((d) => p.startsWith(`${d}/`)))).size;

describe("cache-data against an HTTP log server", () => {
  test("--limit 5 with --parallel 8 downloads exactly five runs", async () => {
    const before = server.requests.length;
    const r = await ciml("cache-data", "--db-uri", "sqlite:///ci.db", "--data-path", "limited", "--limit", "5", "--parallel", "8");
    expect(r.code).toBe(0);
    expect(r.out).toContain("Stored 5 run IDs in .raw for build name tempest-full");
    expect(runsRequested(before)).toBe(5);
  }, 60_000);

  test("408 and 429 are answers to wait for: retried, then the run is cached", async () => {
    const run = dirs[0]!;
    troubles.set(run, [408, 429]);
    const before = server.requests.length;
    const r = await ciml(
      "cache-data",
      "--db-uri",
      "sqlite:///ci.db",
      "--data-path",
      "retried",
      "--dstat-path",
      "logs/dstat-csv_log.txt.gz",
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/cached=24 already=0 unavailable=0 failed=0$/m);
    expect(server.requests.slice(before).filter((p) => p.startsWith(`${run}/`))).toEqual(Array(3).fill(`${run}/logs/dstat-csv_log.txt.gz`));
  }, 60_000);

  test("--dstat-path replaces the four default paths: one request per run", async () => {
    const before = server.requests.length;
    const r = await ciml("cache-data", "--db-uri", "sqlite:///ci.db", "--data-path", "custom", "--dstat-path", "logs/dstat-csv_log.txt.gz");
    expect(r.code).toBe(0);
    const asked = server.requests.slice(before);
    expect(asked).toHaveLength(RUNS);
    for (const p of asked) expect(p.endsWith("/logs/dstat-csv_log.txt.gz") && !p.includes("/controller/")).toBe(true);
  }, 60_000);

  test("--timeout bounds each download: a stalled one is reported and left for the next run", async () => {
    const run = dirs[1]!;
    stalled.add(run);
    const r = await ciml(
      "cache-data",
      "--db-uri",
      "sqlite:///ci.db",
      "--data-path",
      "timed",
      "--dstat-path",
      "logs/dstat-csv_log.txt.gz",
      "--timeout",
      "1",
    );
    stalled.delete(run);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/cached=23 already=0 unavailable=0 failed=1$/m);
    expect(r.err).toMatch(/timeout: no complete file within 1 s \(after 4 attempts\)/);
  }, 90_000);
});
