// bench/memory.ts — peak memory of the commands that read one big dstat trace, against the trace's decoded
// size. The goal is a peak RSS of at most twice the decoded trace (docs/cache-data.md, "Memory").
//
//   node_modules/.bin/bun bench/memory.ts [decodedMB=250] [smallRuns=30]
//
// It writes a trace of `decodedMB` MB of dstat CSV (the first 100 rows of the devstack fixture over and over,
// so it gzips small; its times repeat, so the resampler has to hold and sort every row), the same rows with
// times running forward one second a row (as a recording's do, so they are resampled as they are read), plus
// `smallRuns` ordinary traces, into a
// log tree, lists them in a runs file with file:// URLs (docs/runs-file.md), then runs the real CLI
// under /usr/bin/time and reads its "maximum resident set size":
// - cache-data: downloads every run and checks each trace while it streams in;
// - build-dataset: reads every cached trace back (the big one included), resamples, writes the npz; with
//   two columns (a usual dataset), and with every column, unresampled and resampled (the repeating trace,
//   then in a second workspace the forward-running one);
// - db-predict: the prediction path (cache check of the run, then the model input), after a tiny model
//   is trained (not measured); also with a model of every column, unresampled;
// - db-predict into an empty workspace: the same, downloading the big trace first;
// - mqtt-trainer: one firehose event for the big run's build, through the real Mosquitto on 127.0.0.1:1883,
//   the trace downloaded from a log server on loopback (bench/cache.ts's, in a child process), until the
//   prediction is published; its peak is the process's VmHWM, read before it is stopped.
// Each row is printed with its ratio to the decoded trace (the peer), beside the RSS of a bun process that
// does nothing (the floor every command starts from).
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import mqtt from "mqtt";
import { startMqttTrainer } from "./mqtt-trainer-process.ts";
import { gzip } from "../src/io/gzip-json.ts";
import { tableRow } from "./table-row.ts";

const decodedMB = Number(process.argv[2] ?? 250);
const smallRuns = Number(process.argv[3] ?? 30);
const TIME = "/usr/bin/time";
if (!existsSync(TIME)) {
  console.log(`${TIME} is not installed (apt-get install time); nothing measured`);
  process.exit(0);
}

const repo = join(import.meta.dir, "..");
const fixture = readFileSync(join(repo, "tests", "fixtures", "openstack-devstack-focal-rax-dfw-20211021.csv"), "utf8");
const lines = fixture.split("\n").filter((l) => l !== "");
const header = lines.slice(0, 6).join("\n");
// The data rows without their time: the time is rewritten so the trace runs forward one second a row.
const bodies = lines.slice(6).map((l) => l.slice(l.indexOf(",")));

