// Reading one run back out of the cache: its dstat trace parsed and its metadata, exactly as build-dataset
// and every prediction command see it, so a model is always fed what it was trained on.
import { DstatParseError, parseDstatCsv, type DstatTable } from "../../io/dstat-csv.ts";
import { readRunMetadata, readTraceText, type RunMetadata } from "../../io/raw-cache.ts";
import type { Workspace } from "../../io/workspace.ts";

interface LoadedRun {
  table: DstatTable;
  metadata: RunMetadata;
}

/** A cached run, or the one-line reason it cannot be used. */
export function loadCachedRun(ws: Workspace, run: string): LoadedRun | string {
  let metadata: RunMetadata | undefined;
  let text: string | undefined;
  try {
    metadata = readRunMetadata(ws, run);
    if (metadata === undefined) return "no metadata in the cache (.metadata)";
    text = readTraceText(ws, run);
  } catch (err) {
    return `unreadable cache file: ${(err as Error).message}`;
  }
  if (text === undefined) return "no dstat file in the cache (.raw)";
  const runAt = typeof metadata.run_at === "string" ? Number(metadata.run_at.slice(0, 4)) : Number.NaN;
  try {
    return { table: parseDstatCsv(text, Number.isInteger(runAt) ? { year: runAt } : {}), metadata };
  } catch (err) {
    if (err instanceof DstatParseError) return err.message;
    throw err;
  }
}
