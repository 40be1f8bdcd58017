// Which run source a command reads, by the flag given: --db-uri, --zuul-url or --runs-file. Giving two is a
// usage mistake; giving none falls back to the database default (CIML_DB_URI, else the original's).
import { CimlError } from "../ciml-error.ts";
import { parseDbUri } from "../db-uri.ts";
import { zuulApiRoot, type ZuulHttpPolicy } from "./zuul-api.ts";
import type { RunSource } from "./run-source.ts";
import { openRunsFile } from "./runs-file.ts";
import { openSubunit2sqlSource } from "./subunit2sql-source.ts";
import { openZuulSource } from "./zuul-source.ts";

export interface SourceOptions {
  /** subunit2sql database URI (--db-uri) */
  dbUri?: string;
  /** Zuul API root, https://HOST/api/tenant/TENANT (--zuul-url) */
  zuulUrl?: string;
  /** a .jsonl or .csv runs file (--runs-file) */
  runsFile?: string;
  /** the database read when none of the three is given */
  defaultDbUri?: string;
  /** Zuul filters (--project, --pipeline, --branch) */
  project?: string;
  pipeline?: string;
  branch?: string;
  /** bearer token for Zuul (CIML_ZUUL_TOKEN) */
  zuulToken?: string;
  /** finer Zuul HTTP knobs; tests shorten them */
  zuulHttp?: Partial<ZuulHttpPolicy>;
  /** builds per Zuul page */
  zuulPageSize?: number;
  /** how long the database may take to answer a connection */
  dbConnectTimeoutMs?: number;
}

/** A stable name for what is listed (source and filters, no secrets): marks of earlier passes are kept per key. */
export function sourceKey(options: SourceOptions): string | undefined {
  if (!options.zuulUrl) return undefined;
  return [options.zuulUrl.replace(/\/+$/, ""), options.project ?? "", options.pipeline ?? "", options.branch ?? ""].join(" ");
}

/** The usage mistakes (two sources, a Zuul filter without Zuul, a bad Zuul URL), found before anything is opened. */
export function checkSourceFlags(options: SourceOptions): void {
  const given = (
    [
      ["--db-uri", options.dbUri],
      ["--zuul-url", options.zuulUrl],
      ["--runs-file", options.runsFile],
    ] as const
  ).filter(([, v]) => v !== undefined && v !== "");
  if (given.length > 1) throw new CimlError(`${given.map(([flag]) => flag).join(" and ")}: give one run source, not ${given.length}`, 2);
  if (!options.zuulUrl) {
    const zuulOnly = (["project", "pipeline", "branch"] as const).find((k) => options[k] !== undefined);
    if (zuulOnly) throw new CimlError(`--${zuulOnly} filters Zuul builds: use it with --zuul-url`, 2);
  } else zuulApiRoot(options.zuulUrl);
}

/**
 * Whether file:// log roots and dstat URLs may be read: only from sources the user names as local files
 * (a runs file, a sqlite:/// database), never from a server's answers (a remote database, Zuul).
 */
export function sourceReadsLocalLogs(options: SourceOptions): boolean {
  if (options.runsFile) return true;
  if (options.zuulUrl) return false;
  const uri = options.dbUri ?? options.defaultDbUri;
  return uri !== undefined && parseDbUri(uri).kind === "sqlite";
}

export async function openRunSource(options: SourceOptions): Promise<RunSource> {
  checkSourceFlags(options);
  if (options.zuulUrl)
    return openZuulSource({
      url: options.zuulUrl,
      project: options.project,
      pipeline: options.pipeline,
      branch: options.branch,
      token: options.zuulToken,
      http: options.zuulHttp,
      pageSize: options.zuulPageSize,
    });
  if (options.runsFile) return openRunsFile(options.runsFile);
  const uri = options.dbUri ?? options.defaultDbUri;
  if (!uri) throw new CimlError("no run source: give --db-uri, --zuul-url or --runs-file", 2);
  return openSubunit2sqlSource(uri, options.dbConnectTimeoutMs);
}
