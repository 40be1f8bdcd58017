// `npm run bench`: every benchmark, one after another (they would skew each other if run at once), then
// the table of every headline figure against its goal, gathered from the benchmarks' rows (bench/table-row.ts).
// `npm run bench -- cache train` runs just those.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ALL = ["startup", "cache", "dataset", "train", "predict", "predict-nodelay", "predict-stages", "memory"];
const chosen = process.argv.slice(2);
const unknown = chosen.filter((n) => !ALL.includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(", ")}; choose from ${ALL.join(", ")}`);
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "ciml-bench-rows-"));
const rows = join(dir, "rows.md");
let failed = 0;
for (const name of chosen.length > 0 ? chosen : ALL) {
  console.log(`\n### bench/${name}.ts`);
  const p = Bun.spawn([process.execPath, join(import.meta.dir, `${name}.ts`)], {
    stdout: "inherit",
    stderr: "inherit",
    env: { ...process.env, CIML_BENCH_ROWS: rows },
  });
  if ((await p.exited) !== 0) {
    console.log(`bench/${name}.ts failed`);
    failed++;
  }
}
let table = "";
try {
  table = readFileSync(rows, "utf8");
} catch {
  // No benchmark printed a row (one chosen that has none, or all failed).
}
rmSync(dir, { recursive: true, force: true });
if (table)
  console.log(`\n### the table: each figure against its peer in the same run\n\n| work | measured | goal |\n|---|---|---|\n${table}`);
process.exit(failed > 0 ? 1 : 0);
