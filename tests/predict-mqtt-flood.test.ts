// mqtt-trainer under a flood: 5,000 Zuul reports published at once on a Mosquitto of the test's own (its
// default queue limits, and its $SYS figures every second), while the trainer fetches and predicts from a
// log server on loopback. Nothing may be lost silently: every event published is predicted, or counted —
// skipped, dropped, left in the backlog, or dropped by the broker — and the backlog stays within its bound.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PredictionMessage } from "../src/pipeline/predict/prediction-message.ts";
import { LogServer } from "./helpers/ci-history.ts";
import { MqttTestClient, uniqueTopic } from "./helpers/mqtt-collector.ts";
import { PrivateMosquitto } from "./helpers/private-mosquitto.ts";
import { startTrainer } from "./helpers/running-trainer.ts";
import { BUILD_NAME, syntheticRun, trainedWorkspace } from "./helpers/trained-workspace.ts";

const EVENTS = 5000;
const BACKLOG = 300;
/** distinct traces on the log server; the builds take turns pointing at them */
const TRACES = 20;

let dataPath: string;
/** the traces' runs, made once: making a synthetic trace per event would stall the test's own event loop */
const traceRuns = Array.from({ length: TRACES }, (_, i) => syntheticRun(500 + i));
const logs = new LogServer();
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  dataPath = mkdtempSync(join(tmpdir(), "ciml-predict-flood-"));
  await trainedWorkspace(dataPath, 60);
  for (const run of traceRuns) logs.addTrace(run.uuid, run.trace);
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  logs.stop();
  rmSync(dataPath, { recursive: true, force: true });
}, 60_000);

const floodUuid = (n: number) => `f${n.toString(16).padStart(31, "0")}`;

function report(n: number): string {
  const run = traceRuns[n % TRACES]!;
  return JSON.stringify({
    action: run.status ? "failure" : "success",
    tenant: "openstack",
    pipeline: "check",
    project: "openstack/nova",
    branch: "master",
    change: 700000 + n,
    patchset: 1,
    buildset: {
      uuid: `bs${n}`,
      builds: [
        {
          job_name: BUILD_NAME,
          uuid: floodUuid(n),
          result: run.status ? "FAILURE" : "SUCCESS",
          log_url: `${logs.root}/${run.uuid}/`,
          start_time: 1520616787,
          voting: true,
        },
      ],
    },
  });
}

test("a flood of 5,000 events: each is predicted or counted, and the backlog stays bounded", async () => {
  // A small broker queue, so that the broker drops some of the flood and a test run stays short.
  const broker = await PrivateMosquitto.start(["allow_anonymous true", "sys_interval 1", "max_queued_messages 200"]);
  cleanups.push(() => broker.stop());
  const base = uniqueTopic("flood");
  const out = `${base}-out`;
  const trainer = startTrainer(
    {
      dataPath,
      dbUri: "sqlite:////nonexistent/ciml-flood-test/none.db",
      broker: { host: "127.0.0.1", port: broker.port },
      topic: `${base}/#`,
      publishTopic: out,
      queueSize: BACKLOG,
    },
    cleanups,
  );
  await trainer.waitFor("the connection", () => trainer.connections() === 1);
  const collector = await MqttTestClient.connect(broker.port);
  cleanups.push(() => collector.close());
  await collector.subscribe(out);

  const started = performance.now();
  await Promise.all(Array.from({ length: EVENTS }, (_, n) => collector.publish(`${base}/openstack/zuul/check/${n}`, report(n))));
  const publishSeconds = (performance.now() - started) / 1000;
  // Every event published has reached the trainer or is in the broker's count of drops.
  const accounted = () => (trainer.progress().messages ?? 0) + (trainer.progress().brokerDropped ?? 0);
  await trainer.waitFor(`all ${EVENTS} events accounted for`, () => accounted() === EVENTS, 150_000);
  const counts = await trainer.stop();
  // Every prediction counted was acknowledged by the broker before stop returned; let them all arrive here.
  await collector.settled(out);

  const peakBacklog = Math.max(
    ...trainer.events.flatMap((e) => (e.type === "progress" && e.stage === "events" ? [e.counts?.backlog ?? 0] : [])),
  );
  console.log(
    `flood: published ${EVENTS} in ${publishSeconds.toFixed(2)} s; received ${counts.messages}, predicted ${counts.predictions}, backlog left ${counts.abandoned}, dropped ${counts.dropped}, broker dropped ${counts.brokerDropped}, paused ${counts.paused}, peak backlog ${peakBacklog}`,
  );
  expect(counts.messages + counts.brokerDropped).toBe(EVENTS);
  expect(counts.matched + counts.skipped + counts.failed + counts.duplicates + counts.dropped + counts.abandoned).toBe(counts.messages);
  expect(counts).toMatchObject({ malformed: 0, irrelevant: 0, skipped: 0, failed: 0, duplicates: 0 });
  expect(counts.predictions).toBe(counts.matched);
  expect(counts.predictions).toBeGreaterThan(0);
  expect(peakBacklog).toBeLessThanOrEqual(BACKLOG);
  // what was published is what was counted, once per build
  const got = collector.json<PredictionMessage>();
  expect(got.length).toBe(counts.predictions);
  expect(new Set(got.map((m) => m.build_uuid)).size).toBe(got.length);
  // the summary says it in words
  const summary = trainer.events.findLast((e) => e.type === "result");
  const lines = summary?.type === "result" ? (summary.lines ?? []) : [];
  expect(lines[1]).toBe(
    `Backlog: ${counts.abandoned} builds left unpredicted at stop, ${counts.dropped} dropped because the backlog stayed full` +
      (counts.paused > 0 ? ` (the broker was made to wait ${counts.paused} times).` : "."),
  );
  if (counts.brokerDropped > 0) expect(lines[2]).toMatch(new RegExp(`^The broker dropped ${counts.brokerDropped} messages`));
}, 300_000);
