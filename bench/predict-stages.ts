// bench/predict-stages.ts — where one prediction's time goes: each stage of the prediction path timed on
// its own for runs that are not cached yet (DB queries, HTTP fetch, gunzip, dstat parse, cache writes, the
// resample + normalise into the model's input, the model call), then the whole path (predictBuild) for
// the same kind of runs, and the stage that parsing once removed (reading the cached trace back and parsing it again).
//
//   node_modules/.bin/bun bench/predict-stages.ts [events=20]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readDstat } from "../src/io/dstat-csv.ts";
import { gunzipStream, isGzip, gzip } from "../src/io/gzip-json.ts";
import { fetchDstat } from "../src/io/log-server.ts";
import { readRunList, readTraceText, writeRunMetadata, writeTraceGz } from "../src/io/raw-cache.ts";
import { openSubunit2sql } from "../src/io/subunit2sql.ts";
import { Workspace } from "../src/io/workspace.ts";
import { exampleFromTable } from "../src/pipeline/dataset/example-vector.ts";
import { predictBuild, withPredictor } from "../src/pipeline/predict/predict-build.ts";
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

  const stages: Record<string, number[]> = {};
  const time = async <T>(name: string, f: () => T | Promise<T>): Promise<T> => {
    const t = performance.now();
    const out = await f();
    const times = stages[name] ?? [];
    times.push(performance.now() - t);
    stages[name] = times;
    return out;
  };
  const totals: number[] = [];
  await withPredictor({ dataPath: data, dbUri, dataset: "ds", experiment: "dnn" }, quiet, async (p) => {
    for (const buildUuid of staged) {
      const [run] = await time("run source queries (runs of the build, their metadata)", async () => {
        const { runs } = await p.source.runsOfBuild(buildUuid, "tempest-full", quiet.signal);
        await runs[0]!.metadata(p.policy, quiet.signal);
        return runs;
      });
      if (!run) throw new Error(`build ${buildUuid}: no run`);
      const got = await time("HTTP fetch (path the host answered last; gunzip included)", () =>
        fetchDstat(run.logRoot!, p.policy, async () => null, quiet.signal),
      );
      if (got.kind !== "found") throw new Error(`${run.id}: ${got.kind}`);
      const year = Number(run.runAt?.slice(0, 4));
      // The cache check does this while the body streams in; timed apart here.
      const table = await time("gunzip + dstat parse (streamed)", () =>
        readDstat(isGzip(got.body) ? gunzipStream(got.body) : got.body, { year }),
      );
      await time("cache writes (trace gzip, metadata)", async () => {
        await writeTraceGz(p.ws, run.id, isGzip(got.body) ? got.body : gzip(got.body));
        await writeRunMetadata(p.ws, run.id, { status: run.status, artifact: run.logRoot });
      });
      await time("removed: cached trace read back and parsed again", async () =>
        readDstat((await readTraceText(p.ws, run.id))!.chunks, { year }),
      );
      await time("run list update (this process's found-runs list rewritten)", () => p.found.add("tempest-full", [run.id]));
      const example = await time("resample + normalise (exampleFromTable)", () => exampleFromTable(table, p.config));
      await time("tfjs predict (one row)", () => p.model.predict(example, 1));
    }
    for (const buildUuid of whole) {
      const t = performance.now();
      const out = await predictBuild(p, buildUuid, "tempest-full", quiet.signal);
      totals.push(performance.now() - t);
      if (out.predictions.length !== 1) throw new Error(`${buildUuid}: ${out.skipped.join("; ")}`);
    }
  });
  console.log(`one prediction, ${events} uncached runs each (medians; 1 s dstat rows, log server on loopback without latency):`);
  for (const [name, xs] of Object.entries(stages)) console.log(`  ${name.padEnd(58)} ${median(xs).toFixed(1).padStart(7)} ms`);
  console.log(`  ${"whole path (predictBuild), other runs".padEnd(58)} ${median(totals).toFixed(1).padStart(7)} ms`);
} finally {
  server.kill();
  rmSync(dir, { recursive: true, force: true });
}
