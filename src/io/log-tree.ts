// A log server's directory tree on local disk (what `simulate` writes and a file:// or HTTP root serves).
import { resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { writeFileAtomic } from "./atomic-file.ts";
import { CimlError } from "./ciml-error.ts";

/** Writes `relPath` under `root`, gzipped (native zlib) when `gzip` is set; refuses paths outside the root. */
export function writeLogFile(root: string, relPath: string, text: string, gzip: boolean): number {
  const base = resolve(root);
  const target = resolve(base, relPath);
  if (!target.startsWith(base + sep)) throw new CimlError(`log path ${relPath} leaves the log root ${root}`);
  const bytes = gzip ? Bun.gzipSync(new TextEncoder().encode(text), { level: 6 }) : text;
  writeFileAtomic(target, bytes);
  return typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.length;
}

/** The file:// URL of a directory, without a trailing slash (as runs.artifacts holds log roots). */
export function fileRootUrl(dir: string): string {
  return pathToFileURL(resolve(dir)).href.replace(/\/+$/, "");
}
