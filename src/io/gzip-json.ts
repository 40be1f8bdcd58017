// The original tool stores every JSON artefact gzip-compressed; Python's gzip+json must read ours.
import { readFileSync } from "node:fs";
import { gzipSync, strFromU8, strToU8 } from "fflate";
import { writeFileAtomic } from "./atomic-file.ts";
import { CimlError } from "./ciml-error.ts";

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

export function gzip(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes, { level: 6 });
}

/** Bun's native zlib: about 10× fflate's speed on cached dstat files (bench/dataset.ts measures both). */
export function gunzip(bytes: Uint8Array): Uint8Array {
  return Bun.gunzipSync(bytes as Uint8Array<ArrayBuffer>);
}

export function encodeJsonGz(value: unknown): Uint8Array {
  return gzip(strToU8(JSON.stringify(value)));
}

function decodeJsonGz(bytes: Uint8Array): unknown {
  return JSON.parse(strFromU8(gunzip(bytes)));
}

export function writeJsonGz(path: string, value: unknown): void {
  writeFileAtomic(path, encodeJsonGz(value));
}

/** Reads a `.json.gz` file; a missing file gives `undefined`, a corrupt one throws a line naming the file. */
export function readJsonGz(path: string): unknown {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    return decodeJsonGz(bytes);
  } catch (err) {
    const why = (err as Error).message.split("\n")[0];
    throw new CimlError(`${path} is damaged (${why}); delete it and run the command that writes it again`);
  }
}
