// Run as a child process by io-staged-dataset.test.ts: stages a new dataset (every file holding "new",
// no dev archive, as when the new dev set is empty) over the dataset "ds" in the given workspace and
// commits it, so that a test can kill it at a chosen system call and look at what the crash leaves.
import { writeFileSync } from "node:fs";
import { StagedDataset } from "../../src/io/staged-dataset.ts";
import { Workspace } from "../../src/io/workspace.ts";

const [root, ...files] = process.argv.slice(2);
const staged = new StagedDataset(new Workspace(root!), "ds");
for (const file of files) writeFileSync(staged.workspace.datasetFile("ds", file), "new");
staged.commit();
