// build-dataset's hot path against its peer, on the same files in the same run:
//  1. parse + resample throughput (MB/s of dstat text): ours (parseDstatCsv + resample 1min + fixed
//     length, all 31 columns) vs pandas.read_csv + resample("1min").mean().dropna() (Debian's python3);
//  2. gunzip of the cached .csv.gz: fflate vs Bun's native zlib vs ciml's own (node:zlib, every member);
//  3. peak RSS of `ciml build-dataset` over a 5,000-run cache (real-sized traces, hard links to a few
//     distinct ones so the disk stays small).
// Run: node_modules/.bin/bun bench/dataset.ts   (BENCH_TRACES, BENCH_RUNS override the sizes)
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gunzipSync } from "fflate";
import { parseDstatCsv } from "../src/io/dstat-csv.ts";
import { gunzip, gzip } from "../src/io/gzip-json.ts";
import { writeRunList, writeRunMetadata } from "../src/io/raw-cache.ts";
import { Workspace } from "../src/io/workspace.ts";
import { matchingColumns, rawExampleInto } from "../src/pipeline/dataset/example-vector.ts";
import { syntheticDstat, uuidFor } from "../tests/dataset-cache.ts";
import { disk } from "../tests/helpers/disk.ts";

const TRACES = Number(process.env.BENCH_TRACES ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 5000);
const ROWS = 5500;
const DISTINCT = 40;

const dir = mkdtempSync(join(tmpdir(), "ciml-bench-dataset-"));
const mb = (bytes: number) => bytes / 1e6;

