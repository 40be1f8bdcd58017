// docs/troubleshooting.md, row by row, as the user meets it: each row's "you see" text is read from the
// page itself and must match, as a whole line, what the command really prints (`…` and `<name>` stand for
// any text). A new row without a scenario here fails the test, and so does a message that drifts from it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { readJsonGz } from "../src/io/gzip-json.ts";
import { disk } from "./helpers/disk.ts";
import { serveLogTree, type TestLogServer } from "./helpers/log-server.ts";
import { cimlEnv, MAIN, type Outcome, runCiml, simulateArgs } from "./helpers/run-ciml.ts";

const dir = mkdtempSync(join(tmpdir(), "ciml-troubleshooting-"));
const PAGE = readFileSync(join(import.meta.dir, "../docs/troubleshooting.md"), "utf8");

/** The first cell of every row of the table, header and rule left out. */
const ROWS = PAGE.split("\n")
  .filter((l) => l.startsWith("| ") && !l.startsWith("| you see"))
  .map((l) => l.slice(2, l.indexOf(" | ")));
/** Rows no test can show: they happen on another system. */
const ELSEWHERE = ["a binary that does not start on macOS"];

const codeSpans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** A span of the page as a pattern: a whole line for `error: …`/`warning: …`, else a word of a line. */
function pattern(span: string): RegExp {
  const body = span
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/…/g, ".+")
    .replace(/<[a-z]+>/g, ".+");
  return /^(error|warning): /.test(span) ? new RegExp(`^${body}$`) : new RegExp(`(^| )${body}( |$)`);
}

/** Runs ciml without blocking this process, which serves the child's log server. */
const ciml = (...args: string[]): Promise<Outcome> => runCiml(args, dir);

/** Runs ciml and sends Ctrl-C once it has printed its first line. */
async function interrupted(...args: string[]): Promise<Outcome> {
  const p = Bun.spawn([process.execPath, MAIN, ...args], { cwd: dir, env: cimlEnv(), stdout: "pipe", stderr: "pipe" });
  const reader = p.stdout.getReader();
  let out = "";
  // A deadline: a command that prints nothing is killed, and the test fails on its exit code.
  const tooLate = setTimeout(() => p.kill("SIGKILL"), 30_000);
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  clearTimeout(tooLate);
  p.kill("SIGINT");
  const guard = setTimeout(() => p.kill("SIGKILL"), 15_000);
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  clearTimeout(guard);
  return { code, out, err };
}

let logs: TestLogServer;
/** A loopback port that accepts connections and never says a word: a database that does not answer. */
let silent: Bun.TCPSocketListener<undefined>;
let cacheData: Outcome;
let unavailable: string[];

beforeAll(async () => {
  const runDirs = () => {
    const found: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true }))
        if (e.isDirectory()) e.name === "logs" ? found.push(`/${relative(join(dir, "logs"), d)}/`) : walk(join(d, e.name));
    };
    walk(join(dir, "logs"));
    return found.sort();
  };
  let html = "";
  let stalled = "";
  logs = serveLogTree({
    root: join(dir, "logs"),
    route(path) {
      if (html && path.startsWith(html))
        return new Response("<html><body>Service Unavailable</body></html>", { headers: { "content-type": "text/html" } });
      // No answer at all: the default first-answer clock runs out, and the run is left for next time.
      if (stalled && path.startsWith(stalled)) return new Promise<Response>(() => undefined);
      return undefined;
    },
  });
  silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const sim = await ciml(...simulateArgs(40, 0.2, "sqlite:///ci.db", logs.url));
  expect(sim.code).toBe(0);
  [html = "", stalled = ""] = runDirs();
  cacheData = await ciml("cache-data", "--db-uri", "sqlite:///ci.db", "--no-tui");
  unavailable = (await readJsonGz(disk, join(dir, "data", ".raw", ".unavailable", "tempest-full.json.gz"))) as string[];
  // A cached trace that went bad: build-dataset leaves it out and says so.
  const raw = join(dir, "data", ".raw");
  const victim = readdirSync(raw).find((f) => f.endsWith(".csv.gz"))!;
  writeFileSync(join(raw, victim), "not gzip");
  const ok = await ciml("setup-experiment", "--experiment", "dnn", "--hidden-layers", "8", "--epochs", "1");
  expect(ok.code).toBe(0);
}, 120_000);

