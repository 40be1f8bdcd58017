// A process killed in the middle of saving a workspace file must leave the previous file whole. strace
// kills the writer at its 1st, 2nd, … write system call (fault injection, a real SIGKILL); after each
// crash the file must still decode to the old value or to the new one, never to a part of either.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJsonGz, writeJsonGz } from "../src/io/gzip-json.ts";
import { disk } from "./helpers/disk.ts";

const dir = mkdtempSync(join(tmpdir(), "ciml-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const child = join(import.meta.dir, "helpers", "writer-child.ts");
const COUNT = 200_000;
// Only the main thread is traced (no -f), where the JavaScript runs; it may also write to wake Bun's other
// threads, so killing at each of the first eight writes covers every point of a save made of a few writes.
const KILL_POINTS = 8;

test("a writer killed at any write leaves the old file or the new one, whole", async () => {
  const path = join(dir, "runs.json.gz");
  const old = { values: [1, 2, 3] };
  let completed = 0;
  for (let when = 1; when <= KILL_POINTS; when++) {
    await writeJsonGz(disk, path, old);
    const run = Bun.spawnSync([
      "strace",
      "-qq",
      "-o",
      "/dev/null",
      "-e",
      "trace=write,pwrite64,writev",
      "-e",
      `inject=write,pwrite64,writev:signal=SIGKILL:when=${when}`,
      process.execPath,
      child,
      path,
      String(COUNT),
    ]);
    const value = (await readJsonGz(disk, path)) as { values: number[] };
    if (run.exitCode === 0) {
      completed++;
      expect(value.values).toHaveLength(COUNT);
    } else {
      // Killed: whatever was on disk before is still there, unchanged.
      expect(value).toEqual(old);
    }
  }
  // The kill points covered both outcomes: at least one crash and at least one completed write.
  expect(completed).toBeGreaterThan(0);
  expect(completed).toBeLessThan(KILL_POINTS);
}, 60_000);

test("the bytes reach the disk (fsync) before the rename makes them the file, in the store's writes and in plots'", async () => {
  const module = join(import.meta.dir, "..", "src", "io", "atomic-file.ts");
  for (const call of ["await writeFileAtomicAsync(target, 'x'.repeat(1000))", "writeFileAtomic(target, 'x'.repeat(1000))"]) {
    const target = join(dir, `synced-${call.startsWith("await") ? "store" : "plot"}.txt`);
    const trace = join(dir, "trace.txt");
    const code = `const { writeFileAtomic, writeFileAtomicAsync } = await import(${JSON.stringify(module)}); const target = ${JSON.stringify(target)}; ${call};`;
    // -f: the store's fsync runs on one of Bun's worker threads.
    const run = Bun.spawnSync([
      "strace",
      "-f",
      "-qq",
      "-o",
      trace,
      "-e",
      "trace=fsync,fdatasync,rename,renameat,renameat2",
      process.execPath,
      "-e",
      code,
    ]);
    expect(run.exitCode).toBe(0);
    const lines = (await Bun.file(trace).text()).split("\n");
    const synced = lines.findIndex((l) => /\b(fsync|fdatasync)\(/.test(l));
    const renamed = lines.findIndex((l) => /rename/.test(l) && l.includes(target));
    expect(synced).toBeGreaterThanOrEqual(0);
    expect(renamed).toBeGreaterThan(synced);
  }
}, 60_000);
