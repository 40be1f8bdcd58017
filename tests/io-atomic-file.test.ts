// Temp files in shared directories (plots go to /tmp by default) and on full disks.
import { afterAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { DiskFullError, sweepTemps, writeFileAtomic, writeFileAtomicAsync, writeTemp } from "../src/io/atomic-file.ts";
import { writeNpz } from "../src/io/npy.ts";
import { EventFileWriter } from "../src/io/tensorboard.ts";
import { disk as anyPath } from "./helpers/disk.ts";

const dir = mkdtempSync(join(tmpdir(), "ciml-atomic-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Another local user's trap: symlinks at every temp name an earlier ciml would have picked, all aimed at one victim file. */
function plantLinks(folder: string, target: string, victim: string): string[] {
  const links: string[] = [];
  for (let n = 1; n <= 300; n++) {
    const link = join(folder, `.${target}.tmp-${process.pid}-${n}`);
    symlinkSync(victim, link);
    links.push(link);
  }
  return links;
}

function victimFile(name: string): string {
  const victim = join(dir, name);
  writeFileSync(victim, "precious");
  return victim;
}

function expectUntouched(victim: string, links: string[]): void {
  expect(readFileSync(victim, "utf8")).toBe("precious");
  for (const link of links) expect(lstatSync(link).isSymbolicLink()).toBe(true);
}

describe("planted symlinks at temp names", () => {
  test("writeFileAtomic neither writes through nor moves a planted link", () => {
    const shared = join(dir, "shared-a");
    mkdirSync(shared);
    const victim = victimFile("victim-a");
    const links = plantLinks(shared, "plot.svg", victim);
    for (let i = 0; i < 5; i++) writeFileAtomic(join(shared, "plot.svg"), `<svg>${i}</svg>`);
    expect(readFileSync(join(shared, "plot.svg"), "utf8")).toBe("<svg>4</svg>");
    expect(lstatSync(join(shared, "plot.svg")).isFile()).toBe(true);
    expectUntouched(victim, links);
  });

  test("writeNpz uses the same safe temp files", async () => {
    const shared = join(dir, "shared-b");
    mkdirSync(shared);
    const victim = victimFile("victim-b");
    const links = plantLinks(shared, "training.npz", victim);
    await writeNpz(anyPath, join(shared, "training.npz"), { x: { dtype: "<f4", shape: [2], data: Float32Array.from([1, 2]) } });
    expect(readFileSync(join(shared, "training.npz")).subarray(0, 2).toString()).toBe("PK");
    expectUntouched(victim, links);
  });

  test("a TensorBoard event file is never opened through a planted link", () => {
    const logs = join(dir, "logs");
    mkdirSync(logs);
    const victim = victimFile("victim-c");
    const now = 1_700_000_000_000;
    const host = hostname();
    const links: string[] = [];
    for (let n = 1; n <= 50; n++) {
      const link = join(logs, `events.out.tfevents.${now / 1000}.${host}.${process.pid}.${n}`);
      symlinkSync(victim, link);
      links.push(link);
    }
    expect(() => new EventFileWriter(anyPath, logs, now)).toThrow(/EEXIST/);
    expectUntouched(victim, links);
  });

  test("a temp file whose content fails midway is removed and the target kept", () => {
    const target = join(dir, "kept.bin");
    writeFileAtomic(target, "old");
    expect(() =>
      writeFileAtomic(target, (write) => {
        write(new Uint8Array(1000));
        throw new Error("producer failed");
      }),
    ).toThrow("producer failed");
    expect(readFileSync(target, "utf8")).toBe("old");
    expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });
});

/** A 200 KiB filesystem of our own, so "disk full" is the real ENOSPC from the kernel. */
function smallDisk(): string | undefined {
  const mount = mkdtempSync(join(tmpdir(), "ciml-full-"));
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", mount]);
  if (r.exitCode !== 0) {
    rmSync(mount, { recursive: true, force: true });
    return undefined;
  }
  return mount;
}

const disk = smallDisk();
afterAll(() => {
  if (!disk) return;
  Bun.spawnSync(["umount", disk]);
  rmSync(disk, { recursive: true, force: true });
});

describe.skipIf(!disk)("a full disk (tmpfs of 200 KiB; needs root to mount)", () => {
  test("writeFileAtomic says 'disk full at PATH' and leaves no temp file", () => {
    const target = join(disk!, "weights.bin");
    let caught: unknown;
    try {
      writeFileAtomic(target, new Uint8Array(1024 * 1024));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DiskFullError);
    expect((caught as Error).message).toStartWith(`disk full at ${target};`);
    expect(readdirSync(disk!)).toEqual([]);
  });

  test("writeFileAtomicAsync (the local store's writes of bytes) says 'disk full at PATH' and leaves no temp file", async () => {
    const target = join(disk!, "trace.csv.gz");
    await expect(writeFileAtomicAsync(target, new Uint8Array(1024 * 1024))).rejects.toThrow(`disk full at ${target};`);
    expect(readdirSync(disk!)).toEqual([]);
  });

  test("writeNpz says 'disk full at PATH', not fflate's 'no stream handler', and leaves no temp file", async () => {
    const target = join(disk!, "training.npz");
    // Random floats do not compress, so the archive cannot fit in 200 KiB.
    const data = Float32Array.from({ length: 256 * 1024 }, () => Math.random());
    await expect(writeNpz(anyPath, target, { examples: { dtype: "<f4", shape: [data.length], data } })).rejects.toThrow(
      `disk full at ${target};`,
    );
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(disk!)).toEqual([]);
  });
});

describe("whole or not at all", () => {
  test("text is written as UTF-8, and a writer's pieces in the order given", () => {
    const text = join(dir, "whole", "text.txt");
    writeFileAtomic(text, "größe ✓\n");
    expect(readFileSync(text, "utf8")).toBe("größe ✓\n");
    const pieces = join(dir, "whole", "pieces.bin");
    writeFileAtomic(pieces, (write) => {
      write(Uint8Array.from([1, 2]));
      write(new Uint8Array(0));
      write(Uint8Array.from([3]));
    });
    expect([...readFileSync(pieces)]).toEqual([1, 2, 3]);
    expect(readdirSync(join(dir, "whole")).sort()).toEqual(["pieces.bin", "text.txt"]);
  });

  test("a rename that fails (a folder in the way) passes its error on and leaves no temp file", () => {
    const folder = join(dir, "blocked");
    mkdirSync(join(folder, "model.json"), { recursive: true });
    expect(() => writeFileAtomic(join(folder, "model.json"), "{}")).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(folder)).toEqual(["model.json"]);
  });

  test("the workspace's writes (fsync and rename on a worker thread) make missing folders, any depth, and keep the same promises", async () => {
    const deep = join(dir, "async", "a", "b", "c.json");
    await writeFileAtomicAsync(deep, "{}");
    expect(readFileSync(deep, "utf8")).toBe("{}");
    await writeFileAtomicAsync(deep, Uint8Array.from([1, 2, 3]));
    expect([...readFileSync(deep)]).toEqual([1, 2, 3]);
    const folder = join(dir, "async-blocked");
    mkdirSync(join(folder, "model.json", "inside"), { recursive: true });
    await expect(writeFileAtomicAsync(join(folder, "model.json"), "{}")).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(folder)).toEqual(["model.json"]);
  });

  test("a temp file that cannot be created reports the system's reason", () => {
    // The temp name adds 30 characters: past the 255 a name may have.
    let caught: unknown;
    try {
      writeFileAtomic(join(dir, "whole", "x".repeat(240)), "a");
    } catch (err) {
      caught = err;
    }
    expect((caught as NodeJS.ErrnoException).code).toBe("ENAMETOOLONG");
  });
});

describe("whole or not at all: sweeping", () => {
  test("sweepTemps removes every writer's leftover temp and nothing else; a missing folder has none", () => {
    const folder = join(dir, "sweep");
    writeFileAtomic(join(folder, "kept.json"), "{}");
    writeTemp(join(folder, "a.npz"), "half");
    writeTemp(join(folder, "b.json.gz"), "half");
    expect(sweepTemps(folder)).toBe(2);
    expect(readdirSync(folder)).toEqual(["kept.json"]);
    expect(sweepTemps(join(dir, "no-such-folder"))).toBe(0);
  });

  test("with a grace period, a temp another process is still writing stays; an old one goes", () => {
    const folder = join(dir, "sweep-grace");
    const live = writeTemp(join(folder, "live.json.gz"), "being written");
    const dead = writeTemp(join(folder, "dead.json.gz"), "left by a crash");
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(dead, hourAgo, hourAgo);
    expect(sweepTemps(folder, 600_000)).toBe(1);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(dead)).toBe(false);
  });
});
