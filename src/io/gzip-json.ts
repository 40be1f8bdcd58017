// The original tool stores every JSON artefact gzip-compressed; Python's gzip+json must read ours.
import { createGunzip, gzip as zlibGzip, gunzipSync } from "node:zlib";
import { strFromU8, strToU8 } from "fflate";
import { WorkspaceFileError } from "./checked-file.ts";
import { formatByteCap } from "./dstat-csv.ts";
import type { Store } from "./workspace/store.ts";

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

/**
 * Bun's native gzip: fflate's took 1.6 ms for a run's few hundred bytes of metadata (it sets up its
 * tables on every call), which alone capped cache-data at a few hundred runs a second; Bun's takes 0.1 ms.
 */
export function gzip(bytes: Uint8Array): Uint8Array {
  // Bun reads any Uint8Array; its type names the ArrayBuffer-backed kind only.
  return Bun.gzipSync(bytes as Uint8Array<ArrayBuffer>, { level: 6 });
}

/**
 * The same compression off the event loop (node:zlib's thread pool), for big inputs: a 1 MB dstat text
 * takes Bun.gzipSync about 20 ms, during which no other event is handled.
 */
export function gzipInBackground(bytes: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => zlibGzip(bytes, { level: 6 }, (err, out) => (err ? reject(err) : resolve(out))));
}

/** Big output chunks: with zlib's default 16 KiB, node:zlib under Bun is 3× slower than Bun.gunzipSync. */
const GUNZIP_CHUNK = 1 << 20;
/**
 * gunzipStream's output chunks, smaller: with 1 MiB it took 2.7–3.4 ms of CPU for a 1.2 MB dstat text, with
 * 256 KiB 2.3–2.6 ms (each chunk is a fresh buffer, and likely one of 256 KiB stays in the core's cache).
 * The one-shot gunzip above showed no such difference.
 */
const STREAM_CHUNK = 1 << 18;

/**
 * The one gunzip of ciml. A gzip file may hold several members one after another (what `cat a.gz b.gz`
 * makes, valid per RFC 1952); node:zlib reads them all, where Bun.gunzipSync and fflate stop after the
 * first and would silently drop the rest of a trace. Every member's CRC and length are checked, so a
 * truncated or damaged file throws. `maxBytes` bounds the output (a gzip bomb throws instead).
 */
export function gunzip(bytes: Uint8Array, maxBytes?: number): Uint8Array {
  return gunzipSync(bytes, maxBytes === undefined ? { chunkSize: GUNZIP_CHUNK } : { chunkSize: GUNZIP_CHUNK, maxOutputLength: maxBytes });
}

/**
 * How many bytes a gzip file says it expands to: the length field of its last member (exact for a
 * file of one member, as ciml writes them; of the last member only for `cat a.gz b.gz`). A hint, not a check.
 */
export function gzipTextSize(bytes: Uint8Array): number | undefined {
  if (!isGzip(bytes) || bytes.length < 18) return undefined;
  const n = bytes.length;
  return (bytes[n - 4]! | (bytes[n - 3]! << 8) | (bytes[n - 2]! << 16) | (bytes[n - 1]! << 24)) >>> 0;
}

/** A gzip stream that does not check out (corrupt, cut short) or expands past its cap. */
export class GzipError extends Error {
  override name = "GzipError";
}

/**
 * gunzip as a stream: decoded chunks as `source` delivers gzip bytes, so neither the whole text nor the
 * whole gzip need be in memory. Same checks as gunzip() (every member, CRC, length); a fault of the gzip
 * throws GzipError, one of `source` (a download cut off) is thrown as it is. Past `maxBytes` of output it
 * throws GzipError. A consumer that stops early stops the reading of `source` too.
 */
export async function* gunzipStream(
  source: Uint8Array | AsyncIterable<Uint8Array>,
  maxBytes = Number.POSITIVE_INFINITY,
): AsyncGenerator<Uint8Array> {
  const gz = createGunzip({ chunkSize: STREAM_CHUNK });
  let sourceError: unknown;
  const closed = new Promise((resolve) => gz.once("close", resolve));
  void (async () => {
    for await (const chunk of source instanceof Uint8Array ? [source] : source) {
      if (gz.destroyed) return;
      // Backpressure: wait until zlib's output has been taken before giving it more input.
      if (!gz.write(chunk)) await Promise.race([new Promise((resolve) => gz.once("drain", resolve)), closed]);
    }
    gz.end();
  })().catch((err) => {
    sourceError = err;
    gz.destroy(err as Error);
  });
  let size = 0;
  try {
    for await (const out of gz) {
      size += (out as Uint8Array).length;
      if (size > maxBytes) throw new GzipError(`gzip body expands beyond ${formatByteCap(maxBytes)} (the limit)`);
      yield out as Uint8Array;
    }
  } catch (err) {
    if (sourceError !== undefined) throw sourceError;
    if (err instanceof GzipError) throw err;
    throw new GzipError(`corrupt or truncated gzip (${(err as Error).message.split("\n")[0]})`);
  } finally {
    // The feeding loop sees the stream destroyed at its next chunk and stops reading `source`.
    gz.destroy();
  }
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