try {
  // ---- the traces: 5500 one-second rows × 31 columns, classic dstat 0.7.2 layout ----
  const t = performance.now();
  const files: string[] = [];
  let totalBytes = 0;
  for (let i = 0; i < TRACES; i++) {
    const text = syntheticDstat(ROWS - (i % 7) * 300, i + 1, undefined, 5 + (i % 20));
    const path = join(dir, `trace${i}.csv`);
    writeFileSync(path, text);
    files.push(path);
    totalBytes += text.length;
  }
  console.log(`generated ${TRACES} traces, ${mb(totalBytes).toFixed(1)} MB, in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // ---- 1. parse + resample ----
  const ours = () => {
    const started = performance.now();
    let rows = 0;
    for (const path of files) {
      const table = parseDstatCsv(readFileSync(path, "utf8"));
      const columns = matchingColumns(table, null);
      const out = new Float32Array(columns.length * 92);
      rows += rawExampleInto(table, { columns, sample_interval: "1min", aggregation_functions: [], normalized_length: 92 }, out);
    }
    return { seconds: (performance.now() - started) / 1000, rows };
  };
  ours(); // warm-up (JIT)
  const mine = ours();
  const listFile = join(dir, "files.txt");
  writeFileSync(listFile, files.join("\n"));
  const py = Bun.spawnSync([
    "/usr/bin/python3",
    "-c",
    `import sys, time, pandas as pd
paths = open(sys.argv[1]).read().split("\\n")
def run():
    rows = 0
    t = time.perf_counter()
    for p in paths:
        d = pd.read_csv(p, skiprows=6)
        d.index = pd.to_datetime("2018-" + d.pop("time"), format="%Y-%d-%m %H:%M:%S")
        rows += len(d.resample("1min").mean().dropna())
    return time.perf_counter() - t, rows
run()
s, rows = run()
print(s, rows, pd.__version__)`,
    listFile,
  ]);
  if (py.exitCode !== 0) throw new Error(`pandas peer failed: ${py.stderr.toString()}`);
  const [pySeconds, pyRows, pandasVersion] = py.stdout.toString().trim().split(" ");
  const oursRate = mb(totalBytes) / mine.seconds;
  const pandasRate = mb(totalBytes) / Number(pySeconds);
  console.log(`parse+resample 1min, ${TRACES} traces (warm, second pass):`);
  console.log(`  ciml   ${oursRate.toFixed(1)} MB/s  (${((mine.seconds * 1000) / TRACES).toFixed(1)} ms/trace, ${mine.rows} bins)`);
  console.log(
    `  pandas ${pandasRate.toFixed(1)} MB/s  (${((Number(pySeconds) * 1000) / TRACES).toFixed(1)} ms/trace, ${pyRows} bins, pandas ${pandasVersion})`,
  );
  console.log(`  ratio ciml/pandas = ${(oursRate / pandasRate).toFixed(2)}x`);
  if (Number(pyRows) !== mine.rows) console.log(`  WARNING: bin counts differ (${mine.rows} vs ${pyRows})`);

  // ---- 2. gunzip of cached traces ----
  const gz = files.slice(0, DISTINCT).map((p) => gzip(readFileSync(p)));
  const gzBytes = gz.reduce((a, g) => a + g.length, 0);
  const rawBytes = files.slice(0, DISTINCT).reduce((a, p) => a + readFileSync(p).length, 0);
  const time = (fn: (g: Uint8Array) => Uint8Array) => {
    for (const g of gz) fn(g);
    const started = performance.now();
    for (const g of gz) fn(g);
    return (performance.now() - started) / 1000;
  };
  const fflateSeconds = time((g) => gunzipSync(g));
  const bunSeconds = time((g) => Bun.gunzipSync(g as Uint8Array<ArrayBuffer>));
  const oursSeconds = time((g) => gunzip(g));
  console.log(`gunzip ${DISTINCT} cached traces (${mb(gzBytes).toFixed(1)} MB gz → ${mb(rawBytes).toFixed(1)} MB):`);
  console.log(
    `  fflate ${(mb(rawBytes) / fflateSeconds).toFixed(0)} MB/s, Bun.gunzipSync ${(mb(rawBytes) / bunSeconds).toFixed(0)} MB/s, ciml's gunzip (all members) ${(mb(rawBytes) / oursSeconds).toFixed(0)} MB/s`,
  );

  // ---- 3. peak RSS of a 5,000-run build ----
  const wsRoot = join(dir, "ws");
  const ws = new Workspace(wsRoot);
  const sources = gz.map((g, i) => {
    const path = join(dir, `distinct${i}.csv.gz`);
    writeFileSync(path, g);
    return path;
  });
  const runs: string[] = [];
  // The traces are hard links into the cache folder, which no write has made yet.
  mkdirSync(dirname(ws.rawTrace(uuidFor(0))), { recursive: true });
  for (let i = 0; i < RUNS; i++) {
    const uuid = uuidFor(i);
    linkSync(sources[i % sources.length]!, ws.rawTrace(uuid));
    await writeRunMetadata(ws, uuid, { status: i % 10 === 0 ? 1 : 0, artifact: null });
    runs.push(uuid);
  }
  await writeRunList(disk, ws.buildRuns("tempest-full"), runs);
  mkdirSync(join(dir, "plots"), { recursive: true });
  const started = performance.now();
  const child = Bun.spawn(
    [
      process.execPath,
      join(import.meta.dir, "../src/main.ts"),
      "build-dataset",
      "--data-path",
      wsRoot,
      "--sample-interval",
      "1min",
      "--json",
      "--dataset",
      "bench",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // the child has exited
    }
  }, 25);
  const out = await new Response(child.stdout).text();
  const code = await child.exited;
  clearInterval(poll);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`build-dataset failed: ${await new Response(child.stderr).text()}`);
  const result = out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .find((e) => e.type === "result");
  const s = result.summary;
  console.log(
    `build-dataset over ${RUNS} cached runs (${ROWS}-row × 31-column traces, 1min, all columns → ${s.features} features, float32):`,
  );
  console.log(
    `  ${seconds.toFixed(1)} s (${(RUNS / seconds).toFixed(0)} runs/s), training/dev/test ${s.training}/${s.dev}/${s.test}, excluded ${s.excluded}`,
  );
  const matrixMb = (s.training * s.features * 4) / 1e6;
  console.log(`  peak RSS ${(peakKb / 1024).toFixed(0)} MiB (training matrix alone ${matrixMb.toFixed(0)} MB)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
