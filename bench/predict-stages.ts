// bench/predict-stages.ts — where one prediction's time goes: each stage of mqtt-trainer's path timed on
// its own for runs that are not cached yet (DB queries, HTTP fetch, gunzip, dstat parse, cache writes and
// their fsync, the found-runs list, the resample + normalise into the model's input, the forward pass, the
// QoS 1 publish to the Mosquitto on 1883, the --json line), then the whole path (predictBuild) for the
// same kind of runs: to the prediction, and until its cache writes landed (they go on after the publish).
//
//   node_modules/.bin/bun bench/predict-stages.ts [events=20]
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { readDstat } from "../src/io/dstat-csv.ts";
import { gunzip, isGzip, gzip } from "../src/io/gzip-json.ts";
import { fetchDstat } from "../src/io/log-server.ts";
import { readRunList, writeRunMetadata, writeTraceGz } from "../src/io/raw-cache.ts";
import { openSubunit2sql } from "../src/io/subunit2sql.ts";
import { Workspace } from "../src/io/workspace.ts";
import { exampleFromTable } from "../src/pipeline/dataset/example-vector.ts";
import { predictBuild, withPredictor } from "../src/pipeline/predict/predict-build.ts";
import { predictionMessage } from "../src/pipeline/predict/prediction-message.ts";
import { predictExamples, predictionEvent } from "../src/pipeline/predict/predict-run.ts";
import { JsonReporter } from "../src/tui/json-reporter.ts";
import { simulate } from "../src/pipeline/simulate.ts";
import { trainOnHistory } from "./trained-history.ts";
import { disk } from "../tests/helpers/disk.ts";

