// Builds raw caches for build-dataset tests directly with the store (no database, no log server):
// synthetic devstack-like dstat files (classic 0.7.2 layout) plus the dstat files in tests/fixtures.
import { readFileSync } from "node:fs";
import { gzip } from "../src/io/gzip-json.ts";
import { writeRunList, writeRunMetadata, writeTraceGz, type RunMetadata } from "../src/io/raw-cache.ts";
import { Workspace } from "../src/io/workspace.ts";
import { disk } from "./helpers/disk.ts";

export const DEVSTACK_GROUPS =
  '"system","total cpu usage",,,,,,"memory usage",,,,"net/total",,"dsk/total",,"io/total",,"system",,"load avg",,,"procs",,,"paging",,"tcp sockets",,,,';
export const DEVSTACK_COLUMNS =
  "time usr sys idl wai hiq siq used buff cach free recv send read writ read writ int csw 1m 5m 15m run blk new in out lis act syn tim clo".split(
    " ",
  );

/** A deterministic pseudo-random sequence for fixture values. */
function lcg(seed: number): () => number {
  let s = seed % 2147483647 || 1;
  return () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647;
  };
}

/** A classic dstat 0.7.2 CSV of `rows` one-second samples starting at `start` (UTC). */
export function syntheticDstat(rows: number, seed: number, start = Date.UTC(2018, 2, 9, 17, 33, 7), level = 10): string {
  const rnd = lcg(seed);
  const d = new Date(start);
  const lines = [
    '"Dstat 0.7.2 CSV output"',
    '"Author:","Dag Wieers <dag@wieers.com>",,,,"URL:","http://dag.wieers.com/home-made/dstat/"',
    '"Host:","ubuntu-xenial-test",,,,"User:","stack"',
    `"Cmdline:","dstat -tcmndrylpg --tcp --output /opt/stack/logs/dstat-csv.log",,,,"Date:","${String(d.getUTCDate()).padStart(2, "0")} ${d.toUTCString().slice(8, 11)} ${d.getUTCFullYear()} ${d.toISOString().slice(11, 19)} UTC"`,
    "",
    DEVSTACK_GROUPS,
    DEVSTACK_COLUMNS.map((c) => `"${c}"`).join(","),
  ];
  const pad = (n: number) => String(n).padStart(2, "0");
  for (let r = 0; r < rows; r++) {
    const t = new Date(start + r * 1000);
    const time = `${pad(t.getUTCDate())}-${pad(t.getUTCMonth() + 1)} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
    const usr = level + 30 * rnd();
    const values = [
      usr,
      5 * rnd(),
      100 - usr - 5,
      rnd(),
      0,
      0.1 * rnd(),
      7e8 + 1e8 * rnd(),
      1.6e7,
      4.4e8,
      2e8,
      1e5 * rnd(),
      2e5 * rnd(),
      0,
      3e5 * rnd(),
      0,
      20 * rnd(),
      5000 * rnd(),
      9000 * rnd(),
      level / 10 + rnd(),
      1.01,
      0.77,
      Math.floor(3 * rnd()),
      0,
      150 * rnd(),
      0,
      0,
      10,
      2,
      0,
      9,
      0,
    ];
    lines.push(`${time},${values.map((v) => Number(v.toFixed(3))).join(",")}`);
  }
  return `${lines.join("\n")}\n`;
}

export interface FixtureRun {
  uuid: string;
  /** dstat text, or raw bytes stored as they are (for corrupt files) */
  trace?: string | Uint8Array;
  status?: 0 | 1;
  metadata?: Record<string, string> | null;
}

export function uuidFor(i: number): string {
  const hex = i.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${hex}`;
}

/** Writes traces, metadata and the build's run list; returns the workspace. */
export async function writeCache(root: string, buildName: string, runs: FixtureRun[]): Promise<Workspace> {
  const ws = new Workspace(root);
  for (const run of runs) {
    if (run.trace !== undefined) {
      const bytes = typeof run.trace === "string" ? gzip(new TextEncoder().encode(run.trace)) : run.trace;
      await writeTraceGz(ws, run.uuid, bytes);
    }
    if (run.metadata !== null) {
      const metadata: RunMetadata = {
        status: run.status ?? 0,
        artifact: `http://logs.example.org/${run.uuid}`,
        build_name: buildName,
        ...run.metadata,
      };
      await writeRunMetadata(ws, run.uuid, metadata);
    }
  }
  await writeRunList(
    disk,
    ws.buildRuns(buildName),
    runs.map((r) => r.uuid),
  );
  return ws;
}

export function realText(path: string): string {
  return readFileSync(path, "utf8");
}
