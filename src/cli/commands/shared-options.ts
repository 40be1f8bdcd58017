// Options that several commands share, written once so their help reads the same everywhere.
import type { SourceOptions } from "../../io/sources/open-run-source.ts";
import { type S3Access, S3_VARIABLES } from "../../io/workspace/s3-settings.ts";
import type { Flags } from "../flags.ts";
import { option, repeatable } from "../option-spec.ts";

export const DATA_PATH = option("--data-path <path>", "workspace root: a folder, or s3://BUCKET[/PREFIX] (docs/s3.md)");
const DB_URI = option("--db-uri <uri>", "subunit2sql database: mysql+pymysql://user:pass@host[:port]/db, mysql://..., sqlite:///path");
export const DSTAT_PATH = repeatable(
  "--dstat-path <path>",
  "dstat file path under the run's log root, tried in order (repeatable; replaces the four defaults)",
);
export const SOURCE_OPTIONS = [
  DB_URI,
  option("--zuul-url <url>", "read builds from Zuul's API instead: https://HOST/api/tenant/TENANT (token: $CIML_ZUUL_TOKEN)"),
  option("--runs-file <path>", "read runs from a .jsonl or .csv file instead (id, status or result, log_url or dstat_url, run_at, …)"),
  option("--project <name>", "with --zuul-url: only builds of this project"),
  option("--pipeline <name>", "with --zuul-url: only builds of this pipeline"),
  option("--branch <name>", "with --zuul-url: only builds of this branch"),
];
export const TIMEOUT = option("--timeout <seconds>", "overall time allowed per dstat download");
export const DEBUG = option("--debug", "verbose logging");
export const S3_OPTIONS = [
  option("--s3-profile <name>", "with an s3:// data path: a profile of ~/.aws/credentials and ~/.aws/config (else AWS_* variables)"),
  option("--s3-url <url>", "with an s3:// data path: the endpoint, for MinIO, Ceph RGW, R2, … (else AWS)"),
];

/** The data path as typed, else $CIML_DATA_PATH, else ./data; the step resolves it against the working directory. */
export function dataPath(f: Flags): string {
  return f.fromEnv("--data-path", "CIML_DATA_PATH", "./data") ?? "./data";
}

/**
 * The run source: --db-uri, --zuul-url or --runs-file as typed (two is the step's usage error); with none,
 * the database in $CIML_DB_URI, else the step's default. Zuul's token comes from the environment only.
 */
export function sourceOptions(f: Flags, defaultDbUri: string): SourceOptions {
  return {
    dbUri: f.string("--db-uri"),
    zuulUrl: f.string("--zuul-url"),
    runsFile: f.string("--runs-file"),
    defaultDbUri: f.fromEnv("--db-uri", "CIML_DB_URI", defaultDbUri) ?? defaultDbUri,
    project: f.string("--project"),
    pipeline: f.string("--pipeline"),
    branch: f.string("--branch"),
    zuulToken: f.variable("CIML_ZUUL_TOKEN"),
  };
}

/** SIGHUP asks a running prediction command to look for a newer model now (docs/s3.md). */
function onSighup(listener: () => void): () => void {
  process.on("SIGHUP", listener);
  return () => process.off("SIGHUP", listener);
}

/** The options every prediction command shares, with the step's defaults. */
export function predictorOptions(
  f: Flags,
  d: { defaultDbUri: string; dataset: string; experiment: string; timeoutSeconds: number },
): SourceOptions & {
  dataPath: string;
  s3: S3Access;
  onReloadRequest: typeof onSighup;
  dataset: string;
  experiment: string;
  dstatPaths?: string[];
  timeoutSeconds: number;
} {
  return {
    ...workspaceOptions(f),
    onReloadRequest: onSighup,
    ...sourceOptions(f, d.defaultDbUri),
    dataset: f.string("--dataset", d.dataset),
    experiment: f.string("--experiment", d.experiment),
    dstatPaths: f.list("--dstat-path"),
    timeoutSeconds: f.decimal("--timeout", d.timeoutSeconds),
  };
}

/** How to reach an s3:// data path: the two flags and the AWS_* variables (never shown: they hold secrets). */
function s3Access(f: Flags): S3Access {
  return {
    url: f.string("--s3-url"),
    profile: f.string("--s3-profile"),
    env: Object.fromEntries(S3_VARIABLES.map((name) => [name, f.variable(name)])),
  };
}

/** The workspace options every command that reads or writes it takes. */
export function workspaceOptions(f: Flags): { dataPath: string; s3: S3Access } {
  return { dataPath: dataPath(f), s3: s3Access(f) };
}
