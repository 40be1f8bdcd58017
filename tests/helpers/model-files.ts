// A saved model is model.json plus the weights file it names (named by the weights' hash): this reads
// both, by name, so a test can check that nothing of a model changed across an interrupted run.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export function modelFiles(modelDir: string): [string, Buffer][] {
  return readdirSync(modelDir)
    .filter((f) => f === "model.json" || /^weights.*\.bin$/.test(f))
    .sort()
    .map((f) => [f, readFileSync(join(modelDir, f))]);
}
