// mqtt-trainer fed by Zuul's MQTT reporter, end to end against the real services: Mosquitto, an HTTP log
// server on loopback holding each build's dstat under its log URL, and a model trained in the test. No
// database is opened for Zuul builds: the trainer is given one that cannot exist. The predictions on the
// publish topic must be exactly the expected builds', equal to db-predict's for the same runs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRunMetadata } from "../src/io/raw-cache.ts";
import { Workspace } from "../src/io/workspace.ts";
import { dbPredict } from "../src/pipeline/db-predict.ts";
import type { PredictionMessage } from "../src/pipeline/predict/prediction-message.ts";
import { LogServer, sqliteHistory, type HistoryDb } from "./helpers/ci-history.ts";
import { collect } from "./helpers/collect-events.ts";
import { MqttTestClient, uniqueTopic } from "./helpers/mqtt-collector.ts";
import { startTrainer } from "./helpers/running-trainer.ts";
import { BUILD_NAME, buildUuidFor, DATASET, EXPERIMENT, syntheticRun, trainedWorkspace } from "./helpers/trained-workspace.ts";
import { readBuildRuns } from "../src/io/found-runs.ts";

const CACHED = 90;
/** 2018-03-09 17:33:07 UTC, when the fixture's traces start (dstat's dates carry no year) */
const START = 1520616787;
const NO_DATABASE = "sqlite:////nonexistent/ciml-zuul-test/none.db";

let trained: string;
let db: HistoryDb;
const logs = new LogServer();
const cleanups: (() => Promise<void> | void)[] = [];

/** Fixture run i: a Zuul build (uuid buildUuidFor(i)) whose logs are the run's, and the same run in subunit2sql for db-predict. */
const runs = [150, 151, 153, 154, 155, 156, 157];

beforeAll(async () => {
  trained = mkdtempSync(join(tmpdir(), "ciml-predict-zuul-"));
  await trainedWorkspace(trained, CACHED);
  for (const i of runs) logs.addTrace(syntheticRun(i).uuid, syntheticRun(i).trace);
  db = await sqliteHistory();
  await db.add(
    runs.map((i) => ({
      uuid: syntheticRun(i).uuid,
      status: syntheticRun(i).status,
      metadata: { build_name: BUILD_NAME, build_uuid: buildUuidFor(i) },
    })),
    logs.root,
  );
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await db?.drop();
  logs.stop();
  rmSync(trained, { recursive: true, force: true });
}, 60_000);

function workspaceCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "ciml-predict-zuul-ws-"));
  cpSync(trained, dir, { recursive: true });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A build as Zuul's reporter lists it: fixture run i under our job, or any job. */
function build(i: number, result: string | null, extra: Record<string, unknown> = {}) {
  const uuid = buildUuidFor(i);
  return {
    job_name: BUILD_NAME,
    job_uuid: `job-${i}`,
    voting: true,
    uuid,
    start_time: START,
    end_time: START + 3600,
    execute_time: START - 10,
    log_url: `${logs.root}/${syntheticRun(i).uuid}/`,
    web_url: `https://zuul.example.org/t/openstack/build/${uuid}`,
    result,
    artifacts: [],
    events: [],
    ...extra,
  };
}

function report(action: string, buildset: string, change: number, builds: unknown[]) {
  return JSON.stringify({
    timestamp: START + 3700,
    action,
    tenant: "openstack",
    zuul_ref: `Z${buildset}`,
    pipeline: "check",
    project: "openstack/nova",
    branch: "master",
    change_url: `https://review.example.org/${change}`,
    change,
    patchset: "2",
    ref: `refs/changes/${change % 100}/${change}/2`,
    message: "Build report.",
    trigger_time: START - 60,
    enqueue_time: START - 30,
    buildset: { uuid: buildset, result: action === "success" ? "SUCCESS" : "FAILURE", builds, retry_builds: [] },
  });
}

