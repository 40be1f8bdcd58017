// The original tool stores every JSON artefact gzip-compressed; Python's gzip+json must read ours.
import { gunzipSync } from "node:zlib";
import { gzipSync, strFromU8, strToU8 } from "fflate";
import { WorkspaceFileError } from "./checked-file.ts";
import type { Store } from "./workspace/store.ts";

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

export function gzip(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes, { level: 6 });
}

/** Big output chunks: with zlib's default 16 KiB, node:zlib under Bun is 3× slower than Bun.gunzipSync. */
const GUNZIP_CHUNK = 1 << 20;

/**
 * The one gunzip of ciml. A gzip file may hold several members one after another (what `cat a.gz b.gz`
 * makes, valid per RFC 1952); node:zlib reads them all, where Bun.gunzipSync and fflate stop after the
 * first and would silently drop the rest of a trace. Every member's CRC and length are checked, so a
 * truncated or damaged file throws. `maxBytes` bounds the output (a gzip bomb throws instead).
 */
export function gunzip(bytes: Uint8Array, maxBytes?: number): Uint8Array {
  return gunzipSync(bytes, maxBytes === undefined ? { chunkSize: GUNZIP_CHUNK } : { chunkSize: GUNZIP_CHUNK, maxOutputLength: maxBytes });
}

export function encodeJsonGz(value: unknown): Uint8Array {
  return gzip(strToU8(JSON.stringify(value)));
}

function decodeJsonGz(bytes: Uint8Array): unknown {
  return JSON.parse(strFromU8(gunzip(bytes)));
}

export function writeJsonGz(store: Store, path: string, value: unknown): Promise<void> {
  return store.write(path, encodeJsonGz(value));
}

/** Reads a `.json.gz` file; a missing file gives `undefined`, a corrupt one throws a line naming the file. */
export async function readJsonGz(store: Store, path: string, fix = "delete it and run the command that writes it again"): Promise<unknown> {
  const bytes = await store.read(path);
  if (bytes === undefined) return undefined;
  if (!isGzip(bytes)) throw new WorkspaceFileError(`${path} is not gzip-compressed; ${fix}`);
  try {
    return decodeJsonGz(bytes);
  } catch (err) {
    throw new WorkspaceFileError(`${path} is damaged (${(err as Error).message.split("\n")[0]}); ${fix}`);
  }
}
