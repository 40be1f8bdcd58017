// Run as a child process by io-staged-dataset.test.ts: stages a new dataset (every file holding "new",
// no dev archive, as when the new dev set is empty) over the dataset "ds" in the given workspace and
// commits it, so that a test can kill it at a chosen system call and look at what the crash leaves.
import { mkdirSync, writeFileSync } from "node:fs";
import { StagedDataset } from "../../src/io/staged-dataset.ts";
import { Workspace } from "../../src/io/workspace.ts";

const [root, ...files] = process.argv.slice(2);
const staged = await StagedDataset.open(new Workspace(root!), "ds");
mkdirSync(staged.workspace.datasetDir("ds"), { recursive: true });
for (const file of files) writeFileSync(staged.workspace.datasetFile("ds", file), "new");
await staged.commit();
