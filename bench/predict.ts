// bench/predict.ts — mqtt-trainer (one long-lived process: model loaded once, builds predicted in parallel)
// against the original's way of predicting, one `db-predict` process per event, on the same simulated
// history, the same log server (HTTP on loopback, in a child process) and the real Mosquitto on 1883.
//
//   node_modules/.bin/bun bench/predict.ts [sequentialEvents=60] [burstEvents=60] [dbPredictEvents=8] [brokerPort=1883] [brokerName]
//
// brokerPort: another Mosquitto, e.g. one with `set_tcp_nodelay true` (docs/mqtt.md, "Speed": without it
// the broker holds a small packet until the one before is acknowledged, which the trainer's two
// connections and this bench's two clients are built to avoid), named in the table rows by brokerName;
// bench/predict-nodelay.ts starts one and runs this file against it.
//
// Latency is from publishing the firehose event (QoS 1, by one client: the reporter) to receiving the
// prediction on the publish topic (QoS 1 subscription, by another: the dashboard), one event at a time,
// the next event sent as soon as the prediction arrived. The first event after the trainer starts pays
// one-off costs (the run source opened, code compiled, the first cache writes) and is reported on its own
// line, outside the percentiles, which describe a trainer that has been running. Throughput is a burst of events published at once. Every event is a build whose run is not
// cached yet, so each prediction includes the DB lookup, the download and caching, parsing and the model.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { readRunList } from "../src/io/raw-cache.ts";
import { openSubunit2sql } from "../src/io/subunit2sql.ts";
import { Workspace } from "../src/io/workspace.ts";
import { simulate } from "../src/pipeline/simulate.ts";
import { startMqttTrainer } from "./mqtt-trainer-process.ts";
import { trainOnHistory } from "./trained-history.ts";
import { disk } from "../tests/helpers/disk.ts";
import { tableRow } from "./table-row.ts";

const quiet = { emit: () => {}, signal: new AbortController().signal };