function clock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getUTCDate())}-${two(d.getUTCMonth() + 1)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

const START = Date.UTC(2021, 9, 21, 21, 58, 39);

/**
 * Streams the big trace through gzip into `path`; returns its decoded size in bytes. `forward`: each row's time
 * one second after the last one's, instead of the fixture's 100 times over and over.
 */
async function writeBigTrace(path: string, bytes: number, forward = false): Promise<number> {
  const gz = createGzip({ level: 6 });
  const out = createWriteStream(path);
  gz.pipe(out);
  let written = 0;
  const push = async (text: string) => {
    written += Buffer.byteLength(text);
    if (!gz.write(text)) await new Promise((r) => gz.once("drain", r));
  };
  await push(`${header}\n`);
  let row = 0;
  while (written < bytes) {
    let batch = "";
    for (let i = 0; i < 2000; i++, row++)
      batch += forward ? `${clock(START + row * 1000)}${bodies[row % 100]}\n` : `${lines[6 + (row % 100)]}\n`;
    await push(batch);
  }
  gz.end();
  await new Promise((r) => out.on("close", r));
  return written;
}

function smallTrace(i: number): string {
  // Failed runs (every third) are shorter, so the classes differ and the tiny model has something to learn.
  const rows = i % 3 === 0 ? 300 : bodies.length;
  const start = START + i * 86_400_000;
  return `${header}\n${Array.from({ length: rows }, (_, r) => `${clock(start + r * 1000)}${bodies[r % bodies.length]}`).join("\n")}\n`;
}

const dir = mkdtempSync(join(tmpdir(), "ciml-bench-memory-"));
const logs = join(dir, "logs");
mkdirSync(logs);
const bigPath = join(logs, "big.csv.gz");
const decoded = await writeBigTrace(bigPath, decodedMB * 1e6);
const runs = [{ id: "big-run", result: "success", dstat_url: `file://${bigPath}`, run_at: "2021-10-21T21:58:39Z", build_uuid: "bigbuild" }];
for (let i = 0; i < smallRuns; i++) {
  const path = join(logs, `small-${i}.csv.gz`);
  writeFileSync(path, gzip(new TextEncoder().encode(smallTrace(i))));
  runs.push({
    id: `small-${i}`,
    result: i % 3 === 0 ? "failure" : "success",
    dstat_url: `file://${path}`,
    run_at: new Date(START + i * 86_400_000).toISOString(),
    build_uuid: `b${i}`,
  });
}
const runsFile = join(dir, "runs.jsonl");
writeFileSync(runsFile, `${runs.map((r) => JSON.stringify(r)).join("\n")}\n`);
const forwardPath = join(logs, "big-forward.csv.gz");
const forwardDecoded = await writeBigTrace(forwardPath, decodedMB * 1e6, true);
const forwardRunsFile = join(dir, "runs-forward.jsonl");
const forwardRuns = [{ ...runs[0], id: "big-forward", dstat_url: `file://${forwardPath}` }, ...runs.slice(1)];
writeFileSync(forwardRunsFile, `${forwardRuns.map((r) => JSON.stringify(r)).join("\n")}\n`);
const ws = join(dir, "ws");
const wsForward = join(dir, "ws-forward");
const fresh = join(dir, "fresh");
console.log(
  `trace: ${(decoded / 1e6).toFixed(0)} MB of dstat CSV, ${(statSync(bigPath).size / 1e6).toFixed(1)} MB gzipped; ${smallRuns} small runs beside it`,
);

const MAIN = join(repo, "src", "main.ts");

/** Runs a command under /usr/bin/time; its peak RSS in bytes. */
function peakOfCommand(command: string[]): number {
  const p = spawnSync(TIME, ["-f", "%M", ...command], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const lastLine = p.stderr.trim().split("\n").at(-1) ?? "";
  if (p.status !== 0 || !/^\d+$/.test(lastLine)) throw new Error(`${command.join(" ")} failed (exit ${p.status}):\n${p.stderr}${p.stdout}`);
  return Number(lastLine) * 1024;
}

/** Runs one ciml command under /usr/bin/time; its peak RSS in bytes. */
const peakOf = (args: string[]) => peakOfCommand([process.execPath, MAIN, ...args, "--quiet"]);

/** The peak RSS (VmHWM) of a running process, in bytes. */
function highWaterMark(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmHWM:\s+(\d+) kB$/m);
  if (!line) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(line[1]) * 1024;
}

/**
 * mqtt-trainer in `workspace` (dataset and model, no trace): one gearman-subunit event for `build`, the
 * prediction awaited on the publish topic, then the process's peak RSS, read before SIGTERM ends it.
 */
async function mqttTrainerPeak(workspace: string, runsFile: string, build: string): Promise<number> {
  const trainer = await startMqttTrainer(MAIN, [
    "--runs-file",
    runsFile,
    ...COMMON,
    "--data-path",
    workspace,
    "--dataset",
    "bench",
    "--experiment",
    "tiny",
  ]);
  try {
    const client = await mqtt.connectAsync({ host: "127.0.0.1", port: 1883, protocolVersion: 5 });
    try {
      const published = new Promise<string>((resolve) => client.on("message", (_topic, payload) => resolve(payload.toString())));
      await client.subscribeAsync(trainer.predictions, { qos: 1 });
      await trainer.publishEvent(client, build);
      const prediction = JSON.parse(await published) as { build_uuid?: string };
      if (prediction.build_uuid !== build)
        throw new Error(`mqtt-trainer published a prediction for ${prediction.build_uuid}, not ${build}`);
    } finally {
      await client.endAsync();
    }
    return highWaterMark(trainer.process.pid);
  } finally {
    trainer.process.kill("SIGTERM");
    await trainer.process.exited;
  }
}

const COMMON = ["--build-name", "big"];
const measured: [string, number][] = [];
const measure = (label: string, args: string[]) => measured.push([label, peakOf(args)]);
// bench/cache.ts's static log server (its `serve` mode, no added latency), in a child process.
const server = Bun.spawn([process.execPath, join(import.meta.dir, "cache.ts"), "serve", logs, "0"], { stdout: "pipe", stderr: "inherit" });
let floor = 0;
try {
  floor = peakOfCommand([process.execPath, "-e", "void 0"]);
  measure("cache-data", ["cache-data", "--runs-file", runsFile, ...COMMON, "--data-path", ws]);
  measure("build-dataset (usr, 1m; 1min)", [
    "build-dataset",
    ...COMMON,
    "--data-path",
    ws,
    "--dataset",
    "bench",
    "--features-regex",
    "^(usr|1m)$",
    "--sample-interval",
    "1min",
  ]);
  // Every column, no resampling: an example is the first 5500 complete rows, and only those are stored.
  measure("build-dataset (every column, not resampled)", ["build-dataset", ...COMMON, "--data-path", ws, "--dataset", "bench-all"]);
  // Every column, resampled, of the trace whose times repeat: pandas sorts the rows before it bins them, so
  // every row is held, ~1.5× the text it came from (docs/cache-data.md, "Memory").
  measure("build-dataset (every column; 1min; times out of order)", [
    "build-dataset",
    ...COMMON,
    "--data-path",
    ws,
    "--dataset",
    "bench-all-1min",
    "--sample-interval",
    "1min",
  ]);
  // The same of the forward-running trace: its rows are resampled as they are read, only the bins held.
  peakOf(["cache-data", "--runs-file", forwardRunsFile, ...COMMON, "--data-path", wsForward]);
  measure("build-dataset (every column; 1min; times in order)", [
    "build-dataset",
    ...COMMON,
    "--data-path",
    wsForward,
    "--dataset",
    "bench-all-1min",
    "--sample-interval",
    "1min",
  ]);
  peakOf(["setup-experiment", "--data-path", ws, "--experiment", "tiny", "--hidden-layers", "4", "--epochs", "1"]);
  peakOf(["train-model", "--data-path", ws, "--dataset", "bench", "--experiment", "tiny"]);
  const predict = ["db-predict", "bigbuild", "--runs-file", runsFile, ...COMMON, "--dataset", "bench", "--experiment", "tiny"];
  measure("db-predict (cached trace)", [...predict, "--data-path", ws]);
  // A model of every column, unresampled: the prediction stores only the rows its input uses.
  peakOf(["train-model", "--data-path", ws, "--dataset", "bench-all", "--experiment", "tiny"]);
  const predictAll = ["db-predict", "bigbuild", "--runs-file", runsFile, ...COMMON, "--dataset", "bench-all", "--experiment", "tiny"];
  measure("db-predict (every column, not resampled; cached trace)", [...predictAll, "--data-path", ws]);
  mkdirSync(fresh);
  // A workspace with the dataset and model but not the trace: db-predict downloads it first.
  for (const keep of ["bench", "_experiments"]) spawnSync("cp", ["-r", join(ws, keep), join(fresh, keep)]);
  measure("db-predict (downloads the trace)", [...predict, "--data-path", fresh]);
  // The same workspace for mqtt-trainer, the big run's trace served over HTTP this time.
  const url = new TextDecoder().decode((await server.stdout.getReader().read()).value).trim();
  const httpRuns = join(dir, "runs-http.jsonl");
  writeFileSync(httpRuns, `${JSON.stringify({ ...runs[0], dstat_url: `${url}/big.csv.gz` })}\n`);
  const trainerWs = join(dir, "mqtt");
  mkdirSync(trainerWs);
  for (const keep of ["bench", "_experiments"]) spawnSync("cp", ["-r", join(ws, keep), join(trainerWs, keep)]);
  measured.push(["mqtt-trainer (one event, downloads the trace)", await mqttTrainerPeak(trainerWs, httpRuns, "bigbuild")]);
} finally {
  server.kill();
  rmSync(dir, { recursive: true, force: true });
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
console.log(`\n| command | peak RSS | × decoded trace (goal ≤ 2) |\n|---|---|---|`);
console.log(`| the decoded trace (the peer) | ${mb(decoded)} | 1.00 |`);
// Both big traces hold the same rows; only their times differ, so they are within a few bytes of each other.
console.log(`| the forward-running trace | ${mb(forwardDecoded)} | ${(forwardDecoded / decoded).toFixed(2)} |`);
console.log(`| a bun process that does nothing (the floor) | ${mb(floor)} | ${(floor / decoded).toFixed(2)} |`);
for (const [label, peak] of measured) console.log(`| ${label} | ${mb(peak)} | ${(peak / decoded).toFixed(2)} |`);
for (const [label, peak] of measured)
  tableRow(`peak memory, ${label}, one ${mb(decoded)} trace`, `${mb(peak)} = ${(peak / decoded).toFixed(2)}× the decoded trace`, "≤ 2×");
