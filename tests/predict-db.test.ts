// db-predict and db-batch-predict against a real subunit2sql database, a loopback log server and a model
// trained in the test: the original's lines, the scored summary, --json, and the CLI wiring.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dbBatchPredict } from "../src/pipeline/db-batch-predict.ts";
import { dbPredict } from "../src/pipeline/db-predict.ts";
import { writeRunList } from "../src/io/raw-cache.ts";
import type { PipelineEvent } from "../src/pipeline/events.ts";
import { MqttTestClient } from "./helpers/mqtt-collector.ts";
import type { PredictionMessage } from "../src/pipeline/predict/prediction-message.ts";
import { LogServer, mariadbHistory, sqliteHistory, type HistoryDb, type HistoryRun } from "./helpers/ci-history.ts";
import { collect, collectFailure } from "./helpers/collect-events.ts";
import { serveLogTree } from "./helpers/log-server.ts";
import { gzip, readJsonGz, writeJsonGz } from "../src/io/gzip-json.ts";
import { BUILD_NAME, buildUuidFor, DATASET, EXPERIMENT, syntheticRun, trainedWorkspace } from "./helpers/trained-workspace.ts";
import { disk } from "./helpers/disk.ts";
import { cimlEnv, MAIN, runCiml } from "./helpers/run-ciml.ts";

const CACHED = 90;
const RUNS = 140;

let trained: string;
const logs = new LogServer();
const dbs: HistoryDb[] = [];
const dirs: string[] = [];

function historyRuns(): HistoryRun[] {
  return Array.from({ length: RUNS }, (_, i) => ({
    uuid: syntheticRun(i).uuid,
    status: syntheticRun(i).status,
    metadata: { build_name: BUILD_NAME, build_uuid: buildUuidFor(i) },
  }));
}

beforeAll(async () => {
  trained = mkdtempSync(join(tmpdir(), "ciml-predict-db-"));
  await trainedWorkspace(trained, CACHED);
  for (let i = 0; i < RUNS; i++) logs.addTrace(syntheticRun(i).uuid, syntheticRun(i).trace);
}, 120_000);

afterAll(async () => {
  for (const db of dbs) await db.drop();
  logs.stop();
  for (const d of [trained, ...dirs]) rmSync(d, { recursive: true, force: true });
}, 60_000);

function workspaceCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "ciml-predict-db-ws-"));
  cpSync(trained, dir, { recursive: true });
  dirs.push(dir);
  return dir;
}

/** The CLI as a child process; asynchronous, because the log server it talks to runs in this process. */
const ciml = (...args: string[]) => runCiml(args, process.cwd());

/** The flags every prediction command takes: where the workspace, database, dataset and model are. */
const modelFlags = (dataPath: string, dbUri: string) => [
  "--data-path",
  dataPath,
  "--db-uri",
  dbUri,
  "--dataset",
  DATASET,
  "--experiment",
  EXPERIMENT,
];

const lines = (events: PipelineEvent[]) =>
  events.flatMap((e) => (e.type === "info" ? [e.message] : e.type === "result" ? (e.lines ?? []) : []));

