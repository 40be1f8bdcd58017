// The raw cache: `.raw/<run>.csv.gz` (dstat text as fetched, gzipped), `.metadata/<run>.json.gz`,
// and the sorted run lists `.raw/<build_name>.json.gz` (and the unavailable lists, see unavailable-runs.ts).
import { z } from "zod";
import { checkFile } from "./checked-file.ts";
import { gunzipStream, gzipTextSize, readJsonGz, writeJsonGz } from "./gzip-json.ts";
import type { Workspace } from "./workspace.ts";
import type { Store } from "./workspace/store.ts";

/** What the original caches per run: status (0 pass, 1 fail), the log root, and every run_metadata key. */
export interface RunMetadata {
  status: 0 | 1;
  artifact: string | null;
  [key: string]: string | number | null;
}

const runListSchema = z.array(z.string());

const runMetadataSchema = z
  .object({ status: z.union([z.literal(0), z.literal(1)]), artifact: z.string().nullish() })
  .catchall(z.union([z.string(), z.number(), z.null()]));

const RECACHE = "delete it and run cache-data again";

export async function readRunList(store: Store, path: string): Promise<string[]> {
  const value = await readJsonGz(store, path, RECACHE);
  if (value === undefined) return [];
  return checkFile(runListSchema, value, path, RECACHE);
}

/** Lists are stored sorted so that the same cache gives the same order in every process (docs/compatibility.md, "Splits are seeded and run lists sorted"). */
export function writeRunList(store: Store, path: string, runs: Iterable<string>): Promise<void> {
  return writeJsonGz(store, path, [...new Set(runs)].sort());
}

export function hasTrace(ws: Workspace, runUuid: string): Promise<boolean> {
  return ws.store.exists(ws.rawTrace(runUuid));
}

/**
 * Whether a run's cached trace gunzips whole (every member's length and CRC check out, at most `maxBytes`
 * of text). Cheaper than parsing it, and it catches a file cut short or damaged after it was written.
 * Streamed: the text is counted and dropped, never held.
 */
export async function isWholeTrace(ws: Workspace, runUuid: string, maxBytes: number): Promise<boolean> {
  const bytes = await ws.store.read(ws.rawTrace(runUuid));
  if (bytes === undefined) return false;
  try {
    for await (const _ of gunzipStream(bytes, maxBytes));
    return true;
  } catch {
    return false;
  }
}

/** A cached trace's text as it gunzips, and how long the gzip says it is (readDstat's expectedBytes). */
interface TraceText {
  chunks: AsyncGenerator<Uint8Array>;
  size: number | undefined;
}

/**
 * The cached dstat text of a run as it gunzips, chunk by chunk (for readDstat), or undefined when it is
 * not cached. Only the gzip bytes are held whole (a few MB); the text is streamed. A corrupt file throws
 * GzipError while it is read.
 */
export async function readTraceText(ws: Workspace, runUuid: string): Promise<TraceText | undefined> {
  const bytes = await ws.store.read(ws.rawTrace(runUuid));
  if (bytes === undefined) return undefined;
  return { chunks: gunzipStream(bytes), size: gzipTextSize(bytes) };
}

/** Stores already-gzipped dstat bytes for a run, atomically. */
export function writeTraceGz(ws: Workspace, runUuid: string, gzBytes: Uint8Array): Promise<void> {
  return ws.store.write(ws.rawTrace(runUuid), gzBytes);
}

export async function readRunMetadata(ws: Workspace, runUuid: string): Promise<RunMetadata | undefined> {
  const path = ws.runMetadata(runUuid);
  const value = await readJsonGz(ws.store, path, RECACHE);
  if (value === undefined) return undefined;
  checkFile(runMetadataSchema, value, path, RECACHE);
  // The checked value itself, not the schema's copy: metadata keys are the database's and may be any name.
  return value as RunMetadata;
}

export function writeRunMetadata(ws: Workspace, runUuid: string, metadata: RunMetadata): Promise<void> {
  return writeJsonGz(ws.store, ws.runMetadata(runUuid), metadata);
}
