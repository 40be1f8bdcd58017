// The listener half of mqtt-trainer against real brokers (the shared Mosquitto on 1883 and private ones
// the tests stop and restart), with a stand-in for the model so that only MQTT and bookkeeping are tested.
import { afterAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import { CimlError } from "../src/pipeline/errors.ts";
import type { PipelineEvent } from "../src/pipeline/events.ts";
import { serveFirehose, type BuildHandler, type FirehoseServiceOptions } from "../src/pipeline/predict/firehose-service.ts";
import type { WorkItem } from "../src/pipeline/predict/message-triage.ts";
import type { PredictionMessage } from "../src/pipeline/predict/prediction-message.ts";
import { MqttTestClient, uniqueTopic } from "./helpers/mqtt-collector.ts";
import { PrivateMosquitto } from "./helpers/private-mosquitto.ts";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

function options(port: number, topic: string, publishTopic: string, extra: Partial<FirehoseServiceOptions> = {}): FirehoseServiceOptions {
  return {
    broker: { host: "127.0.0.1", port, tls: false, websocket: false },
    topic,
    qos: 1,
    publishTopic,
    buildName: "tempest-full",
    model: { dataset: "ds", experiment: "exp" },
    concurrency: 4,
    queueCapacity: 1000,
    maxHoldMs: 5000,
    maxAttempts: 3,
    retryDelayMs: 10,
    drainTimeoutMs: 5000,
    backoff: { initialMs: 50, maxMs: 200 },
    ...extra,
  };
}

/** The build a work item is about. */
const uuidOf = (item: WorkItem) => (item.kind === "firehose" ? item.buildUuid : item.run.id);

/** Stand-in for the model: one run per build, "FAIL" for builds whose uuid starts with f. */
const predictOneRun: BuildHandler = async (item) => ({
  kind: "predicted",
  predictions: [
    {
      runUuid: `run-${uuidOf(item)}`,
      buildUuid: uuidOf(item),
      buildName: "tempest-full",
      predictedClass: uuidOf(item).startsWith("f") ? "1" : "0",
      probabilities: { "0": 0.25, "1": 0.75 },
      actualClass: null,
    },
  ],
  saved: Promise.resolve(),
});

function startService(opts: FirehoseServiceOptions, handler: BuildHandler) {
  const events: PipelineEvent[] = [];
  const controller = new AbortController();
  const done = serveFirehose(opts, { emit: (e) => events.push(e), signal: controller.signal }, handler);
  const counts = (): Record<string, number> => {
    const last = events.findLast((e) => e.type === "progress");
    return last?.type === "progress" ? { ...last.counts, messages: last.done } : {};
  };
  const waitFor = async (what: string, cond: () => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; counts ${JSON.stringify(counts())}`);
      await Bun.sleep(10);
    }
  };
  const connected = () => events.filter((e) => e.type === "stage" && e.stage === "broker" && e.detail?.startsWith("connected to")).length;
  const stop = async () => {
    controller.abort();
    return done;
  };
  cleanups.push(async () => void (await stop().catch(() => undefined)));
  return { events, counts, waitFor, connected, stop, done };
}

const event = (buildUuid: string) =>
  JSON.stringify({
    build_uuid: buildUuid,
    source_url: `http://logs.example.org/${buildUuid}/logs/testrepository.subunit`,
    status: "success",
  });
const firehoseTopic = (base: string, change = 612345) => `${base}/subunit-worker01/openstack/nova/${change}`;

describe("serveFirehose", () => {
  test("skips and counts malformed, irrelevant, repeated and unknown events, stays alive, predicts the rest once", async () => {
    const base = uniqueTopic("faults");
    const out = `${base}-predictions`;
    const collector = await MqttTestClient.connect();
    cleanups.push(() => collector.close());
    await collector.subscribe(out);
    // A repeated firehose event reaches the handler (it may announce a new run); the handler finds no new run.
    const predicted = new Set<string>();
    const svc = startService(options(1883, `${base}/#`, out), async (e, signal) => {
      if (uuidOf(e) === "unknown0") return { kind: "skipped", reason: `no runs for build ${uuidOf(e)}` };
      if (predicted.has(uuidOf(e))) return { kind: "duplicate", reason: `every run of ${uuidOf(e)} predicted` };
      predicted.add(uuidOf(e));
      return predictOneRun(e, signal);
    });
    await svc.waitFor("connection", () => svc.connected() === 1);

    await collector.publish(firehoseTopic(base), "Build succeeded.");
    await collector.publish(firehoseTopic(base), JSON.stringify({ type: "comment-added", change: { number: "612345" } }));
    await collector.publish(firehoseTopic(base), new Uint8Array([0xff, 0x00, 0x7b]));
    await collector.publish(firehoseTopic(base), event("unknown0"));
    await collector.publish(firehoseTopic(base), event("aaaa1111"));
    await collector.publish(firehoseTopic(base, 612346), event("aaaa1111"));
    await collector.publish(firehoseTopic(base), event("ffff2222"));
    await collector.waitFor(2);
    await svc.waitFor("all 7 messages", () => svc.counts().messages === 7 && svc.counts().inFlight === 0);

    const counts = await svc.stop();
    expect(counts).toMatchObject({
      messages: 7,
      malformed: 2,
      irrelevant: 1,
      duplicates: 1,
      skipped: 1,
      matched: 2,
      predictions: 2,
      failed: 0,
    });
    const got = collector.json<PredictionMessage>().sort((a, b) => a.build_uuid.localeCompare(b.build_uuid));
    expect(got.map((m) => [m.build_uuid, m.run_uuid, m.predicted_class])).toEqual([
      ["aaaa1111", "run-aaaa1111", "0"],
      ["ffff2222", "run-ffff2222", "1"],
    ]);
    expect(got[0]).toMatchObject({
      build_name: "tempest-full",
      probabilities: { "0": 0.25, "1": 0.75 },
      model: { dataset: "ds", experiment: "exp" },
    });
    expect(got[0]!.latency_ms).toBeGreaterThanOrEqual(0);
    const warnings = svc.events.filter((e) => e.type === "warning").map((e) => (e.type === "warning" ? e.message : ""));
    expect(warnings.some((w) => w.includes("payload is not JSON"))).toBe(true);
    expect(warnings.some((w) => w.includes("not UTF-8"))).toBe(true);
    expect(svc.events.some((e) => e.type === "info" && e.message === "no runs for build unknown0")).toBe(true);
    expect(svc.events.filter((e) => e.type === "prediction").length).toBe(2);
  }, 60_000);

  test("a prediction is published before its cache writes land; writes that fail are a warning, not a retry", async () => {
    const base = uniqueTopic("write-behind");
    const out = `${base}-predictions`;
    const collector = await MqttTestClient.connect();
    cleanups.push(() => collector.close());
    await collector.subscribe(out);
    let handled = 0;
    let failWrites: (err: Error) => void = () => {};
    const svc = startService(options(1883, `${base}/#`, out), async (e, signal) => {
      handled++;
      const outcome = await predictOneRun(e, signal);
      return { ...outcome, saved: new Promise<void>((_, reject) => (failWrites = reject)) };
    });
    await svc.waitFor("connection", () => svc.connected() === 1);
    await collector.publish(firehoseTopic(base), event("aaaa1111"));
    // published while the writes are still under way
    await collector.waitFor(1);
    expect(svc.counts().inFlight).toBe(1);
    failWrites(new Error("disk full at /ws/.raw/run-aaaa1111.csv.gz"));
    await svc.waitFor("the build to settle", () => svc.counts().inFlight === 0);
    const counts = await svc.stop();
    expect(counts).toMatchObject({ messages: 1, matched: 1, predictions: 1, retries: 0, failed: 0 });
    expect(handled).toBe(1);
    expect(svc.events.filter((e) => e.type === "warning").map((e) => (e.type === "warning" ? e.message : ""))).toContain(
      "build aaaa1111: predicted, but its runs were not cached: disk full at /ws/.raw/run-aaaa1111.csv.gz",
    );
  });

  test("retries a failing build a bounded number of times, reports it, and tries it again on a later event", async () => {
    const base = uniqueTopic("retries");
    const out = `${base}-predictions`;
    const collector = await MqttTestClient.connect();
    cleanups.push(() => collector.close());
    await collector.subscribe(out);
    const calls = new Map<string, number>();
    let logServerUp = false;
    const svc = startService(options(1883, `${base}/#`, out), async (e, signal) => {
      const n = (calls.get(uuidOf(e)) ?? 0) + 1;
      calls.set(uuidOf(e), n);
      if (uuidOf(e) === "flaky01" && n === 1) throw new Error("connection refused by log server");
      if (uuidOf(e) === "down01" && !logServerUp) throw new Error("log server returned 503");
      return predictOneRun(e, signal);
    });
    await svc.waitFor("connection", () => svc.connected() === 1);
    await collector.publish(firehoseTopic(base), event("flaky01"));
    await collector.publish(firehoseTopic(base), event("down01"));
    await svc.waitFor("the failing build to be given up", () => svc.counts().failed === 1);
    await collector.waitFor(1);
    expect(calls.get("down01")).toBe(3);
    expect(calls.get("flaky01")).toBe(2);
    const gaveUp = svc.events.filter((e) => e.type === "warning" && e.message.includes("gave up"));
    expect(gaveUp.map((e) => (e.type === "warning" ? e.message : ""))).toEqual([
      "build down01: gave up after 3 attempts: log server returned 503",
    ]);

    logServerUp = true;
    await collector.publish(firehoseTopic(base), event("down01"));
    await collector.waitFor(2);
    const counts = await svc.stop();
    expect(counts).toMatchObject({ failed: 1, retries: 3, predictions: 2, duplicates: 0 });
    expect(
      collector
        .json<PredictionMessage>()
        .map((m) => m.build_uuid)
        .sort(),
    ).toEqual(["down01", "flaky01"]);
  }, 60_000);

  test("reconnects after the broker restarts, says so once per outage, and processes later events", async () => {
    const broker = await PrivateMosquitto.start();
    cleanups.push(() => broker.stop());
    const base = uniqueTopic("restart");
    const out = `${base}-predictions`;
    const svc = startService(options(broker.port, `${base}/#`, out), predictOneRun);
    await svc.waitFor("connection", () => svc.connected() === 1);
    let collector = await MqttTestClient.connect(broker.port);
    await collector.subscribe(out);
    await collector.publish(firehoseTopic(base), event("before01"));
    await collector.waitFor(1);
    await collector.close();

    await broker.stop();
    // Long enough for several reconnect attempts at the test's 50–200 ms backoff.
    await svc.waitFor("the outage to be noticed", () =>
      svc.events.some((e) => e.type === "warning" && e.message.startsWith("lost the broker")),
    );
    await Bun.sleep(1500);
    await broker.start();
    await svc.waitFor("the reconnection", () => svc.connected() === 2);

    collector = await MqttTestClient.connect(broker.port);
    cleanups.push(() => collector.close());
    await collector.subscribe(out);
    await collector.publish(firehoseTopic(base), event("after01"));
    await collector.waitFor(1);
    expect(collector.json<PredictionMessage>()[0]!.build_uuid).toBe("after01");

    const counts = await svc.stop();
    expect(counts.predictions).toBe(2);
    const lost = svc.events.filter((e) => e.type === "warning" && e.message.startsWith("lost the broker"));
    expect(lost.length).toBe(1);
    const reconnected = svc.events.find((e) => e.type === "info" && e.message.startsWith("reconnected"));
    const attempts = Number(/\((\d+) attempts?\)/.exec(reconnected?.type === "info" ? reconnected.message : "")?.[1]);
    expect(attempts).toBeGreaterThan(1);
  }, 60_000);

  test("events and predictions travel on two connections, each reconnected on its own when the broker drops it", async () => {
    const broker = await PrivateMosquitto.start();
    cleanups.push(() => broker.stop());
    const base = uniqueTopic("two-connections");
    const out = `${base}-predictions`;
    const id = `ciml-test-${process.pid}`;
    const svc = startService(
      options(broker.port, `${base}/#`, out, {
        broker: { host: "127.0.0.1", port: broker.port, tls: false, websocket: false, clientId: id },
      }),
      predictOneRun,
    );
    await svc.waitFor("connection", () => svc.connected() === 1);
    const collector = await MqttTestClient.connect(broker.port);
    cleanups.push(() => collector.close());
    await collector.subscribe(out);
    // A client that connects with a connection's client id makes the broker drop that connection (MQTT's
    // session takeover); it leaves at once, so the dropped connection can come back.
    const takeOver = async (clientId: string) => {
      const intruder = await mqtt.connectAsync({ host: "127.0.0.1", port: broker.port, protocolVersion: 5, clientId, reconnectPeriod: 0 });
      await intruder.endAsync();
    };

    await takeOver(`${id}-publish`);
    await svc.waitFor("the publishing connection back", () => svc.connected() === 2);
    await collector.publish(firehoseTopic(base), event("pub01"));
    await collector.waitFor(1);

    await takeOver(id);
    await svc.waitFor("the listening connection back", () => svc.connected() === 3);
    await collector.publish(firehoseTopic(base), event("listen01"));
    await collector.waitFor(2);

    expect(collector.json<PredictionMessage>().map((m) => m.build_uuid)).toEqual(["pub01", "listen01"]);
    const counts = await svc.stop();
    expect(counts.predictions).toBe(2);
    // One outage told per drop, whichever connection it was.
    expect(svc.events.filter((e) => e.type === "warning" && e.message.startsWith("lost the broker")).length).toBe(2);
    expect(svc.events.filter((e) => e.type === "info" && e.message.startsWith("reconnected")).length).toBe(2);
  }, 60_000);

  test("stops at once while the broker is away, both connections down and retrying", async () => {
    const broker = await PrivateMosquitto.start();
    cleanups.push(() => broker.stop());
    const svc = startService(options(broker.port, `${uniqueTopic("away")}/#`, "out"), predictOneRun);
    await svc.waitFor("connection", () => svc.connected() === 1);
    await broker.stop();
    await svc.waitFor("the outage to be noticed", () =>
      svc.events.some((e) => e.type === "warning" && e.message.startsWith("lost the broker")),
    );
    // Resolves only if neither connection waits for a broker that is not there.
    expect((await svc.stop()).predictions).toBe(0);
  }, 60_000);

  test("a broker that refuses the credentials stops the service with one line, instead of retrying for ever", async () => {
    const broker = await PrivateMosquitto.start(["allow_anonymous false"]);
    cleanups.push(() => broker.stop());
    const svc = startService(
      options(broker.port, "t/#", "out", {
        broker: { host: "127.0.0.1", port: broker.port, tls: false, websocket: false, username: "ciml", password: "wrong" },
      }),
      predictOneRun,
    );
    const err = await svc.done.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CimlError);
    expect((err as Error).message).toMatch(
      /^the broker at 127\.0\.0\.1:\d+ refused the connection \(Connection refused: (Not authorized|Bad User Name or Password)\); check --username\/--password$/,
    );
  }, 60_000);

  test("on abort, work in flight finishes and is published before the service returns", async () => {
    const base = uniqueTopic("drain");
    const out = `${base}-predictions`;
    const collector = await MqttTestClient.connect();
    cleanups.push(() => collector.close());
    await collector.subscribe(out);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const svc = startService(options(1883, `${base}/#`, out), async (e, signal) => {
      await held;
      return predictOneRun(e, signal);
    });
    await svc.waitFor("connection", () => svc.connected() === 1);
    await collector.publish(firehoseTopic(base), event("slow01"));
    await svc.waitFor("the build to be in flight", () => svc.counts().inFlight === 1);
    const stopped = svc.stop();
    // Released only once the drain has begun, so the work is surely in flight across the stop.
    await svc.waitFor("the drain", () => svc.events.some((e) => e.type === "stage" && e.stage === "drain"));
    release();
    const counts = await stopped;
    expect(counts).toMatchObject({ predictions: 1, abandoned: 0 });
    await collector.waitFor(1);
    expect(collector.json<PredictionMessage>()[0]!.build_uuid).toBe("slow01");
  }, 60_000);

  test("two instances in one share group split 200 events: 200 predictions, none twice", async () => {
    const base = uniqueTopic("share");
    const out = `${base}-predictions`;
    const group = `g${process.pid}${Math.random().toString(36).slice(2, 8)}`;
    const collector = await MqttTestClient.connect();
    cleanups.push(() => collector.close());
    await collector.subscribe(out);
    const a = startService(options(1883, `$share/${group}/${base}/#`, out), predictOneRun);
    const b = startService(options(1883, `$share/${group}/${base}/#`, out), predictOneRun);
    await a.waitFor("a's connection", () => a.connected() === 1);
    await b.waitFor("b's connection", () => b.connected() === 1);
    // "connected" is told once the broker has acknowledged the subscription: both are registered.
    const uuids = Array.from({ length: 200 }, (_, i) => `share${String(i).padStart(4, "0")}`);
    for (const [i, u] of uuids.entries()) await collector.publish(firehoseTopic(base, 600000 + i), event(u));
    await collector.waitFor(200);
    const [ca, cb] = await Promise.all([a.stop(), b.stop()]);
    // Both stopped once the broker acknowledged their last prediction; a duplicate would be here by now.
    await collector.settled(out);
    const got = collector.json<PredictionMessage>().map((m) => m.build_uuid);
    expect(got.length).toBe(200);
    expect(new Set(got).size).toBe(200);
    expect([...new Set(got)].sort()).toEqual(uuids);
    expect(ca.predictions + cb.predictions).toBe(200);
    expect(ca.predictions).toBeGreaterThan(0);
    expect(cb.predictions).toBeGreaterThan(0);
  }, 60_000);
});
