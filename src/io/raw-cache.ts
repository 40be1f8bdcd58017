// The raw cache: `.raw/<run>.csv.gz` (dstat text as fetched, gzipped), `.metadata/<run>.json.gz`,
// and the sorted run lists `.raw/<build_name>.json.gz` (and the unavailable lists, see unavailable-runs.ts).
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { checkFile } from "./checked-file.ts";
import { gunzipStream, gzipTextSize, readJsonGz, writeJsonGz } from "./gzip-json.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import type { Workspace } from "./workspace.ts";

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

export function readRunList(path: string): string[] {
  const value = readJsonGz(path, RECACHE);
  if (value === undefined) return [];
  return checkFile(runListSchema, value, path, RECACHE);
}

/** Lists are stored sorted so that the same cache gives the same order in every process (docs/compatibility.md, "Splits are seeded and run lists sorted"). */
export function writeRunList(path: string, runs: Iterable<string>): void {
  writeJsonGz(path, [...new Set(runs)].sort());
}

export function hasTrace(ws: Workspace, runUuid: string): boolean {
  return existsSync(ws.rawTrace(runUuid));
}

/**
 * Whether a run's cached trace gunzips whole (every member's length and CRC check out, at most `maxBytes`
 * of text). Cheaper than parsing it, and it catches a file cut short or damaged after it was written.
 * Streamed: the text is counted and dropped, never held.
 */
export async function isWholeTrace(ws: Workspace, runUuid: string, maxBytes: number): Promise<boolean> {
  try {
    for await (const _ of gunzipStream(readFileSync(ws.rawTrace(runUuid)), maxBytes));
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
 * not cached. A corrupt file throws GzipError while it is read.
 */
export function readTraceText(ws: Workspace, runUuid: string): TraceText | undefined {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(ws.rawTrace(runUuid));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return { chunks: gunzipStream(bytes), size: gzipTextSize(bytes) };
}

/** Stores already-gzipped dstat bytes for a run, atomically. */
export function writeTraceGz(ws: Workspace, runUuid: string, gzBytes: Uint8Array): void {
  writeFileAtomic(ws.rawTrace(runUuid), gzBytes);
}

export function readRunMetadata(ws: Workspace, runUuid: string): RunMetadata | undefined {
  const path = ws.runMetadata(runUuid);
  const value = readJsonGz(path, RECACHE);
  if (value === undefined) return undefined;
  checkFile(runMetadataSchema, value, path, RECACHE);
  // The checked value itself, not the schema's copy: metadata keys are the database's and may be any name.
  return value as RunMetadata;
}

export function writeRunMetadata(ws: Workspace, runUuid: string, metadata: RunMetadata): void {
  writeJsonGz(ws.runMetadata(runUuid), metadata);
}
