// The on-disk layout of the original tool (docs/workspace.md), so existing caches keep working.
import { mkdirSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { CimlError } from "./ciml-error.ts";
import { nameProblem, UNAVAILABLE, type NameKind } from "./names.ts";

/** Raised for a data path or name that cannot be used; the message says what to do instead. */
export class WorkspaceError extends CimlError {
  override name = "WorkspaceError";
}

export function checkName(kind: NameKind, name: string): string {
  const problem = nameProblem(kind, name);
  if (problem) throw new WorkspaceError(`${problem}: choose a plain name such as "tempest-full" or "usr_1m-1min-status"`);
  return name;
}

/**
 * The data path as the command line resolved it (--data-path, else $CIML_DATA_PATH), else ./data;
 * a relative path is taken against the working directory (a fix: docs/compatibility.md, "Relative paths
 * are relative to the current directory").
 */
export function resolveDataPath(given: string | undefined, cwd = process.cwd()): string {
  const chosen = given || "data";
  if (/^s3:\/\//i.test(chosen)) {
    throw new WorkspaceError(`data path ${chosen}: S3 storage is not supported yet; use a local directory`);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(chosen)) {
    throw new WorkspaceError(`data path ${chosen}: only local directories are supported`);
  }
  return resolve(cwd, chosen);
}

export class Workspace {
  constructor(readonly root: string) {}

  get rawDir(): string {
    return join(this.root, ".raw");
  }
  get metadataDir(): string {
    return join(this.root, ".metadata");
  }
  rawTrace(runUuid: string): string {
    return join(this.rawDir, `${checkRunId(runUuid)}.csv.gz`);
  }
  runMetadata(runUuid: string): string {
    return join(this.metadataDir, `${checkRunId(runUuid)}.json.gz`);
  }
  buildRuns(buildName: string): string {
    return join(this.rawDir, `${checkName("build name", buildName)}.json.gz`);
  }
  /** where a newest-first source (Zuul) keeps, per source and filters, the newest build of the last complete pass */
  sourceMarks(buildName: string): string {
    return join(this.rawDir, `.marks-${checkName("build name", buildName)}.json.gz`);
  }
  /** The original's list of runs without dstat data: read, never written (see unavailable-runs.ts). */
  get unavailableRuns(): string {
    return join(this.rawDir, `${UNAVAILABLE}.json.gz`);
  }
  get unavailableDir(): string {
    return join(this.rawDir, `.${UNAVAILABLE}`);
  }
  unavailableRunsOf(buildName: string): string {
    return join(this.unavailableDir, `${checkName("build name", buildName)}.json.gz`);
  }
  /** `_splits/<size>/<t>_<d>.json.gz`, fractions formatted as Python's str(float) does. */
  splits(size: number, training: number, dev: number): string {
    return join(this.root, "_splits", String(size), `${pythonFloat(training)}_${pythonFloat(dev)}.json.gz`);
  }
  experimentDir(experiment: string): string {
    return join(this.root, "_experiments", checkName("experiment", experiment));
  }
  experimentFile(experiment: string): string {
    return join(this.experimentDir(experiment), "experiment.json.gz");
  }
  datasetDir(dataset: string): string {
    return join(this.root, checkName("dataset", dataset));
  }
  datasetFile(dataset: string, file: string): string {
    return join(this.datasetDir(dataset), file);
  }
  modelDir(dataset: string, experiment: string): string {
    return join(this.datasetDir(dataset), checkName("experiment", experiment));
  }
  datasetExists(dataset: string): boolean {
    return existsSync(this.datasetFile(dataset, "model_config.json.gz"));
  }
  ensureDirs(): void {
    mkdirSync(this.rawDir, { recursive: true });
    mkdirSync(this.unavailableDir, { recursive: true });
    mkdirSync(this.metadataDir, { recursive: true });
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
