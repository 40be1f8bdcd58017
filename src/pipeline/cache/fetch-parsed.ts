// One run's dstat file downloaded and parsed as it arrives: what ensureRunCached needs of a fresh download.
// Kept apart, with only plain data in and out, so that it can run on another thread (fetch-parsed-pool.ts):
// the gunzip and the parse of a trace are most of a prediction's CPU, and mqtt-trainer parses two at once
// on two cores while its own thread publishes.
import { DstatParseError, readDstat, type DstatTable } from "../../io/dstat-csv.ts";
import { fetchDstat, fetchDstatAt, type DstatFetch, type FetchPolicy } from "../../io/log-server.ts";

/** Where a run's dstat file is and how its text is read: plain data, so it can be posted to a worker. */
export interface FetchParsedRequest {
  /** the run's own dstat URL when the source knows it; else the candidate paths under `logRoot` */
  dstatUrl?: string;
  logRoot?: string;
  policy: FetchPolicy;
  /** for `dd-mm` times when the trace's header has no Date: line */
  year?: number;
  /** the columns whose values are kept (DstatReadOptions.columns) */
  columns?: readonly string[];
  /** the rows kept (DstatReadOptions.keepRows) */
  keepRows?: number;
}

/** The download's outcome, and the trace as its check parsed it when the body was accepted. */
export interface FetchParsedResult {
  fetched: DstatFetch;
  parsed?: DstatTable;
}

/** Downloads and parses here or elsewhere (a worker); throws Interrupted on Ctrl-C, like fetchDstat. */
export type FetchParsed = (request: FetchParsedRequest, signal: AbortSignal, onUrl?: (url: string) => void) => Promise<FetchParsedResult>;

/**
 * A dstat text is usable when it parses with rows; the reason when it does not. The text is read as it
 * arrives (from the download or the cache file) and never held. The last good parse is kept in `parsed`.
 */
export function dstatCheck(
  year: number | undefined,
  columns: readonly string[] | undefined,
  keepRows: number | undefined,
  signal: AbortSignal,
) {
  const check = {
    parsed: undefined as DstatTable | undefined,
    /** `expectedBytes`: the text's length when known (a cached gzip says it), to size the columns once */
    async read(text: AsyncIterable<Uint8Array>, expectedBytes?: number): Promise<string | null> {
      try {
        check.parsed = await readDstat(text, { year, columns, keepRows, expectedBytes, signal });
        return null;
      } catch (err) {
        if (err instanceof DstatParseError) return `not a usable dstat CSV: ${err.message}`;
        throw err;
      }
    },
    /** as a download's body check */
    problem: (text: AsyncIterable<Uint8Array>) => check.read(text),
  };
  return check;
}

/** On this thread: the download, its gunzip and the parse of its text as the bytes arrive. */
export const fetchParsedHere: FetchParsed = async (request, signal, onUrl) => {
  const check = dstatCheck(request.year, request.columns, request.keepRows, signal);
  const fetched = request.dstatUrl
    ? await fetchDstatAt([request.dstatUrl], request.policy, check.problem, signal, onUrl)
    : await fetchDstat(request.logRoot!, request.policy, check.problem, signal, onUrl);
  return fetched.kind === "found" ? { fetched, parsed: check.parsed } : { fetched };
};
