// What every run source (subunit2sql, Zuul's builds API, a runs file) gives the rest of ciml: runs with
// an id, a pass/fail status, where their logs are, and their metadata. Everything after this point (log
// fetching, the cache, labels, datasets, predictions) is shared and knows nothing of where runs came from.
import type { FetchPolicy } from "../log-server.ts";

/** Metadata as cached per run: the subunit2sql key names (build_name, build_uuid, node_provider, …). */
export type RunMetadataValues = Record<string, string | number | null>;

export interface SourceRun {
  /** names the cache files: the run UUID (subunit2sql), the build UUID (Zuul), the line's id (runs file) */
  id: string;
  /** 0 passed, 1 failed, as the original labelled runs */
  status: 0 | 1;
  /** the log root the dstat paths are tried under; null when the CI kept no logs */
  logRoot: string | null;
  /** the dstat file itself, when the source knows it (runs file): tried instead of the paths */
  dstatUrl?: string;
  /** start time as "YYYY-MM-DD HH:MM:SS" (UTC), for the dstat year and the chronological split */
  runAt: string | null;
  /** the build UUID this run belongs to, for predictions */
  buildUuid?: string;
  /**
   * Every metadata key of the run. May fetch (run_metadata rows, Zuul's inventory.yaml), so it is asked
   * only for runs about to be cached. Throws LogFetchError when a fetch failed for now.
   */
  metadata(policy: FetchPolicy, signal: AbortSignal): Promise<RunMetadataValues>;
}

/** A run, or something the source listed that is not a test outcome (a POST_FAILURE, a build without logs). */
export type SourceItem =
  | { kind: "run"; run: SourceRun }
  /** `tally` is the short key it is counted under (e.g. "POST_FAILURE", "no log_url"); `reason` the line */
  | { kind: "excluded"; id: string; tally: string; reason: string };

export interface RunListing {
  items: AsyncIterable<SourceItem>;
  /**
   * After the items were read to the end: a mark to pass as `since` next time, so that a newest-first
   * source stops at what an earlier complete pass saw. Undefined for sources that list everything cheaply.
   */
  mark(): string | undefined;
  /** rows the source had to leave out so far (a database row without a uuid, or repeating one) */
  skipped?(): { noUuid: number; duplicate: number };
}

export interface RunSource {
  /** names the source in messages, without secrets */
  readonly description: string;
  /** where dstat files usually are under a log root when --dstat-path is not given */
  readonly dstatPaths: readonly string[];
  /** the line to stop with when a first listing finds nothing at all; undefined keeps an empty cache quiet (the DB, as the original) */
  emptyMessage?(buildName: string): string;
  /** how many runs the build name has, when the source can say cheaply (progress totals) */
  count(buildName: string, signal: AbortSignal): Promise<number | null>;
  /** every run of the build name; newest first where the source can, stopping at `since` */
  list(buildName: string, options: { since?: string; signal: AbortSignal }): RunListing;
  /** the runs of one build (db-predict, mqtt-trainer), with a line per run left out */
  runsOfBuild(buildUuid: string, buildName: string, signal: AbortSignal): Promise<{ runs: SourceRun[]; skipped: string[] }>;
  close(): Promise<void>;
}

/** A fetch a source needed (an API page, an inventory file) failed for now: worth trying again later. */
export class LogFetchError extends Error {
  override name = "LogFetchError";
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
  }
}
