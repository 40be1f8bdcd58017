// Every file ciml writes is written whole or not at all: the bytes go to a temp file in the same
// directory (same filesystem, so rename is atomic), then the temp file is renamed over the target.
// A crash between the two leaves the old target intact and a `.tmp-` file that `sweepTemps` removes.
//
// The directory may be shared with other local users (plots go to /tmp by default), so a temp file is
// never opened by a name someone could guess and prepare: its name ends in random bytes, and it is
// created exclusively without following symlinks, so a planted file or link makes the open fail
// instead of redirecting our bytes into a file of the attacker's choosing.
import { randomBytes } from "node:crypto";
import { closeSync, constants, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
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
 * returned. A temp file that cannot be written whole is removed before the error goes on.
 */
export function writeTemp(path: string, content: FileContent): string {
  mkdirSync(dirname(path), { recursive: true });
  const temp = tempNameFor(path);
  let fd: number;
  try {
    fd = createExclusive(temp);
  } catch (err) {
    throw diskFullOr(err, path);
  }
  try {
    const sink: ChunkSink = (chunk) => writeAll(fd, chunk);
    if (typeof content === "function") content(sink);
    else sink(typeof content === "string" ? new TextEncoder().encode(content) : content);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw diskFullOr(err, path);
  }
  closeSync(fd);
  return temp;
}

/** A fresh, unguessable temp name beside `path`. */
function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}${TEMP_MARK}${randomBytes(12).toString("hex")}`);
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
 * writeFileAtomic for bytes already in hand, with the same temp file, fsync and rename, done on the I/O
 * threads: the fsync (milliseconds on a busy disk) then holds up only its caller, not the event loop, so a
 * long-running command (mqtt-trainer) keeps predicting while the files it caches reach the disk.
 */
export async function writeFileAtomicAsync(path: string, content: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempNameFor(path);
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(temp, EXCLUSIVE, 0o666);
  } catch (err) {
    throw diskFullOr(err, path);
  }
  try {
    await file.writeFile(content);
    await file.sync();
    await file.close();
    await rename(temp, path);
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw diskFullOr(err, path);
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