describe.each([
  ["SQLite", () => sqliteHistory()],
  ["MariaDB", () => mariadbHistory("predictdb")],
] as const)("db-batch-predict with %s", (_name, open) => {
  let db: HistoryDb;
  beforeAll(async () => {
    db = await open();
    dbs.push(db);
    await db.add(historyRuns(), logs.root);
  }, 60_000);

  test("predicts the runs the dataset lacks, prints the original's lines, and agrees with db-predict", async () => {
    const dataPath = workspaceCopy();
    const { result, events } = await collect(dbBatchPredict, {
      dataPath,
      dbUri: db.uri,
      dataset: DATASET,
      experiment: EXPERIMENT,
      slice: ":30",
      parallel: 4,
    });
    expect(result.predictions.map((p) => p.runUuid)).toEqual(Array.from({ length: 30 }, (_, k) => syntheticRun(CACHED + k).uuid));
    const actual = result.predictions.map((p) => p.actualClass);
    expect(actual).toEqual(result.predictions.map((p) => String(syntheticRun(Number.parseInt(p.buildUuid!.slice(1), 16)).status)));
    const wrong = result.predictions.filter((p) => p.predictedClass !== p.actualClass);
    const out = lines(events);
    expect(out).toContain(`All runs: ${RUNS}, dataset size: ${CACHED}, predict size: 30`);
    expect(out).toContain("Prediction of 30 inputs completed.");
    expect(out).toContain(
      `Input set composition: ${actual.filter((c) => c === "0").length} PASS, ${actual.filter((c) => c === "1").length} FAIL`,
    );
    expect(out).toContain(
      wrong.length === 0
        ? "All predicted correctly."
        : `There were some prediction errors: [${wrong.map((p) => `(${p.predictedClass}, ${p.actualClass})`).join(", ")}]`,
    );
    expect(result.accuracy).toBeCloseTo((30 - wrong.length) / 30, 10);
    expect(result.accuracy!).toBeGreaterThan(0.8);
    // rows = actual, columns = predicted
    const count = (a: string, p: string) => result.predictions.filter((x) => x.actualClass === a && x.predictedClass === p).length;
    expect(result.confusionMatrix).toEqual([
      [count("0", "0"), count("0", "1")],
      [count("1", "0"), count("1", "1")],
    ]);
    const summary = events.find((e) => e.type === "result");
    expect(summary?.type === "result" && summary.summary).toMatchObject({
      all_runs: RUNS,
      dataset_size: CACHED,
      predicted: 30,
      accuracy: result.accuracy,
      confusion_matrix: result.confusionMatrix,
    });

    const pristine = workspaceCopy();
    for (const p of result.predictions.slice(0, 4)) {
      const { result: single } = await collect(dbPredict, {
        dataPath: pristine,
        dbUri: db.uri,
        dataset: DATASET,
        experiment: EXPERIMENT,
        buildUuid: p.buildUuid!,
        buildName: BUILD_NAME,
      });
      expect(single.predictions).toHaveLength(1);
      expect(single.predictions[0]!.predictedClass).toBe(p.predictedClass);
      expect(single.predictions[0]!.probabilities["1"]!).toBeCloseTo(p.probabilities["1"]!, 6);
    }
  }, 120_000);

  test("a slice that selects nothing says so and predicts nothing", async () => {
    const { result, events } = await collect(dbBatchPredict, {
      dataPath: workspaceCopy(),
      dbUri: db.uri,
      dataset: DATASET,
      experiment: EXPERIMENT,
      slice: "1000:",
      parallel: 4,
    });
    expect(result.predictions).toEqual([]);
    expect(lines(events)).toEqual(["Empty prediction set, nothing to do."]);
  }, 60_000);
});

