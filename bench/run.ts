// `npm run bench`: every benchmark, one after another (they would skew each other if run at once).
// `npm run bench -- cache train` runs just those.
import { join } from "node:path";

const ALL = ["startup", "cache", "dataset", "train", "predict", "predict-stages", "memory"];
const chosen = process.argv.slice(2);
const unknown = chosen.filter((n) => !ALL.includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(", ")}; choose from ${ALL.join(", ")}`);
  process.exit(2);
}
let failed = 0;
for (const name of chosen.length > 0 ? chosen : ALL) {
  console.log(`\n### bench/${name}.ts`);
  const p = Bun.spawn([process.execPath, join(import.meta.dir, `${name}.ts`)], { stdout: "inherit", stderr: "inherit" });
  if ((await p.exited) !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
