// mqtt-trainer end to end against the real services: Mosquitto (the shared one on 1883 and a private one
// the test restarts), an HTTP log server on loopback, subunit2sql in SQLite and MariaDB, and a model
// trained in the test. Predictions arriving on the publish topic must equal db-predict's for the same runs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Workspace } from "../src/io/workspace.ts";
import { dbPredict } from "../src/pipeline/db-predict.ts";
import type { PredictionMessage } from "../src/pipeline/predict/prediction-message.ts";
import { LogServer, mariadbHistory, sqliteHistory, type HistoryDb, type HistoryRun } from "./helpers/ci-history.ts";
import { MqttTestClient, uniqueTopic } from "./helpers/mqtt-collector.ts";
import { PrivateMosquitto } from "./helpers/private-mosquitto.ts";
import { collect } from "./helpers/collect-events.ts";
import { startTrainer as startRunningTrainer, type TrainerFlags } from "./helpers/running-trainer.ts";
import { BUILD_NAME, buildUuidFor, DATASET, EXPERIMENT, syntheticRun, trainedWorkspace } from "./helpers/trained-workspace.ts";
import { readBuildRuns } from "../src/io/found-runs.ts";

const CACHED = 90;
const RUNS = 330;
const OTHER_BUILD = 1000;
const DOWN = 1001;
/** a run added to a build that was predicted already, and a build whose rows come after its event */
const LATE_RUN = 2000;
const EARLY_BUILD = 2001;

let trained: string;
const logs = new LogServer();
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  trained = mkdtempSync(join(tmpdir(), "ciml-predict-mqtt-"));
  await trainedWorkspace(trained, CACHED);
  for (let i = 0; i < RUNS; i++) logs.addTrace(syntheticRun(i).uuid, syntheticRun(i).trace);
  logs.addTrace(syntheticRun(OTHER_BUILD).uuid, syntheticRun(OTHER_BUILD).trace);
  logs.addTrace(syntheticRun(DOWN).uuid, syntheticRun(DOWN).trace);
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  logs.stop();
  rmSync(trained, { recursive: true, force: true });
}, 60_000);

function historyRuns(): HistoryRun[] {
  const runs: HistoryRun[] = [];
  const meta = (i: number, buildName = BUILD_NAME) => ({
    build_name: buildName,
    build_uuid: buildUuidFor(i),
    project: "openstack/nova",
    node_provider: "rax-dfw",
  });
  for (let i = 0; i < RUNS; i++) runs.push({ uuid: syntheticRun(i).uuid, status: syntheticRun(i).status, metadata: meta(i) });
  runs.push({ uuid: syntheticRun(OTHER_BUILD).uuid, status: 0, metadata: meta(OTHER_BUILD, "tempest-full-py3") });
  runs.push({ uuid: syntheticRun(DOWN).uuid, status: 0, metadata: meta(DOWN) });
  return runs;
}

/** A private copy of the trained workspace: downloads of one test never help another. */
function workspaceCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "ciml-predict-ws-"));
  cpSync(trained, dir, { recursive: true });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function startTrainer(options: TrainerFlags) {
  return startRunningTrainer(options, cleanups);
}

const firehose = (base: string, change: number) => `${base}/subunit-worker01/openstack/nova/${change}`;
const event = (buildUuid: string) =>
  JSON.stringify({
    build_uuid: buildUuid,
    source_url: `http://logs.example.org/${buildUuid}/logs/testrepository.subunit`,
    status: "success",
  });

async function dbPredictions(dataPath: string, dbUri: string, buildUuid: string) {
  return (await collect(dbPredict, { dataPath, dbUri, dataset: DATASET, experiment: EXPERIMENT, buildUuid, buildName: BUILD_NAME })).result
    .predictions;
}