describe("mqtt-trainer with Zuul's MQTT reporter", () => {
  test("predicts exactly our job's finished builds with log URLs, once each, as db-predict does, without a database", async () => {
    const dataPath = workspaceCopy();
    const base = uniqueTopic("zuul");
    const out = `${base}-out`;
    const collector = await MqttTestClient.connect();
    cleanups.push(() => collector.close());
    await collector.subscribe(out);
    const trainer = startTrainer({ dataPath, dbUri: NO_DATABASE, topic: `${base}/#`, publishTopic: out }, cleanups);
    await trainer.waitFor("the connection", () => trainer.connections() === 1);
    const topic = (change: number) => `${base}/openstack/zuul/check/openstack/nova/master/${change}`;

    const pep8 = (i: number, result: string) => ({
      ...build(i, result),
      job_name: "openstack-tox-pep8",
      uuid: `c${buildUuidFor(i).slice(1)}`,
    });
    const messages: [string, string][] = [
      // the jobs are announced before they run: nothing to fetch
      [
        topic(1),
        report("start", "bs1", 1, [
          { job_name: BUILD_NAME, job_uuid: "j", voting: true },
          { job_name: "openstack-tox-pep8", voting: true },
        ]),
      ],
      // a success buildset: our job and another
      [topic(1), report("success", "bs1", 1, [pep8(150, "SUCCESS"), build(150, "SUCCESS")])],
      // a failure buildset with several builds of our job: failed, timed out, no log URL, a file:// log URL, a POST_FAILURE
      [
        topic(2),
        report("failure", "bs2", 2, [
          build(153, "FAILURE"),
          build(156, "TIMED_OUT"),
          build(151, "SUCCESS", { log_url: null }),
          build(154, "FAILURE", { log_url: "file:///etc/" }),
          build(155, "POST_FAILURE"),
          pep8(153, "FAILURE"),
        ]),
      ],
      // malformed: not JSON, builds not a list, a build of ours whose uuid is a path
      [topic(3), "Build failed."],
      [topic(3), JSON.stringify({ action: "failure", tenant: "t", pipeline: "p", project: "x", buildset: { uuid: "bs3", builds: "all" } })],
      [topic(3), report("failure", "bs3", 3, [build(157, "FAILURE", { uuid: "../../../etc/passwd" })])],
      // the success report again (a second reporter, a redelivery): nothing predicted twice
      [topic(1), report("success", "bs1", 1, [pep8(150, "SUCCESS"), build(150, "SUCCESS")])],
    ];
    for (const [t, payload] of messages) await collector.publish(t, payload);
    await collector.waitFor(3);
    await trainer.waitFor("every message", () => trainer.progress().messages === messages.length && trainer.progress().inFlight === 0);
    const counts = await trainer.stop();

    const got = collector.json<PredictionMessage>().sort((a, b) => a.build_uuid.localeCompare(b.build_uuid));
    expect(got.map((m) => [m.build_uuid, m.zuul?.result, m.zuul?.buildset, m.actual_class])).toEqual([
      [buildUuidFor(150), "SUCCESS", "bs1", "0"],
      [buildUuidFor(153), "FAILURE", "bs2", "1"],
      [buildUuidFor(156), "TIMED_OUT", "bs2", "1"],
    ]);
    expect(got[1]).toMatchObject({
      run_uuid: buildUuidFor(153),
      build_name: BUILD_NAME,
      model: { dataset: DATASET, experiment: EXPERIMENT },
      zuul: { tenant: "openstack", pipeline: "check", project: "openstack/nova", change: "2", patchset: "2", job: BUILD_NAME },
    });
    expect(counts).toMatchObject({
      messages: 7,
      irrelevant: 1,
      malformed: 2,
      // no log URL, file:// log URL, POST_FAILURE, a uuid that is a path
      skipped: 4,
      duplicates: 1,
      matched: 3,
      predictions: 3,
      failed: 0,
    });
    const said = trainer.events.flatMap((e) => (e.type === "info" || e.type === "warning" ? [e.message] : []));
    expect(said).toContain(`build ${buildUuidFor(151)} has no log_url`);
    expect(said).toContain(`build ${buildUuidFor(154)}: log_url is not an http(s) URL`);
    expect(said).toContain(`build ${buildUuidFor(155)}: result POST_FAILURE is not a test outcome`);

    // the same runs through db-predict (from subunit2sql, on a pristine workspace): the same predictions
    const pristine = workspaceCopy();
    for (const m of got) {
      const theirs = (
        await collect(dbPredict, {
          dataPath: pristine,
          dbUri: db.uri,
          dataset: DATASET,
          experiment: EXPERIMENT,
          buildUuid: m.build_uuid,
          buildName: BUILD_NAME,
        })
      ).result.predictions;
      expect(theirs.length).toBe(1);
      expect(m.predicted_class).toBe(theirs[0]!.predictedClass);
      expect(m.probabilities).toEqual(theirs[0]!.probabilities);
    }
    // the cache grew by the builds, under their uuids, with Zuul's metadata, and the build's run list says so
    const ws = new Workspace(dataPath);
    // The build's runs: its run list and the lists of the runs predictors cached (found-runs.ts).
    const listed = new Set(await readBuildRuns(ws, BUILD_NAME));
    for (const m of got) {
      expect(existsSync(ws.rawTrace(m.build_uuid))).toBe(true);
      expect(listed.has(m.build_uuid)).toBe(true);
    }
    expect(await readRunMetadata(ws, buildUuidFor(153))).toMatchObject({
      status: 1,
      build_name: BUILD_NAME,
      build_uuid: buildUuidFor(153),
      build_change: "2",
      build_patchset: "2",
      build_queue: "check",
      project: "openstack/nova",
      run_at: "2018-03-09 17:33:07",
    });
    // nothing was read from outside the log server
    expect(logs.fetchesOf(syntheticRun(154).uuid)).toBe(0);
  }, 180_000);
});
