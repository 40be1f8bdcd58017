// Run as a child process by tests/io-found-runs.test.ts: reads a build's runs from a local workspace as
// build-dataset does (compacting the predictors' lists when enough are old) and prints them as JSON, so
// that two such readers can run at once on one folder.
import { readBuildRuns } from "../../src/io/found-runs.ts";
import { Workspace } from "../../src/io/workspace.ts";

const [root, buildName] = process.argv.slice(2);
console.log(JSON.stringify(await readBuildRuns(new Workspace(root!), buildName!)));
