// Every file the workspace holds is written whole or not at all: the bytes go to a temp file in the
// same directory (same filesystem, so rename is atomic), then the temp file is renamed over the target.
// A crash between the two leaves the old target intact and a `.tmp-` file that `sweepTemps` removes.
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const TEMP_MARK = ".tmp-";
let counter = 0;

function isTempName(name: string): boolean {
  return name.includes(TEMP_MARK);
}

/** First half of an atomic write: the bytes land in a temp file beside `path`, whose name is returned. */
export function writeTemp(path: string, data: Uint8Array | string): string {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}${TEMP_MARK}${process.pid}-${++counter}`);
  const fd = openSync(temp, "w");
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temp;
}

/** Second half: the temp file replaces `path` in one step. */
export function commitTemp(temp: string, path: string): void {
  renameSync(temp, path);
}

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const temp = writeTemp(path, data);
  try {
    commitTemp(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** Removes temp files left in `dir` by writers that died before their rename. Returns how many. */
export function sweepTemps(dir: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!isTempName(name)) continue;
    rmSync(join(dir, name), { force: true });
    removed++;
  }
  return removed;
}