describe.each([
  ["SQLite", () => sqliteHistory()],
  ["MariaDB", () => mariadbHistory("predict")],
] as const)("mqtt-trainer with %s", (_name, open) => {
  let db: HistoryDb;
  beforeAll(async () => {
    db = await open();
    await db.add(historyRuns(), logs.root);
  }, 60_000);
  afterAll(async () => db?.drop(), 30_000);

  test("publishes one prediction per new run, equal to db-predict's, and caches the runs", async () => {
    const dataPath = workspaceCopy();
    const base = uniqueTopic("predict");
    const out = `${base}-out`;
    const collector = await MqttTestClient.connect();
    cleanups.push(() => collector.close());
    await collector.subscribe(out);
    const trainer = startTrainer({ dataPath, dbUri: db.uri, topic: `${base}/#`, publishTopic: out });
    await trainer.waitFor("the connection", () => trainer.connections() === 1);

    const builds = Array.from({ length: 20 }, (_, k) => CACHED + k);
    for (const i of builds) await collector.publish(firehose(base, 600000 + i), event(buildUuidFor(i)));
    await collector.waitFor(builds.length);
    const counts = await trainer.stop();
    expect(counts).toMatchObject({ matched: 20, predictions: 20, skipped: 0, failed: 0 });

    const got = collector.json<PredictionMessage>();
    expect(got.map((m) => m.build_uuid).sort()).toEqual(builds.map(buildUuidFor).sort());
    // db-predict on a pristine workspace: it downloads the same runs itself.
    const pristine = workspaceCopy();
    for (const m of got) {
      expect(m).toMatchObject({ build_name: BUILD_NAME, model: { dataset: DATASET, experiment: EXPERIMENT } });
      expect(m.latency_ms).toBeGreaterThan(0);
      const [theirs] = await dbPredictions(pristine, db.uri, m.build_uuid);
      expect(theirs!.runUuid).toBe(m.run_uuid);
      expect(m.predicted_class).toBe(theirs!.predictedClass);
      // bit for bit: the same forward pass, whether a run is predicted alone or beside others
      expect(m.probabilities).toEqual(theirs!.probabilities);
    }
    // the model is not guessing: most new runs get their real class
    const right = got.filter((m) => m.predicted_class === String(syntheticRun(Number.parseInt(m.build_uuid.slice(1), 16)).status)).length;
    expect(right / got.length).toBeGreaterThan(0.8);
    // the cache grew: files and the build's run list
    const ws = new Workspace(dataPath);
    // The build's runs: its run list and the lists of the runs predictors cached (found-runs.ts).
    const listed = new Set(await readBuildRuns(ws, BUILD_NAME));
    for (const m of got) {
      expect(existsSync(ws.rawTrace(m.run_uuid))).toBe(true);
      expect(listed.has(m.run_uuid)).toBe(true);
    }
    expect(listed.size).toBe(CACHED + 20);
  }, 120_000);
});

