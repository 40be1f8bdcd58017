// bench/memory.ts — peak memory of the commands that read one big dstat trace, against the trace's decoded
// size. The goal is a peak RSS of at most twice the decoded trace (docs/cache-data.md, "Memory").
//
//   node_modules/.bin/bun bench/memory.ts [decodedMB=250] [smallRuns=30]
//
// It writes a trace of `decodedMB` MB of dstat CSV (the first 100 rows of the devstack fixture over and over,
// so it gzips as small as the 1.4 MB; its times repeat, so the resampler also has to sort), plus
// `smallRuns` ordinary traces, into a
// log tree, lists them in a runs file with file:// URLs (docs/runs-file.md), then runs the real CLI
// under /usr/bin/time and reads its "maximum resident set size":
// - cache-data: downloads every run and checks each trace while it streams in;
// - build-dataset: reads every cached trace back (the big one included), resamples, writes the npz; with
//   two columns (a usual dataset), and with every column unresampled (the worst case);
// - db-predict: the prediction path (cache check of the run, then the model input), after a tiny model
//   is trained (not measured);
// - db-predict into an empty workspace: the same, downloading the big trace first.
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import { gzip } from "../src/io/gzip-json.ts";

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

/** Streams the big trace through gzip into `path`; returns its decoded size in bytes. */
async function writeBigTrace(path: string, bytes: number): Promise<number> {
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
    for (let i = 0; i < 2000; i++, row++) batch += `${lines[6 + (row % 100)]}\n`;
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
const ws = join(dir, "ws");
const fresh = join(dir, "fresh");
console.log(
  `trace: ${(decoded / 1e6).toFixed(0)} MB of dstat CSV, ${(statSync(bigPath).size / 1e6).toFixed(1)} MB gzipped; ${smallRuns} small runs beside it`,
);

/** Runs one ciml command under /usr/bin/time; its peak RSS in bytes. */
function peakOf(args: string[]): number {
  const cli = [process.execPath, join(repo, "src", "main.ts"), ...args, "--quiet"];
  const p = spawnSync(TIME, ["-f", "%M", ...cli], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const lastLine = p.stderr.trim().split("\n").at(-1) ?? "";
  if (p.status !== 0 || !/^\d+$/.test(lastLine)) throw new Error(`ciml ${args[0]} failed (exit ${p.status}):\n${p.stderr}${p.stdout}`);
  return Number(lastLine) * 1024;
}

const COMMON = ["--build-name", "big"];
const measured: [string, number][] = [];
const measure = (label: string, args: string[]) => measured.push([label, peakOf(args)]);
try {
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
  // The worst case: every column of the trace kept, no resampling (the table is ~1.5× the text it came from).
  measure("build-dataset (every column, not resampled)", ["build-dataset", ...COMMON, "--data-path", ws, "--dataset", "bench-all"]);
  peakOf(["setup-experiment", "--data-path", ws, "--experiment", "tiny", "--hidden-layers", "4", "--epochs", "1"]);
  peakOf(["train-model", "--data-path", ws, "--dataset", "bench", "--experiment", "tiny"]);
  const predict = ["db-predict", "bigbuild", "--runs-file", runsFile, ...COMMON, "--dataset", "bench", "--experiment", "tiny"];
  measure("db-predict (cached trace)", [...predict, "--data-path", ws]);
  mkdirSync(fresh);
  // A workspace with the dataset and model but not the trace: db-predict downloads it first.
  for (const keep of ["bench", "_experiments"]) spawnSync("cp", ["-r", join(ws, keep), join(fresh, keep)]);
  measure("db-predict (downloads the trace)", [...predict, "--data-path", fresh]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\n| command | peak RSS | × decoded trace (goal ≤ 2) |\n|---|---|---|`);
for (const [label, peak] of measured) console.log(`| ${label} | ${(peak / 1e6).toFixed(0)} MB | ${(peak / decoded).toFixed(2)} |`);
