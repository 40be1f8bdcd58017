// Ctrl-C through the CLI for the long commands cli-interrupt.test.ts does not cover: build-dataset in the
// middle of reading its traces and db-batch-predict in the middle of its downloads. Each must stop with
// exit 130, leave no half-written file, and the same command run again must complete.
// (mqtt-trainer's Ctrl-C, which drains and exits 0, and its second Ctrl-C are in cli-mqtt-promises.test.ts.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzip, gzip } from "../src/io/gzip-json.ts";
import { sqliteHistory, type HistoryDb } from "./helpers/ci-history.ts";
import { interruptWhen, type JsonEvent } from "./helpers/interrupt.ts";
import { serveLogTree, type TestLogServer } from "./helpers/log-server.ts";
import { BUILD_NAME, syntheticRun } from "./helpers/trained-workspace.ts";
import { uuidFor, writeCache } from "./dataset-cache.ts";

const MAIN = join(import.meta.dir, "../src/main.ts");
const root = mkdtempSync(join(tmpdir(), "ciml-interrupt-long-"));
/** Enough cached runs that reading them takes a few seconds, and as many more to predict. */
const CACHED = 600;
const TO_PREDICT = 240;

/** One trace per class, shared by every run of it: making 800 distinct traces would cost more than the test. */
const traces = [syntheticRun(1).trace, syntheticRun(0).trace].map((t) => gzip(new TextEncoder().encode(t)));
const statusOf = (i: number): 0 | 1 => (i % 3 === 0 ? 1 : 0);

let history: HistoryDb;
let logs: TestLogServer;

beforeAll(async () => {
  await writeCache(
    root,
    BUILD_NAME,
    Array.from({ length: CACHED }, (_, i) => ({ uuid: uuidFor(i), trace: traces[statusOf(i)], status: statusOf(i) })),
  );
  // Every answer a little late, as over a real network: the downloads take long enough to interrupt.
  logs = serveLogTree({
    latencyMs: 40,
    route: (path) => {
      const i = Number.parseInt(path.split("/")[1]?.slice(-12) ?? "", 16);
      return path.endsWith("/logs/dstat-csv_log.txt.gz") && i >= CACHED ? new Response(traces[statusOf(i)]) : undefined;
    },
  });
  history = await sqliteHistory();
  await history.add(
    Array.from({ length: CACHED + TO_PREDICT }, (_, i) => ({
      uuid: uuidFor(i),
      status: statusOf(i),
      metadata: { build_name: BUILD_NAME, build_uuid: `b${i.toString(16).padStart(31, "0")}` },
    })),
    logs.url,
  );
}, 120_000);

afterAll(async () => {
  logs.stop();
  await history.drop();
  rmSync(root, { recursive: true, force: true });
});

async function ciml(...args: string[]) {
  const p = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd: root,
    env: { ...process.env, CI: "true" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

const tempFiles = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).filter((n) => n.includes(".tmp-"));
const working = (stage: string) => (e: JsonEvent) => e.type === "progress" && e.stage === stage && (e.done as number) > 0;

describe("Ctrl-C through the CLI", () => {
  const build = ["build-dataset", "--data-path", ".", "--dataset", "ds", "--sample-interval", "1min", "--features-regex", "^(usr|1m)$"];

  test("build-dataset stops with 130 while reading traces, keeps no part of the dataset; run again, it completes", async () => {
    const r = await interruptWhen([process.execPath, MAIN, ...build, "--json"], root, working("training"));
    console.log(`build-dataset ended ${r.ms.toFixed(0)} ms after SIGINT`);
    expect(r.code).toBe(130);
    expect(r.events.at(-1)).toMatchObject({ type: "error", exitCode: 130 });
    expect(r.events.some((e) => e.type === "result")).toBe(false);
    expect(existsSync(join(root, "ds"))).toBe(false);
    expect(tempFiles(root)).toEqual([]);

    const again = await ciml(...build, "--no-tui");
    expect(again.err).toBe("");
    expect(again.code).toBe(0);
    expect(again.out).toContain(
      `build-dataset done: dataset=ds training=${CACHED * 0.6} dev=${CACHED * 0.2} test=${CACHED * 0.2} excluded=0`,
    );
  }, 120_000);

  test("db-batch-predict stops with 130 mid-download, every cached trace whole; run again, it predicts them all", async () => {
    for (const args of [
      ["setup-experiment", "--data-path", ".", "--experiment", "dnn", "--hidden-layers", "8", "--epochs", "2"],
      ["train-model", "--data-path", ".", "--dataset", "ds", "--experiment", "dnn"],
    ])
      expect((await ciml(...args, "--no-tui")).code).toBe(0);
    const predict = ["db-batch-predict", "--data-path", ".", "--dataset", "ds", "--experiment", "dnn", "--db-uri", history.uri];
    const r = await interruptWhen([process.execPath, MAIN, ...predict, "--json"], root, working("predict"));
    console.log(`db-batch-predict ended ${r.ms.toFixed(0)} ms after SIGINT`);
    expect(r.code).toBe(130);
    expect(r.events.at(-1)).toMatchObject({ type: "error", exitCode: 130 });
    expect(r.events.some((e) => e.type === "result")).toBe(false);
    expect(tempFiles(root)).toEqual([]);
    const raw = join(root, ".raw");
    const cached = readdirSync(raw).filter((f) => f.endsWith(".csv.gz"));
    expect(cached.length).toBeGreaterThan(CACHED);
    expect(cached.length).toBeLessThan(CACHED + TO_PREDICT);
    for (const f of cached) expect(new TextDecoder().decode(gunzip(readFileSync(join(raw, f))))).toStartWith('"Dstat');

    const again = await ciml(...predict, "--no-tui");
    expect(again.code).toBe(0);
    expect(again.out).toContain(`All runs: ${CACHED + TO_PREDICT}, dataset size: ${CACHED}, predict size: ${TO_PREDICT}`);
    expect(again.out).toContain(`Prediction of ${TO_PREDICT} inputs completed.`);
  }, 120_000);
});