describe("the prediction commands as a user runs them", () => {
  let db: HistoryDb;
  beforeAll(async () => {
    db = await sqliteHistory();
    dbs.push(db);
    await db.add(historyRuns(), logs.root);
  }, 60_000);

  test("db-batch-predict --json: one object per line, a run whose log server is down reported, the rest predicted", async () => {
    const dataPath = workspaceCopy();
    const down = syntheticRun(RUNS - 1).uuid;
    logs.down.add(down);
    try {
      const r = await ciml(
        "db-batch-predict",
        "--json",
        "--data-path",
        dataPath,
        "--db-uri",
        db.uri,
        "--dataset",
        DATASET,
        "--experiment",
        EXPERIMENT,
        "--slice=-5:",
        "--timeout",
        "10",
      );
      expect(r.code).toBe(0);
      const events = r.out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as PipelineEvent & { time: string });
      expect(events.filter((e) => e.type === "prediction")).toHaveLength(4);
      expect(events.some((e) => e.type === "warning" && e.subject === down && /503/.test(e.message))).toBe(true);
      const result = events.find((e) => e.type === "result");
      expect(result?.type === "result" && result.summary).toMatchObject({ predicted: 4, unusable: 1 });
      expect(result?.type === "result" && result.lines).toContain("Prediction of 4 inputs completed.");
    } finally {
      logs.down.delete(down);
    }
  }, 120_000);

  test("db-batch-predict does not ask the log server again for runs cache-data marked unavailable", async () => {
    const dataPath = workspaceCopy();
    const listed = syntheticRun(RUNS - 2).uuid;
    await writeRunList(disk, join(dataPath, ".raw", "unavailable.json.gz"), [listed]);
    const before = logs.fetchesOf(listed);
    const { result } = await collect(dbBatchPredict, {
      dataPath,
      dbUri: db.uri,
      dataset: DATASET,
      experiment: EXPERIMENT,
      slice: "-5:",
      parallel: 4,
    });
    expect(logs.fetchesOf(listed)).toBe(before);
    expect(result.predictions.map((p) => p.runUuid)).not.toContain(listed);
    expect(result.predictions).toHaveLength(4);
    expect(result.unusable).toEqual([`${listed}: ignored by configuration (no dstat file; cache-data listed it as unavailable)`]);
  }, 120_000);

  test("db-predict BUILD_UUID prints the original's line and one prediction line; a bad flag is a usage error", async () => {
    const dataPath = workspaceCopy();
    const run = syntheticRun(100);
    const r = await ciml("db-predict", buildUuidFor(100), "--no-tui", ...modelFlags(dataPath, db.uri));
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Obtained dstat file for ${run.uuid}`);
    expect(r.out).toMatch(new RegExp(`${run.uuid}: predicted [01] \\(p=0\\.\\d{3}\\) actual ${run.status} build ${buildUuidFor(100)}`));
    const bad = await ciml("db-predict", buildUuidFor(100), ...modelFlags(dataPath, db.uri), "--timeout", "soon");
    expect(bad.code).toBe(2);
    expect(bad.err.trim()).toBe("error: --timeout soon: give a number, e.g. 60");
  }, 120_000);

  test("mqtt-trainer prints a line per event, publishes db-predict's probabilities bit for bit, and exits 0 on SIGTERM after draining", async () => {
    const base = `ciml-test/cli/${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const p = Bun.spawn(
      [
        process.execPath,
        MAIN,
        "mqtt-trainer",
        "--no-tui",
        "--data-path",
        workspaceCopy(),
        "--db-uri",
        db.uri,
        "--dataset",
        DATASET,
        "--experiment",
        EXPERIMENT,
        "--mqtt-hostname",
        "127.0.0.1",
        "--topic",
        `${base}/#`,
        "--publish-topic",
        `${base}-out`,
      ],
      { stdout: "pipe", stderr: "pipe", env: cimlEnv() },
    );
    const reader = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    const readUntil = async (pattern: RegExp) => {
      // A deadline: the child is killed, so the read ends and the test fails here with what it printed.
      const tooLate = setTimeout(() => p.kill("SIGKILL"), 60_000);
      while (!pattern.test(out)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`mqtt-trainer ended before ${pattern}: ${out}`);
        out += value;
      }
      clearTimeout(tooLate);
    };
    await readUntil(/connected to 127\.0\.0\.1:1883/);
    const client = await MqttTestClient.connect();
    await client.subscribe(`${base}-out`);
    await client.publish(
      `${base}/subunit-worker01/openstack/nova/1`,
      JSON.stringify({ build_uuid: buildUuidFor(101), source_url: "x", status: "success" }),
    );
    await client.publish(`${base}/subunit-worker01/openstack/nova/1`, "not json");
    await client.waitFor(1);
    const [published] = client.json<PredictionMessage>();
    await client.close();
    await readUntil(new RegExp(`${syntheticRun(101).uuid}: predicted`));
    // The same run through `ciml db-predict --json` on a pristine copy of the workspace: the same bits.
    const theirs = await ciml("db-predict", buildUuidFor(101), "--json", ...modelFlags(workspaceCopy(), db.uri));
    expect(theirs.code).toBe(0);
    const prediction = theirs.out
      .split("\n")
      .filter((line) => line.includes('"type":"prediction"'))
      .map((line) => JSON.parse(line) as { runUuid: string; probabilities: Record<string, number> });
    expect(prediction.map((e) => e.runUuid)).toEqual([published!.run_uuid]);
    expect(published!.probabilities).toEqual(prediction[0]!.probabilities);
    p.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    out += await new Response(
      new ReadableStream({
        pull: async (c) => {
          const r = await reader.read();
          if (r.done) c.close();
          else c.enqueue(r.value);
        },
      }),
    ).text();
    expect(out).toMatch(/mqtt-trainer done: .*predictions=1/);
    expect(await new Response(p.stderr).text()).toContain("payload is not JSON");
  }, 120_000);

  test("mqtt-trainer refuses bad broker flags before loading anything", async () => {
    const r = await ciml("mqtt-trainer", "--data-path", workspaceCopy(), "--db-uri", db.uri, "--share-group", "a/b");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--share-group");
  });
});

