// A process killed in the middle of saving a workspace file must leave the previous file whole. strace
// kills the writer at its 1st, 2nd, … write system call (fault injection, a real SIGKILL); after each
// crash the file must still decode to the old value or to the new one, never to a part of either.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJsonGz, writeJsonGz } from "../src/io/gzip-json.ts";
import { disk } from "./helpers/disk.ts";
import { runKilledAt, runWithSyscallError } from "./helpers/kill-at-syscall.ts";

const dir = mkdtempSync(join(tmpdir(), "ciml-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const child = join(import.meta.dir, "helpers", "writer-child.ts");
const COUNT = 200_000;
// Every thread is traced (-f): the local store's fsync runs on one of Bun's worker threads, and the threads
// write to wake each other (≈15 writes for one save), so killing at each of the first 20 covers every point.
const KILL_POINTS = 20;

test("a writer killed at any write leaves the old file or the new one, whole", async () => {
  const path = join(dir, "runs.json.gz");
  const old = { values: [1, 2, 3] };
  let completed = 0;
  let crashedBefore = 0;
  for (let when = 1; when <= KILL_POINTS; when++) {
    await writeJsonGz(disk, path, old);
    const finished = runKilledAt(["write", "pwrite64", "writev"], when, child, [path, String(COUNT)], true);
    const value = (await readJsonGz(disk, path)) as { values: number[] };
    if (finished) {
      completed++;
      expect(value.values).toHaveLength(COUNT);
    } else if (value.values.length !== COUNT) {
      // Killed before the rename: whatever was on disk before is still there, unchanged (after it, the new file is whole).
      expect(value).toEqual(old);
      crashedBefore++;
    }
  }
  // The kill points covered both outcomes: at least one crash that kept the old file and one completed write.
  expect(completed).toBeGreaterThan(0);
  expect(crashedBefore).toBeGreaterThan(0);
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

// The disk refuses: strace makes the first write of the temp file fail with EDQUOT (over quota: the same
// "disk full" line as ENOSPC, which io-atomic-file.test.ts gets from a full tmpfs), or the fsync fail with
// EIO. Either way the old file stays as it was, no temp file is left, and the error is the one line.
test("a write over quota or a failed fsync keeps the old file, leaves no temp file, and says so", async () => {
  const child = join(import.meta.dir, "helpers", "atomic-write-child.ts");
  for (const mode of ["async", "sync"]) {
    for (const [syscall, errno, expected] of [
      [
        "write",
        "EDQUOT",
        `DiskFullError: disk full at ${join(dir, "refused", "f.txt")}; free some space and run the command again (nothing half-written was kept)`,
      ],
      ["fsync", "EIO", "Error: EIO: i/o error, fsync"],
    ] as const) {
      const folder = join(dir, "refused");
      rmSync(folder, { recursive: true, force: true });
      mkdirSync(folder);
      const target = join(folder, "f.txt");
      writeFileSync(target, "old");
      // The temp file's write is the child's first write on its main thread; the store's fsync runs on another thread.
      const out = runWithSyscallError(syscall, errno, child, [mode, target], syscall === "fsync");
      expect(out.split("\n").slice(0, 2)).toEqual([expected, "f.txt"]);
      expect(readFileSync(target, "utf8")).toBe("old");
    }
  }
}, 60_000);
