// Run in a separate process by the tests: loads a trained model and prints the classes it predicts for a
// dataset's test set, so the tests can check that class ids mean the same in every process.
import { readNpz } from "../../src/io/npy.ts";
import { Workspace } from "../../src/io/workspace.ts";
import { argmaxRows } from "../../src/pipeline/model/metrics.ts";
import { loadTrainedModel } from "../../src/pipeline/model/trained-model.ts";
import { disk } from "./disk.ts";

const [root, dataset, experiment] = process.argv.slice(2) as [string, string, string];
const ws = new Workspace(root);
const test = (await readNpz(disk, ws.datasetFile(dataset, "test.npz"))).examples!;
const model = await loadTrainedModel(ws, dataset, experiment);
const probabilities = model.predict(test.data as Float32Array, test.shape[0]!);
const ids = argmaxRows(probabilities, model.classes.length);
process.stdout.write(JSON.stringify(Array.from(ids, (i) => model.classes[i])));