const sequentialEvents = Number(process.argv[2] ?? 60);
const burstEvents = Number(process.argv[3] ?? 60);
const dbPredictEvents = Number(process.argv[4] ?? 8);
const brokerPort = Number(process.argv[5] ?? 1883);
const brokerName = process.argv[6] ?? "Mosquitto as installed";
const TRAIN_RUNS = 200;
const MAIN = join(import.meta.dir, "../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "ciml-bench-predict-"));
const logs = join(dir, "logs");
// bench/cache.ts's static log server (its `serve` mode), without added latency, in a child process.
const server = Bun.spawn([process.execPath, join(import.meta.dir, "cache.ts"), "serve", logs, "0"], { stdout: "pipe", stderr: "inherit" });
let trainer: { kill(signal?: number | NodeJS.Signals): void } | undefined;

const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

try {
  const url = new TextDecoder().decode((await server.stdout.getReader().read()).value).trim();
  const dbUri = `sqlite:///${join(dir, "ci.db")}`;
  const data = join(dir, "data");
  const total = TRAIN_RUNS + 1 + sequentialEvents + burstEvents + dbPredictEvents;
  const t0 = performance.now();
  // One row a second, like devstack's dstat: the parse and resample cost of a real trace is part of the latency.
  await simulate(
    {
      runs: total,
      failureRate: 0.2,
      missingRate: 0,
      buildNames: ["tempest-full"],
      seed: 5,
      dbUri,
      logRoot: logs,
      logUrl: url,
      intervalSeconds: 1,
    },
    quiet,
  );
  await trainOnHistory({ data, dbUri, plots: dir, runs: TRAIN_RUNS, epochs: 10 });
  console.log(`broker: Mosquitto on 127.0.0.1:${brokerPort}`);
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  console.log(
    `setup: ${total} simulated runs (1 s dstat rows), ${TRAIN_RUNS} cached and trained on, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  // The builds whose runs are not cached: the events to predict.
  const cached = new Set(await readRunList(disk, new Workspace(data).buildRuns("tempest-full")));
  const db = await openSubunit2sql(dbUri);
  const fresh: string[] = [];
  for await (const run of db.runsByKeyValue("build_name", "tempest-full")) if (!cached.has(run.uuid)) fresh.push(run.uuid);
  const builds: string[] = [];
  for (const uuid of fresh) builds.push((await db.runMetadata(uuid)).build_uuid!);
  await db.close();
  const forDbPredict = builds.splice(0, dbPredictEvents);
  const dbPredictData = join(dir, "data-db-predict");
  cpSync(data, dbPredictData, { recursive: true });

  // --- mqtt-trainer: one process for all events
  const started = await startMqttTrainer(
    MAIN,
    ["--data-path", data, "--db-uri", dbUri, "--dataset", "ds", "--experiment", "dnn"],
    brokerPort,
  );
  const trainerProc = started.process;
  trainer = trainerProc;
  const out = started.predictions;
  // Two clients, as in real use: Zuul's MQTT reporter (or the firehose) publishes the events, and a
  // dashboard subscribes to the predictions. One client doing both would add a stall of its own on a
  // broker with Nagle's algorithm on: the broker's PUBACK for the event, not yet acknowledged by this
  // process's kernel (delayed ACK), holds the prediction that follows it (docs/mqtt.md, "Speed").
  const reporter = await mqtt.connectAsync({ host: "127.0.0.1", port: brokerPort, protocolVersion: 5 });
  const dashboard = await mqtt.connectAsync({ host: "127.0.0.1", port: brokerPort, protocolVersion: 5 });
  const arrived = new Map<string, number>();
  /** the trainer's own latency_ms of each prediction: from the event's arrival to the prediction */
  const inside = new Map<string, number>();
  let onArrival = () => {};
  dashboard.on("message", (_t, payload) => {
    const m = JSON.parse(payload.toString()) as { build_uuid: string; latency_ms: number };
    arrived.set(m.build_uuid, performance.now());
    inside.set(m.build_uuid, m.latency_ms);
    onArrival();
  });
  await dashboard.subscribeAsync(out, { qos: 1 });
  const until = (cond: () => boolean) => new Promise<void>((resolve) => (onArrival = () => cond() && resolve()));
  const publish = (build: string) => started.publishEvent(reporter, build);

  /** Event → prediction on the dashboard, in ms, for one event published when nothing else is going on. */
  const oneAtATime = async (build: string) => {
    const sent = performance.now();
    const done = until(() => arrived.has(build));
    await publish(build);
    await done;
    return arrived.get(build)! - sent;
  };
  const [firstBuild, ...rest] = builds;
  const firstEvent = await oneAtATime(firstBuild!);
  const sequential = rest.slice(0, sequentialEvents);
  const latencies: number[] = [];
  for (const build of sequential) latencies.push(await oneAtATime(build));
  const burst = rest.slice(sequentialEvents, sequentialEvents + burstEvents);
  const burstStart = performance.now();
  const burstDone = until(() => burst.every((b) => arrived.has(b)));
  for (const build of burst) await publish(build);
  await burstDone;
  const burstSeconds = (Math.max(...burst.map((b) => arrived.get(b)!)) - burstStart) / 1000;
  await Promise.all([reporter.endAsync(), dashboard.endAsync()]);
  trainerProc.kill("SIGTERM");
  const trainerExit = await trainerProc.exited;

  // --- the original's way: one db-predict process per event
  const perEvent: number[] = [];
  for (const build of forDbPredict) {
    const t = performance.now();
    const p = Bun.spawn(
      [
        process.execPath,
        MAIN,
        "db-predict",
        build,
        "--json",
        "--data-path",
        dbPredictData,
        "--db-uri",
        dbUri,
        "--dataset",
        "ds",
        "--experiment",
        "dnn",
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    const text = await new Response(p.stdout).text();
    if ((await p.exited) !== 0 || !text.includes('"type":"prediction"')) throw new Error(`db-predict ${build} failed`);
    perEvent.push(performance.now() - t);
  }

  const mqttRate = burst.length / burstSeconds;
  const dbRate = 1000 / (perEvent.reduce((a, b) => a + b, 0) / perEvent.length);
  console.log(
    `mqtt-trainer (one process): latency p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))} over ${latencies.length} events one at a time; burst of ${burst.length}: ${mqttRate.toFixed(1)} events/s; SIGTERM → exit ${trainerExit}`,
  );
  const insideSequential = sequential.map((b) => inside.get(b)!);
  console.log(
    `  of which inside the trainer (its latency_ms, event arrival → prediction): p50 ${fmt(percentile(insideSequential, 50))}, p99 ${fmt(percentile(insideSequential, 99))}`,
  );
  console.log(
    `  the first event after the trainer started (not in the percentiles): ${fmt(firstEvent)}, inside the trainer ${fmt(inside.get(firstBuild!)!)}`,
  );
  console.log(
    `db-predict (one process per event): p50 ${fmt(percentile(perEvent, 50))}, p99 ${fmt(percentile(perEvent, 99))} per event over ${perEvent.length} events: ${dbRate.toFixed(2)} events/s`,
  );
  tableRow(
    `mqtt-trainer, event → prediction published (local logs, one at a time; ${brokerName})`,
    `p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))} (inside the trainer p50 ${fmt(percentile(insideSequential, 50))})`,
    "p50 ≤ 20 ms, p99 ≤ 50 ms",
  );
  tableRow(
    `mqtt-trainer burst throughput vs one db-predict process per event (${brokerName})`,
    `${mqttRate.toFixed(1)} events/s, ${(mqttRate / dbRate).toFixed(1)}×`,
    "≥ 150 events/s, ≥ 50×",
  );
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")} (${availableParallelism()} cores)`,
  );
  console.log(
    `ratio: throughput ${(mqttRate / dbRate).toFixed(1)}x, latency p50 ${(percentile(perEvent, 50) / percentile(latencies, 50)).toFixed(1)}x lower with mqtt-trainer`,
  );
} finally {
  trainer?.kill("SIGKILL");
  server.kill();
  rmSync(dir, { recursive: true, force: true });
}
