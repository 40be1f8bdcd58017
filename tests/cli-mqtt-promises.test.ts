// mqtt-trainer's promises through the CLI, as a user runs it, against a private Mosquitto that wants a
// user and password, a subunit2sql SQLite database and an HTTP log server on loopback:
// the login works and the password never shows; predictions go out at QoS 1; a run cache-data listed as
// unavailable is skipped without a download; a full backlog drops and counts; Ctrl-C drains within its
// cap and says "Stopped after N events"; a second Ctrl-C exits at once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { gzip, writeJsonGz } from "../src/io/gzip-json.ts";
import { disk } from "./helpers/disk.ts";
import { sqliteHistory, type HistoryDb } from "./helpers/ci-history.ts";
import { serveLogTree, type TestLogServer } from "./helpers/log-server.ts";
import { PrivateMosquitto } from "./helpers/private-mosquitto.ts";
import { uuidFor } from "./dataset-cache.ts";
import { BUILD_NAME, buildUuidFor, DATASET, EXPERIMENT, syntheticRun, trainedWorkspace } from "./helpers/trained-workspace.ts";
import { MAIN } from "./helpers/run-ciml.ts";

const CACHED = 90;
const USER = "ciml-trainer";
const PASSWORD = "Mq7t@Rk2v#Zs9w";
/** Runs past the cache, by role: predicted, listed as unavailable, and stalled downloads for the backlog tests. */
const GOOD = CACHED;
const UNAVAILABLE = CACHED + 1;
const STALLED = [CACHED + 2, CACHED + 3, CACHED + 4, CACHED + 5];

const work = mkdtempSync(join(tmpdir(), "ciml-mqtt-promises-"));
const dataPath = join(work, "data");
let history: HistoryDb;
let logs: TestLogServer;
let broker: PrivateMosquitto;
const timers = new Set<ReturnType<typeof setInterval>>();
/** Every trainer started: one a failed test left running (it runs until Ctrl-C) is killed at the end. */
const children: { kill(signal?: number | NodeJS.Signals): void; exitCode: number | null }[] = [];

/**
 * A download that never ends: headers at once, then a byte now and then, so no clock but --timeout runs out.
 * The bytes are a dstat CSV's header and then blank lines, which the check (it reads while the body streams)
 * accepts so far: anything that is not dstat would be refused at once, and the download would end.
 */
function trickle(): Response {
  let timer: ReturnType<typeof setInterval>;
  return new Response(
    new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('"time","usr","sys"\n'));
        timer = setInterval(() => c.enqueue(new TextEncoder().encode("\n")), 2000);
        timers.add(timer);
      },
      cancel() {
        clearInterval(timer);
      },
    }),
  );
}

beforeAll(async () => {
  await trainedWorkspace(dataPath, CACHED);
  await writeJsonGz(disk, join(dataPath, ".raw", ".unavailable", `${BUILD_NAME}.json.gz`), [uuidFor(UNAVAILABLE)]);
  const stalled = new Set(STALLED.map(uuidFor));
  logs = serveLogTree({
    route(path) {
      const run = path.split("/")[1] ?? "";
      if (stalled.has(run)) return trickle();
      if (run === uuidFor(GOOD) || run === uuidFor(UNAVAILABLE))
        return new Response(gzip(new TextEncoder().encode(syntheticRun(GOOD).trace)));
      return undefined;
    },
  });
  history = await sqliteHistory();
  await history.add(
    [GOOD, UNAVAILABLE, ...STALLED].map((i) => ({
      uuid: uuidFor(i),
      status: syntheticRun(i).status,
      metadata: { build_name: BUILD_NAME, build_uuid: buildUuidFor(i) },
    })),
    logs.url,
  );
  const passwords = join(work, "passwords");
  const made = Bun.spawnSync(["mosquitto_passwd", "-b", "-c", passwords, USER, PASSWORD]);
  expect(made.exitCode).toBe(0);
  // Mosquitto started as root reads the file as its own user, after dropping root.
  chmodSync(work, 0o755);
  chmodSync(passwords, 0o644);
  broker = await PrivateMosquitto.start(["allow_anonymous false", `password_file ${passwords}`]);
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const t of timers) clearInterval(t);
  await broker?.stop();
  logs?.stop();
  await history?.drop();
  rmSync(work, { recursive: true, force: true });
}, 30_000);

/** An MQTT client logged in as the trainer's user; it records each message with the QoS it came with. */
async function client(): Promise<{ c: MqttClient; got: { topic: string; qos: number; payload: string }[] }> {
  const c = await mqtt.connectAsync({ host: "127.0.0.1", port: broker.port, username: USER, password: PASSWORD, reconnectPeriod: 0 });
  const got: { topic: string; qos: number; payload: string }[] = [];
  c.on("message", (topic, payload, packet) => got.push({ topic, qos: packet.qos, payload: payload.toString() }));
  return { c, got };
}

