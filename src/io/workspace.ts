// The on-disk layout of the original tool (docs/workspace.md), so existing caches keep working.
// Where it lives (a folder or a bucket) is the store's business: the paths below are locations in it.
import { resolve } from "node:path";
import { CimlError } from "./ciml-error.ts";
import { nameProblem, UNAVAILABLE, type NameKind } from "./names.ts";
import { LocalStore } from "./workspace/local-store.ts";
import { resolveS3Settings, type S3Access } from "./workspace/s3-settings.ts";
import { S3Store } from "./workspace/s3-store.ts";
import { type Store, within } from "./workspace/store.ts";

/** Raised for a data path or name that cannot be used; the message says what to do instead. */
export class WorkspaceError extends CimlError {
  override name = "WorkspaceError";
}

export function checkName(kind: NameKind, name: string): string {
  const problem = nameProblem(kind, name);
  if (problem) throw new WorkspaceError(`${problem}: choose a plain name such as "tempest-full" or "usr_1m-1min-status"`);
  return name;
}

/** Whether a data path names a bucket (`s3://BUCKET[/PREFIX]`) rather than a folder. */
function isS3Path(path: string): boolean {
  return /^s3:\/\//i.test(path);
}

/**
 * The data path as the command line resolved it (--data-path, else $CIML_DATA_PATH), else ./data;
 * a relative path is taken against the working directory (a fix: docs/compatibility.md, "Relative paths
 * are relative to the current directory"). An s3:// path is kept as it is.
 */
export function resolveDataPath(given: string | undefined, cwd = process.cwd()): string {
  const chosen = given || "data";
  if (isS3Path(chosen)) return chosen;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(chosen)) {
    throw new WorkspaceError(
      `data path ${chosen.replace(/\/\/[^@/]*@/, "//***@")}: only local directories and s3://BUCKET[/PREFIX] are supported`,
    );
  }
  return resolve(cwd, chosen);
}

/**
 * The workspace a command works on: a local folder, or a bucket reached with `s3` (the flags and
 * AWS_* variables, see s3-settings.ts), checked to answer before any work starts. `stop` is the
 * command's Ctrl-C: a bucket's requests end when it fires (a local file operation is over in moments).
 */
export async function openWorkspace(dataPath: string | undefined, s3: S3Access = {}, stop?: AbortSignal): Promise<Workspace> {
  const root = resolveDataPath(dataPath);
  if (!isS3Path(root)) {
    if (s3.url !== undefined || s3.profile !== undefined)
      throw new WorkspaceError(`--s3-url and --s3-profile need an s3://BUCKET[/PREFIX] data path; ${root} is a local folder`, 2);
    return new Workspace(root);
  }
  const store = new S3Store(root, resolveS3Settings(s3), stop);
  await store.check();
  return new Workspace(store);
}

export class Workspace {
  readonly store: Store;
  private readonly base: string;
  /**
   * `where`: a local folder's path, or a Store (S3). `root`: a folder inside that store to use as the
   * workspace instead of the store's own root (build-dataset's staging folder).
   */
  constructor(where: string | Store, root?: string) {
    this.store = typeof where === "string" ? new LocalStore(where) : where;
    this.base = root ?? this.store.root;
  }

  get root(): string {
    return this.base;
  }
  /** A path the user gave relative to the workspace (plot-data's DATASET may be one); a folder's may be absolute. */
  place(path: string): string {
    if (this.store instanceof LocalStore) return resolve(this.root, path);
    const parts = path.split("/").filter((part) => part !== "" && part !== ".");
    if (parts.includes("..")) throw new WorkspaceError(`${path}: ".." cannot climb out of ${this.root}; give a path inside it`);
    return within(this.root, ...parts);
  }

  get rawDir(): string {
    return within(this.root, ".raw");
  }
  get metadataDir(): string {
    return within(this.root, ".metadata");
  }
  rawTrace(runUuid: string): string {
    return within(this.rawDir, `${checkRunId(runUuid)}.csv.gz`);
  }
  runMetadata(runUuid: string): string {
    return within(this.metadataDir, `${checkRunId(runUuid)}.json.gz`);
  }
  buildRuns(buildName: string): string {
    return within(this.rawDir, `${checkName("build name", buildName)}.json.gz`);
  }
  /** the lists of the runs predictors cached for a build name, one per process (found-runs.ts) */
  foundRunsDir(buildName: string): string {
    return within(this.rawDir, ".found", checkName("build name", buildName));
  }
  /** where a newest-first source (Zuul) keeps, per source and filters, the newest build of the last complete pass */
  sourceMarks(buildName: string): string {
    return within(this.rawDir, `.marks-${checkName("build name", buildName)}.json.gz`);
  }
  /** The original's list of runs without dstat data: read, never written (see unavailable-runs.ts). */
  get unavailableRuns(): string {
    return within(this.rawDir, `${UNAVAILABLE}.json.gz`);
  }
  get unavailableDir(): string {
    return within(this.rawDir, `.${UNAVAILABLE}`);
  }
  unavailableRunsOf(buildName: string): string {
    return within(this.unavailableDir, `${checkName("build name", buildName)}.json.gz`);
  }
  /** `_splits/<size>/<t>_<d>.json.gz`, fractions formatted as Python's str(float) does. */
  splits(size: number, training: number, dev: number): string {
    return within(this.root, "_splits", String(size), `${pythonFloat(training)}_${pythonFloat(dev)}.json.gz`);
  }
  experimentDir(experiment: string): string {
    return within(this.root, "_experiments", checkName("experiment", experiment));
  }
  experimentFile(experiment: string): string {
    return within(this.experimentDir(experiment), "experiment.json.gz");
  }
  datasetDir(dataset: string): string {
    return within(this.root, checkName("dataset", dataset));
  }
  datasetFile(dataset: string, file: string): string {
    return within(this.datasetDir(dataset), file);
  }
  modelDir(dataset: string, experiment: string): string {
    return within(this.datasetDir(dataset), checkName("experiment", experiment));
  }
  datasetExists(dataset: string): Promise<boolean> {
    return this.store.exists(this.datasetFile(dataset, "model_config.json.gz"));
  }
}

/** Run UUIDs come from a database we do not control; they name files, so they get the same guard. */
function checkRunId(runUuid: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(runUuid)) {
    throw new WorkspaceError(`run id ${JSON.stringify(runUuid)} is not a UUID-like name; the database holds an unexpected value`);
  }
  return runUuid;
}

/** Python's str() of a float: 0.6 → "0.6", 0 → "0.0", 1 → "1.0". */
function pythonFloat(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}