afterAll(() => {
  logs.stop();
  silent.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const BUILD = ["build-dataset", "--sample-interval", "1min", "--features-regex", "^(usr|1m)$", "--no-tui"];

/** One way to meet each row, keyed by the row's first span; the exit code the row promises. */
const SCENARIOS: Record<string, { code: number; run: () => Promise<Outcome> }> = {
  "error: database mysql+pymysql://<user>:***@<host>/<db>: no answer within the connect timeout (host down or firewalled?)": {
    code: 1,
    run: () => ciml("cache-data", "--db-uri", `mysql+pymysql://ciml:secret@127.0.0.1:${silent.port}/subunit2sql`),
  },
  "error: database …: connection refused (is the server running, and on this port?)": {
    code: 1,
    run: () => ciml("cache-data", "--db-uri", "mysql+pymysql://ciml:secret@127.0.0.1:1/subunit2sql"),
  },
  'error: database …: access denied for user "<user>" (wrong user or password)': {
    code: 1,
    run: () => ciml("cache-data", "--db-uri", "mysql+pymysql://root:not-the-password@127.0.0.1:3306/mysql"),
  },
  "error: database sqlite:///ci.db: the file … does not exist; …": {
    code: 1,
    run: async () => {
      const elsewhere = mkdtempSync(join(dir, "empty-"));
      return runCiml(["cache-data", "--db-uri", "sqlite:///ci.db"], elsewhere);
    },
  },
  "error: database URI …: …; expected mysql+pymysql://…": {
    code: 2,
    run: () => ciml("cache-data", "--db-uri", "postgres://ciml:secret@db.example.org/subunit2sql"),
  },
  "warning: <run>: <reason> (<url>); not cached, the next cache-data will try again": { code: 0, run: async () => cacheData },
  "unavailable=<n>": { code: 0, run: async () => cacheData },
  "error: Dataset <name> already configured in …; use --force to overwrite it": {
    code: 1,
    run: async () => {
      expect((await ciml(...BUILD, "--dataset", "twice")).code).toBe(0);
      return ciml(...BUILD, "--dataset", "twice");
    },
  },
  'error: --features-regex "…" matches no column of run … (its columns: …)': {
    code: 1,
    run: () => ciml("build-dataset", "--dataset", "none", "--features-regex", "^gpu$"),
  },
  "warning: run <run> (<set>) excluded: <reason>": { code: 0, run: () => ciml(...BUILD, "--dataset", "ds") },
  "error: Experiment <name> not found in …; create it with …": {
    code: 1,
    run: () => ciml("train-model", "--dataset", "ds", "--experiment", "missing"),
  },
  'error: backend "tensorflow" needs @tensorflow/tfjs-node, which is not installed: …': {
    code: 1,
    run: () => ciml("train-model", "--dataset", "ds", "--experiment", "dnn", "--backend", "tensorflow"),
  },
  "error: --s3-url and --s3-profile need an s3://BUCKET[/PREFIX] data path; … is a local folder": {
    code: 2,
    run: () => ciml("build-dataset", "--dataset", "s3", "--s3-url", "https://s3.example.org"),
  },
  "error: cannot reach the S3 endpoint … (…); check --s3-url and that the server is up": {
    code: 1,
    run: async () => {
      // Port 1 on loopback: nothing listens there. The keys are placeholders, never shown.
      const r = await runCiml(["build-dataset", "--data-path", "s3://ciml/team", "--s3-url", "http://127.0.0.1:1"], dir, {
        AWS_ACCESS_KEY_ID: "AKIATROUBLESHOOTING",
        AWS_SECRET_ACCESS_KEY: "troubleshooting-secret",
      });
      expect(`${r.out}${r.err}`).not.toContain("troubleshooting-secret");
      return r;
    },
  },
  "error: interrupted; nothing half-written was kept, run the command again to resume": {
    code: 130,
    run: () => interrupted("simulate", "--no-tui", "--runs", "100000", "--db-uri", "sqlite:///long.db", "--log-root", "long-logs"),
  },
};

describe("docs/troubleshooting.md", () => {
  test("every row of the table has a scenario below, and every scenario a row", () => {
    const firsts = ROWS.filter((r) => !ELSEWHERE.includes(r)).map((r) => codeSpans(r)[0]);
    expect(firsts.sort()).toEqual(Object.keys(SCENARIOS).sort());
  });

  test.each(ROWS.filter((r) => !ELSEWHERE.includes(r)).map((r) => [r]))(
    "%s",
    async (row) => {
      const scenario = SCENARIOS[codeSpans(row)[0]!]!;
      const r = await scenario.run();
      const lines = `${r.err}\n${r.out}`.split("\n");
      for (const span of codeSpans(row)) {
        const matching = lines.filter((l) => pattern(span).test(l));
        expect({ span, matching: matching.length > 0 }).toEqual({ span, matching: true });
      }
      expect(r.code).toBe(scenario.code);
      // Errors are exactly one line on stderr.
      if (scenario.code !== 0) expect(r.err.split("\n").filter(Boolean)).toHaveLength(1);
    },
    60_000,
  );

  test("the runs behind unavailable=<n> are listed in .raw/.unavailable/<build_name>.json.gz; the ones that failed are not", () => {
    const n = Number(/^cache-data done: .* unavailable=(\d+) /m.exec(cacheData.out)?.[1]);
    expect(n).toBeGreaterThan(0);
    expect(unavailable).toHaveLength(n);
    const warned = [...cacheData.err.matchAll(/^warning: ([0-9a-f-]{36}): /gm)].map((m) => m[1]);
    // The HTML page and the server that never answers (its first-answer clock at the default 3.05 s).
    expect(cacheData.err).toMatch(/: an HTML page, not a dstat CSV \(an error page from the log server\?\) \(http:\/\/.+\); not cached/);
    expect(cacheData.err).toMatch(/: timeout: no response within 3\.05 s \(after 4 attempts\) \(http:\/\/.+\); not cached/);
    expect(warned.length).toBe(2);
    for (const run of warned) expect(unavailable).not.toContain(run);
  });
});
