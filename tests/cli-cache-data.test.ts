// The README's walk-through as a user types it: `ciml simulate` then `ciml cache-data`, as subprocesses,
// checking exit codes and what they print; Ctrl-C half-way through a download; a refused DB password.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { serveLogTree } from "./helpers/log-server.ts";
import { cimlEnv, MAIN, runCiml } from "./helpers/run-ciml.ts";

const dir = mkdtempSync(join(tmpdir(), "ciml-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Asynchronous, so this process keeps serving the child's log server while it runs. */
const ciml = (cwd: string, ...args: string[]) => runCiml(args, cwd);

function traceFiles(dataDir: string): string[] {
  return readdirSync(join(dataDir, ".raw")).filter((f) => /^[0-9a-f-]{36}\.csv\.gz$/.test(f));
}

describe("ciml simulate → ciml cache-data (README walk-through)", () => {
  test("simulate writes the database and log tree; cache-data caches them and says so", async () => {
    const sim = await ciml(
      dir,
      "simulate",
      "--runs",
      "60",
      "--db-uri",
      "sqlite:///ci.db",
      "--log-root",
      "./logs",
      "--interval",
      "30",
      "--seed",
      "3",
    );
    expect(sim.code).toBe(0);
    expect(sim.out).toMatch(/^Wrote 60 runs \(\d+ failed, \d+ without dstat\) to sqlite:\/\/\/ci\.db; logs under \.\/logs$/m);
    expect(existsSync(join(dir, "ci.db"))).toBe(true);

    const cache = await ciml(dir, "cache-data", "--build-name", "tempest-full", "--db-uri", "sqlite:///ci.db");
    expect(cache.code).toBe(0);
    expect(cache.err).toBe("");
    expect(cache.out).toContain("Obtained 60 runs named tempest-full from the DB");
    const stored = Number(/^Stored (\d+) run IDs in \.raw for build name tempest-full$/m.exec(cache.out)?.[1]);
    expect(stored).toBeGreaterThan(50);
    expect(cache.out).toMatch(/^cache: 60\/60 runs \(100%\) .* cached=\d+ already=0 unavailable=\d+ failed=0$/m);
    expect(traceFiles(join(dir, "data"))).toHaveLength(stored);
  }, 60_000);

  test("--json: one JSON object per line, ending with the summary", async () => {
    const r = await ciml(dir, "cache-data", "--db-uri", "sqlite:///ci.db", "--json");
    expect(r.code).toBe(0);
    const events = r.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const result = events.find((e) => e.type === "result");
    expect(result.summary).toMatchObject({ total: 60, cached: 0, failed: 0 });
    expect(result.summary.already).toBe(traceFiles(join(dir, "data")).length);
  });

  test("flag mistakes are usage errors (exit 2) with one line", async () => {
    const r = await ciml(dir, "cache-data", "--db-uri", "sqlite:///ci.db", "--parallel", "0");
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toEqual(["error: --parallel 0: give a whole number from 1 to 64"]);
    const s = await ciml(dir, "simulate", "--runs", "5", "--failure-rate", "1.5");
    expect(s.code).toBe(2);
  });

  test("a refused DB password: one line, the password masked, exit 1", async () => {
    const r = await ciml(dir, "cache-data", "--db-uri", "mysql+pymysql://root:Very-Secret-9@127.0.0.1:3306/subunit2sql");
    expect(r.code).toBe(1);
    expect(r.err.trim().split("\n")).toEqual([
      'error: database mysql+pymysql://root:***@127.0.0.1:3306/subunit2sql: access denied for user "root" (wrong user or password)',
    ]);
    expect(r.out + r.err).not.toContain("Very-Secret-9");
  });

  test("Ctrl-C half-way over HTTP: exit 130, no partial file; the next run completes the cache", async () => {
    const work = join(dir, "http");
    const server = serveLogTree({ root: join(work, "logs"), latencyMs: 40 });
    try {
      const sim = await ciml(
        dir,
        "simulate",
        "--runs",
        "80",
        "--db-uri",
        "sqlite:///http/ci.db",
        "--log-root",
        "./http/logs",
        "--log-url",
        server.url,
        "--interval",
        "30",
        "--missing-rate",
        "0",
      );
      expect(sim.code).toBe(0);
      const child = Bun.spawn([process.execPath, MAIN, "cache-data", "--db-uri", "sqlite:///ci.db", "--parallel", "2", "--json"], {
        cwd: work,
        env: cimlEnv(),
        stdout: "pipe",
        stderr: "pipe",
      });
      const decoder = new TextDecoder();
      let seen = "";
      let interrupted = false;
      // Keep reading to the end: a closed pipe would fail the child's next write instead of testing Ctrl-C.
      for await (const chunk of child.stdout) {
        seen += decoder.decode(chunk);
        const cached = [...seen.matchAll(/"cached":(\d+)/g)].map((m) => Number(m[1]));
        if (!interrupted && cached.some((n) => n >= 10)) {
          child.kill("SIGINT");
          interrupted = true;
        }
      }
      expect(await child.exited).toBe(130);
      expect(seen.trim().split("\n").at(-1)).toContain('"type":"error"');
      const data = join(work, "data");
      const partial = [...readdirSync(join(data, ".raw")), ...readdirSync(join(data, ".metadata"))].filter((f) => f.includes(".tmp-"));
      expect(partial).toEqual([]);
      const done = traceFiles(data);
      expect(done.length).toBeGreaterThanOrEqual(10);
      expect(done.length).toBeLessThan(80);
      for (const f of done) expect(gunzipSync(readFileSync(join(data, ".raw", f))).toString()).toStartWith('"Dstat 0.7.2 CSV output"');

      const again = await ciml(work, "cache-data", "--db-uri", "sqlite:///ci.db");
      expect(again.code).toBe(0);
      expect(again.out).toContain("Stored 80 run IDs in .raw for build name tempest-full");
      expect(traceFiles(data)).toHaveLength(80);
    } finally {
      server.stop();
    }
  }, 60_000);
});
