// The workspace in a local folder: every write goes through atomic-file.ts (temp file, then rename), so a
// crash leaves the old file or the new one; a writer's temp files are never listed.
import { closeSync, existsSync, fsyncSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { createExclusive, type FileContent, isTempName, sweepTemps, writeFileAtomicAsync } from "../atomic-file.ts";
import type { Appender, Store } from "./store.ts";

/** A temp file written to within this long may belong to a writer still at work in another process. */
const LIVE_WRITER_GRACE_MS = 10 * 60_000;

export class LocalStore implements Store {
  readonly readsInFlight = 1;
  constructor(readonly root: string) {}

  async read(location: string): Promise<Uint8Array | undefined> {
    try {
      return readFileSync(location);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async write(location: string, content: FileContent): Promise<void> {
    await writeFileAtomicAsync(location, content);
  }

  async exists(location: string): Promise<boolean> {
    return existsSync(location);
  }

  async modified(location: string): Promise<number | undefined> {
    return statSync(location, { throwIfNoEntry: false })?.mtimeMs;
  }

  async list(folder: string): Promise<string[]> {
    let names: string[];
    try {
      names = readdirSync(folder, { recursive: true }) as string[];
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return [];
      throw err;
    }
    return names.filter((name) => !isTempName(name) && statSync(join(folder, name), { throwIfNoEntry: false })?.isFile()).sort();
  }

  async remove(location: string): Promise<void> {
    rmSync(location, { force: true });
  }

  async move(from: string, to: string): Promise<void> {
    mkdirSync(dirname(to), { recursive: true });
    renameSync(from, to);
  }

  async removeFolder(folder: string): Promise<void> {
    rmSync(folder, { recursive: true, force: true });
  }

  async sweep(folder: string): Promise<void> {
    sweepTemps(folder, LIVE_WRITER_GRACE_MS);
  }

  appender(location: string): Appender {
    mkdirSync(dirname(location), { recursive: true });
    // Exclusive: such names are guessable, so a file or symlink someone planted there is refused, not followed.
    const fd = createExclusive(location);
    return {
      append(bytes) {
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
        fsyncSync(fd);
      },
      async close() {
        closeSync(fd);
      },
    };
  }
}