const event = (i: number) => JSON.stringify({ build_uuid: buildUuidFor(i), source_url: "http://logs.example.org/x", status: "success" });

async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** `ciml mqtt-trainer` in a child process, its output collected as it comes. */
function trainer(topic: string, face: string, extra: string[] = [], env: Record<string, string> = {}) {
  const args = [
    "mqtt-trainer",
    face,
    "--mqtt-hostname",
    "127.0.0.1",
    "--port",
    String(broker.port),
    "--username",
    USER,
    "--topic",
    `${topic}/#`,
    "--publish-topic",
    `${topic}-out`,
    "--db-uri",
    history.uri,
    "--data-path",
    dataPath,
    "--dataset",
    DATASET,
    "--experiment",
    EXPERIMENT,
    "--dstat-path",
    "logs/dstat-csv_log.txt.gz",
    ...extra,
  ];
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CIML_")));
  const p = Bun.spawn([process.execPath, MAIN, ...args], {
    env: { ...clean, CI: "true", CIML_MQTT_PASSWORD: PASSWORD, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const seen = { out: "", err: "" };
  const pump = async (stream: ReadableStream<Uint8Array>, key: "out" | "err") => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) seen[key] += decoder.decode(chunk, { stream: true });
  };
  const pumped = Promise.all([pump(p.stdout, "out"), pump(p.stderr, "err")]);
  children.push(p);
  return {
    seen,
    p,
    /** Exit code once the process ends; killed (and failed) if it has not ended within `ms`. */
    async ended(ms = 60_000): Promise<number> {
      const guard = setTimeout(() => p.kill("SIGKILL"), ms);
      const code = await p.exited;
      clearTimeout(guard);
      await pumped;
      return code;
    },
  };
}

const requestsFor = (i: number) => logs.requests.filter((r) => r.startsWith(`/${uuidFor(i)}/`)).length;

describe("mqtt-trainer through the CLI", () => {
  test("logs in with a user and password, publishes at QoS 1, skips an unavailable run, says what it did on Ctrl-C (--json)", async () => {
    const topic = `ciml-test/login-${process.pid}`;
    const { c, got } = await client();
    await c.subscribeAsync(`${topic}-out`, { qos: 1 });
    const t = trainer(topic, "--json");
    await until("the connection", () => t.seen.out.includes(`"detail":"connected to 127.0.0.1:${broker.port}`));
    await c.publishAsync(`${topic}/subunit-worker01/openstack/nova/1`, event(GOOD), { qos: 1 });
    await c.publishAsync(`${topic}/subunit-worker01/openstack/nova/2`, event(UNAVAILABLE), { qos: 1 });
    await until("the prediction", () => got.length === 1);
    await until("the skip", () => t.seen.out.includes("cache-data listed it as unavailable"));
    t.p.kill("SIGINT");
    expect(await t.ended()).toBe(0);
    await c.endAsync();

    expect(got[0]).toMatchObject({ topic: `${topic}-out`, qos: 1 });
    expect(JSON.parse(got[0]!.payload)).toMatchObject({ build_uuid: buildUuidFor(GOOD), run_uuid: uuidFor(GOOD) });
    expect(requestsFor(UNAVAILABLE)).toBe(0);
    const events = t.seen.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; message?: string; lines?: string[]; summary?: Record<string, number> });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["stage", "progress", "info", "prediction", "result"]));
    expect(events.at(-1)).toMatchObject({ type: "result", summary: { messages: 2, predictions: 1, skipped: 1, matched: 1 } });
    expect(events.at(-1)!.lines![0]).toBe("Stopped after 2 events: 1 predictions published, 1 builds skipped, 0 failed.");
    expect(events.find((e) => e.message?.includes("unavailable"))!.message).toBe(
      `${uuidFor(UNAVAILABLE)}: ignored by configuration (no dstat file; cache-data listed it as unavailable)`,
    );
    expect(t.seen.err).toBe("");
    for (const piece of PASSWORD.split(/[@#]/)) expect(t.seen.out).not.toContain(piece);
  }, 120_000);

  test("--quiet: the prediction and the summary, no progress or narration", async () => {
    const topic = `ciml-test/quiet-${process.pid}`;
    const { c, got } = await client();
    await c.subscribeAsync(`${topic}-out`, { qos: 1 });
    // Retained, so they reach the trainer when it subscribes: --quiet does not say when that is.
    await c.publishAsync(`${topic}/subunit-worker01/openstack/nova/1`, event(GOOD), { qos: 1, retain: true });
    await c.publishAsync(`${topic}/subunit-worker01/openstack/nova/2`, event(UNAVAILABLE), { qos: 1, retain: true });
    const t = trainer(topic, "--quiet");
    await until("the prediction", () => got.length === 1);
    await until("the prediction line", () => t.seen.out.includes(`build ${buildUuidFor(GOOD)}`));
    t.p.kill("SIGINT");
    expect(await t.ended()).toBe(0);
    await c.endAsync();
    const lines = t.seen.out.trim().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^${uuidFor(GOOD)}: predicted \\d \\(p=0\\.\\d{3}\\) actual \\d build ${buildUuidFor(GOOD)}`)),
      "Stopped after 2 events: 1 predictions published, 1 builds skipped, 0 failed.",
      "Backlog: 0 builds left unpredicted at stop, 0 dropped because the backlog stayed full.",
      expect.stringMatching(/^mqtt-trainer done: messages=2 /),
    ]);
    expect(t.seen.err).toBe("");
  }, 60_000);

  test("a wrong password stops it with one line and exit 1, the password not shown", async () => {
    const t = trainer(`ciml-test/refused-${process.pid}`, "--no-tui", ["--password", "Wr0ng#Secret"]);
    expect(await t.ended()).toBe(1);
    const errors = t.seen.err.split("\n").filter((l) => l.startsWith("error: "));
    expect(errors).toEqual([
      expect.stringMatching(
        new RegExp(`^error: the broker at 127\\.0\\.0\\.1:${broker.port} refused the connection \\(.+\\); check --username/--password$`),
      ),
    ]);
    expect(t.seen.out + t.seen.err).not.toContain("Wr0ng");
  }, 60_000);

  test("--queue-size 1: a build beyond it is dropped and counted; Ctrl-C drains within the cap though a download never ends", async () => {
    const topic = `ciml-test/queue-${process.pid}`;
    const { c } = await client();
    const t = trainer(topic, "--no-tui", ["--queue-size", "1", "--concurrency", "1", "--timeout", "600"]);
    await until("the connection", () => t.seen.out.includes(`connected to 127.0.0.1:${broker.port}`));
    const [inFlight, waiting, beyond] = STALLED;
    for (const i of [inFlight!, waiting!, beyond!]) await c.publishAsync(`${topic}/w/openstack/nova/${i}`, event(i), { qos: 1 });
    await c.endAsync();
    // Held by the broker for up to 10 s, then dropped: the one warning says so and what to do.
    await until("the drop", () => t.seen.err.includes("dropped"), 60_000);
    expect(t.seen.err.trim().split("\n")).toEqual([
      `warning: build ${buildUuidFor(beyond!)}: dropped, 1 builds waited for more than 10 s (raise --concurrency or --queue-size, or add instances with --share-group)`,
    ]);
    expect(requestsFor(inFlight!)).toBeGreaterThan(0);
    expect(requestsFor(waiting!)).toBe(0);
    // The download in flight never ends: only the drain's cap lets the process stop.
    t.p.kill("SIGINT");
    expect(await t.ended(90_000)).toBe(0);
    const lines = t.seen.out.trim().split("\n");
    // Every event in one count: the download cut off by the cap failed, the one waiting was abandoned.
    expect(lines).toContain("Stopped after 3 events: 0 predictions published, 0 builds skipped, 1 failed.");
    expect(lines).toContain(
      "Backlog: 1 builds left unpredicted at stop, 1 dropped because the backlog stayed full (the broker was made to wait 1 times).",
    );
    expect(lines.at(-1)).toMatch(/^mqtt-trainer done: messages=3 .* failed=1 dropped=1 abandoned=1 paused=1 /);
  }, 150_000);

  test("a second Ctrl-C during the drain exits at once with 130", async () => {
    const topic = `ciml-test/twice-${process.pid}`;
    const { c } = await client();
    const t = trainer(topic, "--no-tui", ["--timeout", "600"]);
    await until("the connection", () => t.seen.out.includes(`connected to 127.0.0.1:${broker.port}`));
    const stuck = STALLED[3]!;
    await c.publishAsync(`${topic}/w/openstack/nova/${stuck}`, event(stuck), { qos: 1 });
    await c.endAsync();
    await until("the download in flight", () => requestsFor(stuck) > 0);
    t.p.kill("SIGINT");
    await until("the drain", () => t.seen.out.includes("== drain: 1 in flight"));
    t.p.kill("SIGINT");
    // The drain alone would take its 30 s and exit 0; 130 says the second Ctrl-C cut it short.
    expect(await t.ended(20_000)).toBe(130);
    expect(t.seen.out).not.toContain("Stopped after");
  }, 60_000);
});
