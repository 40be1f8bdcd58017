// bench/cache.ts — cache-data's parallel downloads against the original's one-at-a-time loop, measured in
// the same run against the same HTTP log server on loopback with a realistic per-request latency.
//
//   node_modules/.bin/bun bench/cache.ts [runs=1000] [latencyMs=20] [sequentialRuns=300]
//
// Beside the latency limit (`parallel / latency`: what `parallel` downloads could do if a run cost one
// round trip and no CPU), the bench measures what this machine and this log server can do right now: a
// bare client GETs each run's dstat file once, `parallel` at a time, and only reads the body. On two
// shared cores neither the server nor the client gets a core of its own, so that bare rate, not the
// limit, is the honest ceiling; both ratios are printed, with the load average.
//
// The log server runs in a child process (this file with `serve`), so the client's CPU work (gunzip, dstat
// parse, gzip, atomic writes) does not share an event loop with the server's. The sequential peer does what
// the original's loop did: per run, GET the four paths in order until one is not 404,
// parse the body, store it gzipped, query and store the metadata. It runs on the first `sequentialRuns` runs only, to
// keep the bench short; runs/s is what is compared.
//
// The same child also plays Zuul: `GET /api/tenant/bench/builds` pages through the simulated runs as Zuul
// builds (newest first, with log_url), and every log root has a zuul-info/inventory.yaml. The Zuul peer
// loop pages the API, then per build tries the Zuul dstat paths in order and reads the inventory, one build
// at a time; cache-data --zuul-url does the same work with its parallel downloads.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseDstatCsv } from "../src/io/dstat-csv.ts";
import { gunzip, isGzip, gzip } from "../src/io/gzip-json.ts";
import { DEFAULT_DSTAT_PATHS, joinUrl } from "../src/io/log-server.ts";
import { INVENTORY_PATH, ZUUL_DSTAT_PATHS } from "../src/io/sources/zuul-build.ts";
import { writeRunMetadata, writeTraceGz } from "../src/io/raw-cache.ts";
import { openSubunit2sql, runStatus } from "../src/io/subunit2sql.ts";
import { Workspace } from "../src/io/workspace.ts";
import { cacheData } from "../src/pipeline/cache-data.ts";
import { simulate } from "../src/pipeline/simulate.ts";
import { tableRow } from "./table-row.ts";

const quiet = { emit: () => {}, signal: new AbortController().signal };

const INVENTORY = `all:
  hosts:
    controller:
      nodepool:
        label: ubuntu-jammy
        provider: rax-dfw
`;

if (process.argv[2] === "serve") {
  const [root, latency] = [process.argv[3]!, Number(process.argv[4])];
  // written by the parent once the history exists: [{uuid, result, start_time, path}], newest first
  let builds: { uuid: string; result: string; start_time: string; path: string }[] | undefined;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      await Bun.sleep(latency);
      const url = new URL(req.url);
      if (url.pathname === "/api/tenant/bench/builds") {
        builds ??= await Bun.file(join(root, "..", "builds.json")).json();
        const skip = Number(url.searchParams.get("skip") ?? 0);
        const limit = Number(url.searchParams.get("limit") ?? 50);
        return Response.json(
          builds!.slice(skip, skip + limit).map((b) => ({
            uuid: b.uuid,
            job_name: "tempest-full",
            result: b.result,
            start_time: b.start_time,
            voting: true,
            log_url: `${url.origin}/${b.path}/`,
            pipeline: "gate",
            ref: { project: "openstack/nova", branch: "master", change: 1, patchset: "1" },
          })),
        );
      }
      if (url.pathname.endsWith(INVENTORY_PATH)) return new Response(INVENTORY);
      const file = Bun.file(join(root, decodeURIComponent(url.pathname)));
      return (await file.exists()) ? new Response(file) : new Response("not found", { status: 404 });
    },
  });
  console.log(server.url.href.replace(/\/$/, ""));
  await new Promise(() => {});
}

const runs = Number(process.argv[2] ?? 1000);
const latencyMs = Number(process.argv[3] ?? 20);
const sequentialRuns = Math.min(runs, Number(process.argv[4] ?? 300));
const dir = mkdtempSync(join(tmpdir(), "ciml-bench-cache-"));
const logs = join(dir, "logs");
const child = Bun.spawn([process.execPath, import.meta.path, "serve", logs, String(latencyMs)], { stdout: "pipe", stderr: "inherit" });