describe("mqtt-trainer faults (SQLite)", () => {
  let db: HistoryDb;
  beforeAll(async () => {
    db = await sqliteHistory();
    await db.add(historyRuns(), logs.root);
  }, 60_000);
  afterAll(async () => db?.drop(), 30_000);

  test("skips and counts junk, unknown and foreign builds, predicts a repeated build once, retries a run whose log server is down then reports it", async () => {
    const dataPath = workspaceCopy();
    const base = uniqueTopic("faults");
    const out = `${base}-out`;
    const collector = await MqttTestClient.connect();
    cleanups.push(() => collector.close());
    await collector.subscribe(out);
    const downRun = syntheticRun(DOWN).uuid;
    logs.down.add(downRun);
    cleanups.push(() => void logs.down.delete(downRun));
    const trainer = startTrainer({ dataPath, dbUri: db.uri, topic: `${base}/#`, publishTopic: out, retries: 2 });
    await trainer.waitFor("the connection", () => trainer.connections() === 1);

    await collector.publish(firehose(base, 1), "Build succeeded.");
    await collector.publish(firehose(base, 2), JSON.stringify({ type: "comment-added", change: { number: "2" } }));
    await collector.publish(firehose(base, 3), event("0123456789abcdef0123456789abcdef"));
    await collector.publish(firehose(base, 4), event(buildUuidFor(OTHER_BUILD)));
    await collector.publish(firehose(base, 5), event(buildUuidFor(110)));
    await collector.publish(firehose(base, 6), event(buildUuidFor(110)));
    await collector.publish(firehose(base, 7), event(buildUuidFor(DOWN)));
    await trainer.waitFor(
      "the down run to be given up",
      () => trainer.events.some((e) => e.type === "warning" && e.message.includes("gave up")),
      90_000,
    );
    // still alive: a later event is predicted
    await collector.publish(firehose(base, 8), event(buildUuidFor(111)));
    await collector.waitFor(2);
    // the log server is back: a new event for the reported build gets a fresh chance
    logs.down.delete(downRun);
    await collector.publish(firehose(base, 9), event(buildUuidFor(DOWN)));
    await collector.waitFor(3);
    const counts = await trainer.stop();

    expect(counts).toMatchObject({
      messages: 9,
      malformed: 1,
      irrelevant: 1,
      duplicates: 1,
      skipped: 2,
      failed: 1,
      // two for the down run, two for the unknown build (its rows might not be committed yet)
      retries: 4,
      matched: 3,
      predictions: 3,
    });
    expect(
      collector
        .json<PredictionMessage>()
        .map((m) => m.build_uuid)
        .sort(),
    ).toEqual([buildUuidFor(110), buildUuidFor(111), buildUuidFor(DOWN)].sort());
    const messages = trainer.events.flatMap((e) => (e.type === "info" || e.type === "warning" ? [e.message] : []));
    expect(messages).toContain(`Build uuid: ${buildUuidFor(OTHER_BUILD)} is not of proper build_name, skipping`);
    expect(messages).toContain("Build uuid: 0123456789abcdef0123456789abcdef has no runs in the database, skipping");
    expect(messages.filter((m) => m.includes("gave up"))).toEqual([
      expect.stringMatching(new RegExp(`^build ${buildUuidFor(DOWN)}: gave up after 3 attempts: ${downRun}: .*503`)),
    ]);
    // three attempts reached the log server, and nothing of the failed attempts was cached as data
    expect(logs.fetchesOf(downRun)).toBeGreaterThanOrEqual(3);
  }, 150_000);

  test("deduplicates by run: a second run of a predicted build is predicted, and a build announced before its rows is looked up again", async () => {
    const dataPath = workspaceCopy();
    const base = uniqueTopic("runs");
    const out = `${base}-out`;
    const collector = await MqttTestClient.connect();
    cleanups.push(() => collector.close());
    await collector.subscribe(out);
    // No retries: a build without rows is given up at once, and must still be taken again later.
    const trainer = startTrainer({ dataPath, dbUri: db.uri, topic: `${base}/#`, publishTopic: out, retries: 0 });
    await trainer.waitFor("the connection", () => trainer.connections() === 1);
    const build = buildUuidFor(329);
    const addRun = async (i: number, buildUuid: string) => {
      logs.addTrace(syntheticRun(i).uuid, syntheticRun(i).trace);
      await db.add(
        [{ uuid: syntheticRun(i).uuid, status: syntheticRun(i).status, metadata: { build_name: BUILD_NAME, build_uuid: buildUuid } }],
        logs.root,
      );
    };

    await collector.publish(firehose(base, 1), event(build));
    await collector.waitFor(1);
    // the build's second run is committed and announced: it is predicted, the first is not predicted again
    await addRun(LATE_RUN, build);
    await collector.publish(firehose(base, 2), event(build));
    await collector.waitFor(2);
    await collector.publish(firehose(base, 3), event(build));
    await trainer.waitFor("the repeat to be counted", () => trainer.progress().duplicates === 1);

    // an event that comes before the worker's commit finds nothing, and the build is not claimed for ever
    const early = buildUuidFor(EARLY_BUILD);
    await collector.publish(firehose(base, 4), event(early));
    await trainer.waitFor("the early build to be looked up", () => trainer.progress().skipped === 1);
    await addRun(EARLY_BUILD, early);
    await collector.publish(firehose(base, 5), event(early));
    await collector.waitFor(3);
    const counts = await trainer.stop();

    expect(collector.json<PredictionMessage>().map((m) => [m.build_uuid, m.run_uuid])).toEqual([
      [build, syntheticRun(329).uuid],
      [build, syntheticRun(LATE_RUN).uuid],
      [early, syntheticRun(EARLY_BUILD).uuid],
    ]);
    expect(counts).toMatchObject({ messages: 5, predictions: 3, duplicates: 1, skipped: 1, failed: 0 });
    const messages = trainer.events.flatMap((e) => (e.type === "info" ? [e.message] : []));
    expect(messages).toContain(`Build uuid: ${early} has no runs in the database, skipping`);
  }, 120_000);

  test("reconnects after its broker restarts mid-stream and predicts later events", async () => {
    const broker = await PrivateMosquitto.start();
    cleanups.push(() => broker.stop());
    const dataPath = workspaceCopy();
    const base = uniqueTopic("restart");
    const out = `${base}-out`;
    const trainer = startTrainer({
      dataPath,
      dbUri: db.uri,
      broker: { host: "127.0.0.1", port: broker.port },
      topic: `${base}/#`,
      publishTopic: out,
    });
    await trainer.waitFor("the connection", () => trainer.connections() === 1);
    let collector = await MqttTestClient.connect(broker.port);
    await collector.subscribe(out);
    await collector.publish(firehose(base, 1), event(buildUuidFor(120)));
    await collector.waitFor(1);
    await collector.close();

    await broker.stop();
    await trainer.waitFor("the outage", () => trainer.events.some((e) => e.type === "warning" && e.message.startsWith("lost the broker")));
    await Bun.sleep(1000);
    await broker.start();
    await trainer.waitFor("the reconnection", () => trainer.connections() === 2, 90_000);
    collector = await MqttTestClient.connect(broker.port);
    cleanups.push(() => collector.close());
    await collector.subscribe(out);
    await collector.publish(firehose(base, 2), event(buildUuidFor(121)));
    await collector.waitFor(1);
    expect(collector.json<PredictionMessage>()[0]!.build_uuid).toBe(buildUuidFor(121));
    expect((await trainer.stop()).predictions).toBe(2);
    expect(trainer.events.filter((e) => e.type === "warning" && e.message.startsWith("lost the broker")).length).toBe(1);
  }, 150_000);

  test("two instances with one --share-group split 200 events: 200 predictions, none twice", async () => {
    const dataPath = workspaceCopy();
    const base = uniqueTopic("share");
    const out = `${base}-out`;
    const group = `ciml${process.pid}${Math.random().toString(36).slice(2, 8)}`;
    const collector = await MqttTestClient.connect();
    cleanups.push(() => collector.close());
    await collector.subscribe(out);
    const a = startTrainer({ dataPath, dbUri: db.uri, topic: `${base}/#`, shareGroup: group, publishTopic: out });
    const b = startTrainer({ dataPath, dbUri: db.uri, topic: `${base}/#`, shareGroup: group, publishTopic: out });
    await a.waitFor("a's connection", () => a.connections() === 1);
    await b.waitFor("b's connection", () => b.connections() === 1);
    const builds = Array.from({ length: 200 }, (_, k) => 125 + k);
    for (const i of builds) await collector.publish(firehose(base, 700000 + i), event(buildUuidFor(i)));
    await collector.waitFor(200, 120_000);
    const [ca, cb] = await Promise.all([a.stop(), b.stop()]);
    // Both stopped once the broker acknowledged their last prediction; a duplicate would be here by now.
    await collector.settled(out);
    const got = collector.json<PredictionMessage>();
    expect(got.length).toBe(200);
    expect(new Set(got.map((m) => m.run_uuid)).size).toBe(200);
    expect(new Set(got.map((m) => m.build_uuid))).toEqual(new Set(builds.map(buildUuidFor)));
    expect(ca.predictions + cb.predictions).toBe(200);
    expect(ca.predictions).toBeGreaterThan(0);
    expect(cb.predictions).toBeGreaterThan(0);
  }, 240_000);
});
