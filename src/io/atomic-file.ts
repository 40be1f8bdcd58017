// Every file ciml writes is written whole or not at all: the bytes go to a temp file in the same
// directory (same filesystem, so rename is atomic), then the temp file is renamed over the target.
// A crash between the two leaves the old target intact and a `.tmp-` file that `sweepTemps` removes.
//
// The directory may be shared with other local users (plots go to /tmp by default), so a temp file is
// never opened by a name someone could guess and prepare: its name ends in random bytes, and it is
// created exclusively without following symlinks, so a planted file or link makes the open fail
// instead of redirecting our bytes into a file of the attacker's choosing.
import { randomBytes } from "node:crypto";
import { closeSync, constants, fsync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { rename } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CimlError } from "./ciml-error.ts";

const TEMP_MARK = ".tmp-";
const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Hands the writer's bytes to the file, piece by piece, so a large file is never held whole in memory. */
type ChunkSink = (chunk: Uint8Array) => void;
/** What goes into a file: its bytes at once, or a function that produces them through a ChunkSink. */
export type FileContent = Uint8Array | string | ((write: ChunkSink) => void);

/** Thrown when the filesystem ran out of space (or quota) while we wrote `path`. */
export class DiskFullError extends CimlError {
  override name = "DiskFullError";
  constructor(readonly path: string) {
    super(`disk full at ${path}; free some space and run the command again (nothing half-written was kept)`);
  }
}

export function isTempName(name: string): boolean {
  return name.includes(TEMP_MARK);
}

/** Creates `path` for writing, failing if anything (a file, a symlink) already has that name. */
export function createExclusive(path: string): number {
  return openSync(path, EXCLUSIVE, 0o666);
}

/**
 * First half of an atomic write: the content lands in a fresh temp file beside `path`, whose name is
 * returned once its bytes are on the disk (fsync). A temp file that cannot be written whole is removed
 * before the error goes on.
 */
export function writeTemp(path: string, content: FileContent): string {
  const { temp, fd } = fillTemp(path, content);
  try {
    fsyncSync(fd);
  } catch (err) {
    throw discard(temp, fd, err, path);
  }
  closeSync(fd);
  return temp;
}

/**
 * writeTemp whose fsync waits on a worker thread instead of the main one. The fsync is most of an atomic
 * write's time (milliseconds on a busy disk, against microseconds for the writes, which land in the page
 * cache), and cache-data writes two files per run: done on the main thread, every download in flight
 * waited for every fsync. The bytes are still on the disk before the caller renames the temp file.
 */
async function writeTempAsync(path: string, content: FileContent): Promise<string> {
  const { temp, fd } = fillTemp(path, content);
  try {
    await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
  } catch (err) {
    throw discard(temp, fd, err, path);
  }
  closeSync(fd);
  return temp;
}

/** A new temp file beside `path` (created exclusively, see above) with `content` written but not yet synced. */
function fillTemp(path: string, content: FileContent): { temp: string; fd: number } {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}${TEMP_MARK}${randomBytes(12).toString("hex")}`);
  let fd: number;
  try {
    fd = createInFolder(temp);
  } catch (err) {
    throw diskFullOr(err, path);
  }
  try {
    const sink: ChunkSink = (chunk) => writeAll(fd, chunk);
    if (typeof content === "function") content(sink);
    else sink(typeof content === "string" ? new TextEncoder().encode(content) : content);
  } catch (err) {
    throw discard(temp, fd, err, path);
  }
  return { temp, fd };
}

/** createExclusive, making the folder first only when it is missing: most writes go to a folder that exists. */
function createInFolder(path: string): number {
  try {
    return createExclusive(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    mkdirSync(dirname(path), { recursive: true });
    return createExclusive(path);
  }
}

/** Closes and removes a temp file that could not be written whole; the error to throw. */
function discard(temp: string, fd: number, err: unknown, path: string): unknown {
  closeSync(fd);
  rmSync(temp, { force: true });
  return diskFullOr(err, path);
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
}

/** ENOSPC and EDQUOT become one line naming the file; any other error is passed on as it was. */
function diskFullOr(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOSPC" || code === "EDQUOT" ? new DiskFullError(path) : err;
}

/** Second half: the temp file replaces `path` in one step. */
export function commitTemp(temp: string, path: string): void {
  renameSync(temp, path);
}

export function writeFileAtomic(path: string, content: FileContent): void {
  const temp = writeTemp(path, content);
  try {
    commitTemp(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/**
 * writeFileAtomic for a caller that need not wait on the disk meanwhile (the workspace store): the fsync
 * and the rename, the two steps that wait on the file system's journal, run on a worker thread.
 */
export async function writeFileAtomicAsync(path: string, content: FileContent): Promise<void> {
  const temp = await writeTempAsync(path, content);
  try {
    await rename(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/**
 * Removes temp files left in `dir` by writers that died before their rename. Returns how many.
 * `olderThanMs`: only temps not written to for that long. Another process may be writing into the same
 * folder right now (two cache-data runs for different build names share `.raw/`), and its live temp file
 * must not vanish under it; a dead writer's temp simply waits for a later sweep.
 */
export function sweepTemps(dir: string, olderThanMs = 0): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  const before = Date.now() - olderThanMs;
  for (const name of names) {
    if (!isTempName(name)) continue;
    const path = join(dir, name);
    if (olderThanMs > 0 && (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) > before) continue;
    rmSync(path, { force: true });
    removed++;
  }
  return removed;
}