const quiet = { emit: () => {}, signal: new AbortController().signal };
const events = Number(process.argv[2] ?? 20);
const TRAIN_RUNS = 100;
const dir = mkdtempSync(join(tmpdir(), "ciml-bench-stages-"));
const logs = join(dir, "logs");
const server = Bun.spawn([process.execPath, join(import.meta.dir, "cache.ts"), "serve", logs, "0"], { stdout: "pipe", stderr: "inherit" });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const url = new TextDecoder().decode((await server.stdout.getReader().read()).value).trim();
  const dbUri = `sqlite:///${join(dir, "ci.db")}`;
  const data = join(dir, "data");
  // One row a second, like devstack's dstat, as bench/predict.ts.
  const sim = { failureRate: 0.2, missingRate: 0, buildNames: ["tempest-full"], seed: 5, dbUri, logRoot: logs, logUrl: url };
  await simulate({ ...sim, runs: TRAIN_RUNS + 2 * events, intervalSeconds: 1 }, quiet);
  await trainOnHistory({ data, dbUri, plots: dir, runs: TRAIN_RUNS, epochs: 2 });

  const cached = new Set(await readRunList(disk, new Workspace(data).buildRuns("tempest-full")));
  const db = await openSubunit2sql(dbUri);
  const fresh: string[] = [];
  for await (const run of db.runsByKeyValue("build_name", "tempest-full"))
    if (!cached.has(run.uuid)) fresh.push(String((await db.runMetadata(run.uuid)).build_uuid));
  await db.close();
  const [staged, whole] = [fresh.slice(0, events), fresh.slice(events, 2 * events)];

  // Wall time, and CPU time (process.cpuUsage: every thread of the process) which the other work on a
  // loaded machine does not inflate as much: gunzip and parse are pure CPU, so their CPU time is their cost.
  const stages: Record<string, { wall: number[]; cpu: number[] }> = {};
  const time = async <T>(name: string, f: () => T | Promise<T>): Promise<T> => {
    const cpu = process.cpuUsage();
    const t = performance.now();
    const out = await f();
    const used = process.cpuUsage(cpu);
    const stage = stages[name] ?? { wall: [], cpu: [] };
    stage.wall.push(performance.now() - t);
    stage.cpu.push((used.user + used.system) / 1000);
    stages[name] = stage;
    return out;
  };
  const totals: number[] = [];
  const totalsCpu: number[] = [];
  const untilSaved: number[] = [];
  // The broker and the face's output, as mqtt-trainer --json has them.
  const client = await mqtt.connectAsync({ host: "127.0.0.1", port: 1883, protocolVersion: 5 });
  const devNull = openSync("/dev/null", "w");
  const reporter = new JsonReporter({ write: (line) => writeSync(devNull, `${line}\n`) });
  await withPredictor({ dataPath: data, dbUri, dataset: "ds", experiment: "dnn" }, quiet, async (p) => {
    for (const buildUuid of staged) {
      const [run] = await time("run source queries (runs of the build, their metadata)", async () => {
        const { runs } = await p.source.runsOfBuild(buildUuid, "tempest-full", quiet.signal);
        await runs[0]!.metadata(p.policy, quiet.signal);
        return runs;
      });
      if (!run) throw new Error(`build ${buildUuid}: no run`);
      const got = await time("HTTP fetch (the path the host answered last)", () =>
        fetchDstat(run.logRoot!, p.policy, async () => null, quiet.signal),
      );
      if (got.kind !== "found") throw new Error(`${run.id}: ${got.kind}`);
      const year = Number(run.runAt?.slice(0, 4));
      const text = await time("gunzip", () => (isGzip(got.body) ? gunzip(got.body) : got.body));
      // The cache check parses while the body streams in, keeping the dataset's columns; timed apart here.
      const table = await time("dstat parse (the dataset's columns kept)", () =>
        readDstat(
          (async function* () {
            yield text;
          })(),
          { year, columns: p.config.columns },
        ),
      );
      const gz = isGzip(got.body) ? got.body : gzip(got.body);
      await time("cache writes (metadata then trace, each fsynced; off the event loop)", async () => {
        await writeRunMetadata(p.ws, run.id, { status: run.status, artifact: run.logRoot });
        await writeTraceGz(p.ws, run.id, gz);
      });
      await time("  of which one fsync (the trace's bytes to a new file)", () => {
        const path = join(dir, `fsync-${run.id}`);
        const fd = openSync(path, "w");
        writeSync(fd, gz);
        fsyncSync(fd);
        closeSync(fd);
        rmSync(path);
      });
      await time("found-runs list write (src/io/found-runs.ts, 1 fsync)", () => p.found.add("tempest-full", [run.id]));
      const example = await time("resample + normalise (exampleFromTable)", () => exampleFromTable(table, p.config));
      const [prediction] = await time("model forward pass (one row)", () =>
        predictExamples(p, [{ kind: "example", runUuid: run.id, example, metadata: { status: run.status, artifact: null } }]),
      );
      const message = predictionMessage(buildUuid, prediction!, p, 1);
      await time("publish (QoS 1, until the broker's acknowledgement)", () =>
        client.publishAsync(`ciml-bench/${process.pid}/stages`, JSON.stringify(message), { qos: 1 }),
      );
      await time("event emission (the --json line of the prediction)", () => reporter.event(predictionEvent(prediction!, 1)));
    }
    for (const buildUuid of whole) {
      const cpu = process.cpuUsage();
      const t = performance.now();
      const out = await predictBuild(p, buildUuid, "tempest-full", quiet.signal);
      totals.push(performance.now() - t);
      const used = process.cpuUsage(cpu);
      totalsCpu.push((used.user + used.system) / 1000);
      await out.saved;
      untilSaved.push(performance.now() - t);
      if (out.predictions.length !== 1) throw new Error(`${buildUuid}: ${out.skipped.join("; ")}`);
    }
  });
  await client.endAsync();
  console.log(`one prediction, ${events} uncached runs each (medians; 1 s dstat rows, log server on loopback without latency):`);
  console.log(`  ${"".padEnd(68)} ${"wall".padStart(8)}    ${"CPU".padStart(8)}`);
  for (const [name, { wall, cpu }] of Object.entries(stages))
    console.log(`  ${name.padEnd(68)} ${median(wall).toFixed(2).padStart(8)} ms ${median(cpu).toFixed(2).padStart(8)} ms`);
  console.log(
    `  ${"whole path (predictBuild) to the prediction, other runs".padEnd(68)} ${median(totals).toFixed(2).padStart(8)} ms ${median(totalsCpu).toFixed(2).padStart(8)} ms`,
  );
  console.log(`  ${"whole path until its cache writes landed".padEnd(68)} ${median(untilSaved).toFixed(2).padStart(8)} ms`);
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
} finally {
  server.kill();
  rmSync(dir, { recursive: true, force: true });
}
