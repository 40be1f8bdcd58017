// A dataset built beside the one it replaces. build-dataset writes the new files into
// `<workspace>/.staging/<dataset>/` and moves them into `<workspace>/<dataset>/` only once all of them
// are written, so a rebuild that fails or is interrupted leaves the old dataset as it was, readable and
// trainable (docs/troubleshooting.md promises it). Only the dataset's own files move: the experiment
// folders beside them (models trained on the dataset) stay where they are, as the original tool left them.
import { mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Workspace } from "./workspace.ts";

/** The files build-dataset writes besides the configuration, which is the one that makes a folder a dataset. */
const DATASET_FILES = [
  "labels.npz",
  "runs.json.gz",
  "excluded.json.gz",
  ...["training", "dev", "test"].flatMap((set) => [`${set}.npz`, `${set}.json.gz`]),
];
const CONFIG = "model_config.json.gz";

export class StagedDataset {
  /** Where the new files are written: a workspace whose `datasetFile(dataset, …)` is in the staging folder. */
  readonly workspace: Workspace;

  constructor(
    private readonly target: Workspace,
    private readonly dataset: string,
  ) {
    // ".staging" starts with a dot, which no dataset name may, so it never meets a user's dataset.
    this.workspace = new Workspace(join(target.root, ".staging"));
    // What an earlier build left when it was killed outright is never half of anything: start afresh.
    this.discard();
    mkdirSync(this.workspace.datasetDir(dataset), { recursive: true });
  }

  /**
   * Puts the new dataset in place of the old one. The old configuration goes first and the new one comes
   * last, so even a crash in these few renames never leaves a configuration describing other archives.
   */
  commit(): void {
    const from = (file: string) => this.workspace.datasetFile(this.dataset, file);
    const to = (file: string) => this.target.datasetFile(this.dataset, file);
    mkdirSync(this.target.datasetDir(this.dataset), { recursive: true });
    const staged = readdirSync(this.workspace.datasetDir(this.dataset));
    rmSync(to(CONFIG), { force: true });
    for (const file of staged) if (file !== CONFIG) renameSync(from(file), to(file));
    // A file the new build did not make (the archive of an empty set) must not survive from the old one.
    for (const file of DATASET_FILES) if (!staged.includes(file)) rmSync(to(file), { force: true });
    renameSync(from(CONFIG), to(CONFIG));
    this.discard();
  }

  /** Drops the staged files: the build failed or was interrupted, and the old dataset stays as it is. */
  discard(): void {
    rmSync(this.workspace.datasetDir(this.dataset), { recursive: true, force: true });
    // The staging folder itself goes when it is empty; another dataset may be building in it.
    try {
      rmdirSync(this.workspace.root);
    } catch {
      // not empty, or already gone
    }
  }
}