try {
  const reader = child.stdout.getReader();
  const url = new TextDecoder().decode((await reader.read()).value).trim();
  const dbUri = `sqlite:///${join(dir, "ci.db")}`;
  const t0 = performance.now();
  const sim = await simulate(
    {
      runs,
      failureRate: 0.1,
      missingRate: 0.02,
      buildNames: ["tempest-full"],
      seed: 1,
      dbUri,
      logRoot: logs,
      logUrl: url,
      intervalSeconds: 10,
    },
    quiet,
  );
  console.log(
    `simulate: ${runs} runs, ${(sim.bytes / 1e6).toFixed(1)} MB of gzipped dstat, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  console.log(`log server: ${url}, ${latencyMs} ms per request, in a child process`);

  // The original's way: one run at a time, paths in order, body and metadata stored before the next run.
  const seqWs = new Workspace(join(dir, "sequential"));
  const db = await openSubunit2sql(dbUri);
  let seqCached = 0;
  const t1 = performance.now();
  let n = 0;
  for await (const run of db.runsByKeyValue("build_name", "tempest-full")) {
    if (n++ >= sequentialRuns) break;
    for (const path of DEFAULT_DSTAT_PATHS) {
      const response = await fetch(joinUrl(run.artifacts!, path));
      if (response.status === 404) {
        await response.arrayBuffer();
        continue;
      }
      const body = new Uint8Array(await response.arrayBuffer());
      // The original parsed what it had just cached; so does this peer, to compare like with like.
      parseDstatCsv(new TextDecoder().decode(isGzip(body) ? gunzip(body) : body));
      await writeTraceGz(seqWs, run.uuid, isGzip(body) ? body : gzip(body));
      await writeRunMetadata(seqWs, run.uuid, { status: runStatus(run), artifact: run.artifacts, ...(await db.runMetadata(run.uuid)) });
      seqCached++;
      break;
    }
  }
  await db.close();
  const seqSeconds = (performance.now() - t1) / 1000;
  const seqRate = sequentialRuns / seqSeconds;
  console.log(
    `sequential loop (original's way): ${sequentialRuns} runs (${seqCached} cached) in ${seqSeconds.toFixed(1)} s = ${seqRate.toFixed(1)} runs/s`,
  );

  // Every dstat file the simulation published, as URLs: the bare client's one GET per run.
  const files = (readdirSync(logs, { recursive: true }) as string[]).filter((f) => f.includes("dstat-csv_log"));
  const fileUrls = files.map((f) => `${url}/${f}`);

  const rates: Record<string, number> = {};
  for (const parallel of [8, 32]) {
    const bare = await bareClient(fileUrls, parallel);
    console.log(
      `bare client --parallel ${parallel} (one GET per run, body read, nothing else): ${fileUrls.length} files in ${bare.seconds.toFixed(1)} s = ${bare.rate.toFixed(0)} runs/s; load average ${loadavg()[0]!.toFixed(1)}`,
    );
    const t = performance.now();
    const r = await cacheData(
      { dataPath: join(dir, `parallel-${parallel}`), buildName: "tempest-full", dbUri, limit: 0, parallel, timeoutSeconds: 60 },
      quiet,
    );
    const seconds = (performance.now() - t) / 1000;
    rates[parallel] = r.total / seconds;
    console.log(
      `cache-data --parallel ${parallel}: ${r.total} runs (${r.cached} cached, ${r.unavailable} unavailable, ${r.failed} failed, ${(r.bytes / 1e6).toFixed(1)} MB) in ${seconds.toFixed(1)} s = ${rates[parallel]!.toFixed(1)} runs/s`,
    );
    // The most `parallel` downloads can do when each run costs one round trip: the latency limit.
    const limit = (parallel * 1000) / latencyMs;
    tableRow(
      `cache-data vs the latency limit (--parallel ${parallel}: ${parallel} / ${latencyMs} ms = ${limit.toFixed(0)} runs/s)`,
      `${rates[parallel]!.toFixed(0)} runs/s = ${((100 * rates[parallel]!) / limit).toFixed(0)} %`,
      `≥ ${parallel === 8 ? 60 : 40} %`,
    );
    console.log(
      `| cache-data vs the bare client (--parallel ${parallel}: ${bare.rate.toFixed(0)} runs/s, ${((100 * bare.rate) / limit).toFixed(0)} % of the limit) | ${((100 * rates[parallel]!) / bare.rate).toFixed(0)} % | load average ${loadavg()[0]!.toFixed(1)}`,
    );
  }
  console.log(
    `ratio cache-data (default --parallel 8) / sequential: ${(rates[8]! / seqRate).toFixed(1)}x; --parallel 32: ${(rates[32]! / seqRate).toFixed(1)}x`,
  );

  // The same history as Zuul builds, newest first.
  const history = await openSubunit2sql(dbUri);
  const builds: { uuid: string; result: string; start_time: string; path: string }[] = [];
  for await (const run of history.runsByKeyValue("build_name", "tempest-full"))
    builds.push({
      uuid: run.uuid.replaceAll("-", ""),
      result: runStatus(run) ? "FAILURE" : "SUCCESS",
      start_time: (run.run_at ?? "2019-01-01 00:00:00").replace(" ", "T"),
      path: run.artifacts!.slice(url.length + 1),
    });
  await history.close();
  builds.reverse();
  await Bun.write(join(dir, "builds.json"), JSON.stringify(builds));
  const zuulUrl = `${url}/api/tenant/bench`;

  // The one-at-a-time Zuul loop: page the API, then per build the dstat paths in order and the inventory.
  const zuulSeqWs = new Workspace(join(dir, "zuul-sequential"));
  const t2 = performance.now();
  let zuulSeqDone = 0;
  for (let skip = 0; zuulSeqDone < sequentialRuns; skip += 100) {
    const page = (await (await fetch(`${zuulUrl}/builds?job_name=tempest-full&complete=true&limit=100&skip=${skip}`)).json()) as {
      uuid: string;
      result: string;
      log_url: string;
    }[];
    if (page.length === 0) break;
    for (const b of page) {
      if (zuulSeqDone++ >= sequentialRuns) break;
      for (const path of ZUUL_DSTAT_PATHS) {
        const response = await fetch(joinUrl(b.log_url, path));
        if (response.status === 404) {
          await response.arrayBuffer();
          continue;
        }
        const body = new Uint8Array(await response.arrayBuffer());
        parseDstatCsv(new TextDecoder().decode(isGzip(body) ? gunzip(body) : body));
        const inventory = await (await fetch(joinUrl(b.log_url, INVENTORY_PATH))).text();
        await writeTraceGz(zuulSeqWs, b.uuid, isGzip(body) ? body : gzip(body));
        await writeRunMetadata(zuulSeqWs, b.uuid, { status: b.result === "SUCCESS" ? 0 : 1, artifact: b.log_url, inventory });
        break;
      }
    }
  }
  const zuulSeqRate = sequentialRuns / ((performance.now() - t2) / 1000);
  console.log(`Zuul, sequential loop: ${sequentialRuns} builds at ${zuulSeqRate.toFixed(1)} builds/s`);
  const t3 = performance.now();
  const z = await cacheData(
    { dataPath: join(dir, "zuul-parallel"), buildName: "tempest-full", zuulUrl, limit: 0, parallel: 8, timeoutSeconds: 60 },
    quiet,
  );
  const zuulRate = z.total / ((performance.now() - t3) / 1000);
  console.log(
    `cache-data --zuul-url --parallel 8: ${z.total} builds (${z.cached} cached, ${z.unavailable} unavailable, ${z.failed} failed) at ${zuulRate.toFixed(1)} builds/s`,
  );
  console.log(`ratio cache-data --zuul-url / sequential Zuul loop: ${(zuulRate / zuulSeqRate).toFixed(1)}x`);
} finally {
  child.kill();
  rmSync(dir, { recursive: true, force: true });
}

/** `parallel` loops GETting `urls` once each and reading the bodies: the log server's rate with a client that does nothing else. */
async function bareClient(urls: string[], parallel: number): Promise<{ seconds: number; rate: number }> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < urls.length) await (await fetch(urls[next++]!)).arrayBuffer();
    }),
  );
  const seconds = (performance.now() - t) / 1000;
  return { seconds, rate: urls.length / seconds };
}
