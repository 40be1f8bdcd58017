// A runs file feeds ciml from any CI: JSONL and CSV, runs whose dstat is under a log root or at its own URL,
// over http (a log server on loopback) and file://, cached, built into a dataset and trained end to end.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileRootUrl } from "../src/io/log-tree.ts";
import { readRunList, readRunMetadata } from "../src/io/raw-cache.ts";
import { csvFields } from "../src/io/sources/runs-file.ts";
import { Workspace } from "../src/io/workspace.ts";
import { buildDataset } from "../src/pipeline/build-dataset.ts";
import { cacheData, type CacheOptions } from "../src/pipeline/cache-data.ts";
import type { PipelineEvent } from "../src/pipeline/events.ts";
import { setupExperiment } from "../src/pipeline/setup-experiment.ts";
import { generateTrace } from "../src/pipeline/simulate/trace-generator.ts";
import { trainModel } from "../src/pipeline/train-model.ts";
import { collect, collectFailure } from "./helpers/collect-events.ts";
import { serveLogTree, type TestLogServer } from "./helpers/log-server.ts";
import { disk } from "./helpers/disk.ts";

const RUNS = 30;
const T0 = Date.UTC(2025, 2, 1);
let dir: string;
let server: TestLogServer;
const ctx = { emit: (_: PipelineEvent) => {}, signal: new AbortController().signal };

interface Line {
  id: string;
  failed: boolean;
  fields: Record<string, unknown>;
}
const lines: Line[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ciml-runs-file-"));
  const logs = join(dir, "logs");
  server = serveLogTree({ root: logs });
  for (let i = 0; i < RUNS; i++) {
    const failed = i % 3 === 0;
    const id = `gha-${1000 + i}`;
    const trace = generateTrace(
      { failure: failed ? "tests" : "none", startMs: T0 + i * 3600_000, host: `runner-${i}`, intervalSeconds: 30, nodeSpeed: 1 },
      i + 1,
    );
    // Half keep the devstack layout under a log root, half upload the dstat file on its own.
    const underRoot = i % 2 === 0;
    const rel = underRoot ? `${id}/logs/dstat-csv_log.txt` : `${id}/dstat.csv`;
    mkdirSync(join(logs, rel, ".."), { recursive: true });
    writeFileSync(join(logs, rel), trace.csv);
    // http for even tens, file:// for the rest
    const base = i % 4 < 2 ? `${server.url}` : fileRootUrl(logs);
    const url = underRoot ? { log_url: `${base}/${id}` } : { dstat_url: `${base}/${rel}` };
    const status =
      i % 5 === 0 ? { result: failed ? "failure" : "success" } : { status: failed ? (i % 2 ? "failed" : 1) : i % 2 ? "passed" : 0 };
    lines.push({
      id,
      failed,
      fields: {
        id,
        ...status,
        ...url,
        run_at: i % 2 ? new Date(T0 + i * 3600_000).toISOString() : (T0 + i * 3600_000) / 1000,
        runner: i % 2 ? "ubuntu-24.04" : "ubuntu-22.04",
        note: `run ${i}, "quoted"`,
      },
    });
  }
});
afterAll(() => {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
});

// Two lines that are not test outcomes: a cancelled run and one that kept no logs.
const extra = [
  { id: "gha-cancelled", result: "cancelled", log_url: "http://127.0.0.1:9/x" },
  { id: "gha-nologs", status: "passed" },
];

function writeJsonl(path: string) {
  writeFileSync(path, `${[...lines.map((l) => l.fields), ...extra].map((f) => JSON.stringify(f)).join("\n")}\n`);
}