describe("errors that are not about one run end the command", () => {
  test("db-batch-predict stops with one error when the database loses a table mid-batch, not one warning per run", async () => {
    const db = await sqliteHistory();
    dbs.push(db);
    let dropped = false;
    // The five runs of the slice, made once: traces are too slow to make inside each request.
    const bodies = new Map(
      Array.from({ length: 5 }, (_, k) => syntheticRun(RUNS - 5 + k)).map((r) => [r.uuid, gzip(new TextEncoder().encode(r.trace))]),
    );
    // The first download is the moment the database loses its metadata: every later metadata query fails.
    const server = serveLogTree({
      route: (path) => {
        if (!dropped) {
          dropped = true;
          const other = new Database(db.uri.slice("sqlite:///".length));
          other.run("DROP TABLE run_metadata");
          other.close();
        }
        const body = bodies.get(/^\/logs\/([^/]+)\//.exec(path)?.[1] ?? "");
        return body ? new Response(body) : new Response("not found", { status: 404 });
      },
    });
    try {
      await db.add(historyRuns(), `${server.url}/logs`);
      const { error, events } = await collectFailure(dbBatchPredict, {
        dataPath: workspaceCopy(),
        dbUri: db.uri,
        dataset: DATASET,
        experiment: EXPERIMENT,
        slice: "-5:",
        parallel: 1,
      });
      expect(error.message).toContain("run_metadata");
      expect(events.filter((e) => e.type === "warning")).toEqual([]);
      expect(events.filter((e) => e.type === "prediction")).toEqual([]);
    } finally {
      server.stop();
    }
  }, 120_000);

  test("db-batch-predict with a dataset whose normalisation lacks a feature exits 1 with one line, not a warning per run", async () => {
    const db = await sqliteHistory();
    dbs.push(db);
    await db.add(historyRuns(), logs.root);
    const dataPath = workspaceCopy();
    const configPath = join(dataPath, DATASET, "model_config.json.gz");
    const config = (await readJsonGz(disk, configPath)) as { labels: string[]; normalization_params: Record<string, unknown> };
    delete config.normalization_params[config.labels[3]!];
    await writeJsonGz(disk, configPath, config);
    const r = await ciml("db-batch-predict", "--no-tui", ...modelFlags(dataPath, db.uri), "--slice=-5:");
    expect(r.code).toBe(1);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toContain(config.labels[3]!);
    expect(r.out).not.toContain("Prediction of");
  }, 120_000);
});
