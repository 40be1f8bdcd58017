// A dataset built beside the one it replaces. build-dataset writes the new files into
// `<workspace>/.staging/<dataset>/` and moves them into `<workspace>/<dataset>/` only once all of them
// are written, so a rebuild that fails or is interrupted leaves the old dataset as it was, readable and
// trainable (docs/troubleshooting.md promises it). Only the dataset's own files move: the experiment
// folders beside them (models trained on the dataset) stay where they are, as the original tool left them.
// It works through the workspace's store, so a bucket gets the same order of steps as a folder.
import { Workspace } from "./workspace.ts";
import { within } from "./workspace/store.ts";

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

  private constructor(
    private readonly target: Workspace,
    private readonly dataset: string,
  ) {
    // ".staging" starts with a dot, which no dataset name may, so it never meets a user's dataset.
    this.workspace = new Workspace(target.store, within(target.root, ".staging"));
  }

  /** A fresh staging folder: what an earlier build left when it was killed outright is never half of anything. */
  static async open(target: Workspace, dataset: string): Promise<StagedDataset> {
    const staged = new StagedDataset(target, dataset);
    await staged.discard();
    return staged;
  }

  /**
   * Puts the new dataset in place of the old one. The old configuration goes first and the new one comes
   * last, so even a crash in these few moves never leaves a configuration describing other archives.
   */
  async commit(): Promise<void> {
    const store = this.target.store;
    const from = (file: string) => this.workspace.datasetFile(this.dataset, file);
    const to = (file: string) => this.target.datasetFile(this.dataset, file);
    const staged = await store.list(this.workspace.datasetDir(this.dataset));
    await store.remove(to(CONFIG));
    for (const file of staged) if (file !== CONFIG) await store.move(from(file), to(file));
    // A file the new build did not make (the archive of an empty set) must not survive from the old one.
    for (const file of DATASET_FILES) if (!staged.includes(file)) await store.remove(to(file));
    await store.move(from(CONFIG), to(CONFIG));
    await this.discard();
  }

  /** Drops the staged files: the build failed or was interrupted, and the old dataset stays as it is. */
  async discard(): Promise<void> {
    const store = this.target.store;
    await store.removeFolder(this.workspace.datasetDir(this.dataset));
    // The staging folder itself goes when nothing is left in it; another dataset may be building there.
    if ((await store.list(this.workspace.root)).length === 0) await store.removeFolder(this.workspace.root);
  }
}