function writeCsv(path: string) {
  const header = ["id", "status", "result", "log_url", "dstat_url", "run_at", "runner", "note"];
  const quote = (v: unknown) =>
    v === undefined || v === null ? "" : /[",]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v);
  const rows = [...lines.map((l) => l.fields), ...extra].map((f) => header.map((h) => quote((f as Record<string, unknown>)[h])).join(","));
  writeFileSync(path, `${header.join(",")}\n${rows.join("\n")}\n`);
}

const cacheOptions = (data: string, runsFile: string): CacheOptions => ({
  dataPath: join(dir, data),
  buildName: "unit-tests",
  runsFile,
  limit: 0,
  parallel: 4,
  timeoutSeconds: 20,
  fetch: { retries: 1, backoffMs: 10 },
});

async function endToEnd(data: string, runsFile: string) {
  const { result } = await collect(cacheData, cacheOptions(data, runsFile));
  expect(result).toMatchObject({ total: RUNS + 2, cached: RUNS, failed: 0, unavailable: 0, stored: RUNS });
  expect(result.excluded).toEqual({ cancelled: 1, "no log_url": 1 });
  const ws = new Workspace(join(dir, data));
  expect(await readRunList(disk, ws.buildRuns("unit-tests"))).toEqual(lines.map((l) => l.id).sort());
  for (const [i, l] of lines.entries()) {
    expect(await readRunMetadata(ws, l.id)).toMatchObject({
      status: l.failed ? 1 : 0,
      run_at: new Date(T0 + i * 3600_000).toISOString().slice(0, 19).replace("T", " "),
      build_name: "unit-tests",
      runner: i % 2 ? "ubuntu-24.04" : "ubuntu-22.04",
      note: `run ${i}, "quoted"`,
    });
  }
  const dataset = await buildDataset(
    {
      dataPath: join(dir, data),
      dataset: "usr-status",
      buildName: "unit-tests",
      slicer: ":",
      sampleInterval: "1min",
      featuresRegex: "(usr|1m)",
      classLabel: "status",
      tdtSplit: ["6", "2", "2"],
      force: false,
      visualize: false,
      dataPlotsFolder: dir,
      aggregationFunctions: [],
      dtype: "float32",
      splitOrder: "time",
    },
    ctx,
  );
  expect(dataset.examples).toEqual({ training: 18, dev: 6, test: 6 });
  await setupExperiment(
    {
      dataPath: join(dir, data),
      experiment: "small",
      estimator: "dnn",
      hiddenLayers: "8/8",
      steps: 200,
      batchSize: 8,
      epochs: 5,
      optimizer: "Adagrad",
      learningRate: 0.05,
    },
    ctx,
  );
  const trained = await trainModel({ dataPath: join(dir, data), dataset: "usr-status", experiment: "small" }, ctx);
  expect(trained.evaluations["usr-status"]?.accuracy).toBeGreaterThanOrEqual(0);
  expect(trained.steps).toBeGreaterThan(0);
}

describe("--runs-file", () => {
  test("JSONL with http and file URLs: cached, built by time and trained", async () => {
    const path = join(dir, "runs.jsonl");
    writeJsonl(path);
    await endToEnd("jsonl", path);
  }, 180_000);

  test("CSV, the same runs: cached, built by time and trained", async () => {
    const path = join(dir, "runs.csv");
    writeCsv(path);
    await endToEnd("csv", path);
  }, 180_000);

  test("a bad line stops the command before any download, naming the line and the fix", async () => {
    const path = join(dir, "bad.jsonl");
    writeFileSync(path, `${JSON.stringify(lines[0]!.fields)}\n{"id": "x", "status": "maybe", "log_url": "http://h/x"}\n`);
    const before = server.requests.length;
    const { error } = await collectFailure(cacheData, cacheOptions("bad", path));
    expect(error.message).toBe(`${path}:2: status "maybe": give passed or failed (or 0 or 1), or a result instead`);
    expect(server.requests.length).toBe(before);
    const csv = join(dir, "bad.csv");
    writeFileSync(csv, "id,status,log_url\nr1,passed,ftp://h/x\n");
    expect((await collectFailure(cacheData, cacheOptions("bad", csv))).error.message).toBe(
      `${csv}:2: log_url ftp://h/x: only http://, https:// and file:// URLs are fetched`,
    );
    const txt = join(dir, "runs.txt");
    writeFileSync(txt, "");
    const e = (await collectFailure(cacheData, cacheOptions("bad", txt))).error as Error & { exitCode: number };
    expect([e.message, e.exitCode]).toEqual([`--runs-file ${txt}: name it .jsonl (one JSON object a line) or .csv (a header row)`, 2]);
  });

  test("CSV fields: quotes, doubled quotes, empty fields", () => {
    expect(csvFields('a,"b, c","say ""hi""",,e', "t")).toEqual(["a", "b, c", 'say "hi"', "", "e"]);
    expect(() => csvFields('a,"open', "f.csv:3")).toThrow("f.csv:3: a quoted field has no closing quote");
  });
});
