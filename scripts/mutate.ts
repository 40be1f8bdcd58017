// `npm run mutate`: mutation testing of the modules where a silent break costs most. StrykerJS changes one
// thing at a time in a module (a + for a -, a < for a <=, a branch removed…) and runs the tests that cover
// that module; a mutant the tests do not notice "survives" and shows a promise no test holds.
// One Stryker run per module, each with only its own tests, keeps it to minutes rather than hours on two cores.
// Usage: bun scripts/mutate.ts [module-substring ...]   (no argument: every module below)
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const MODULES: { file: string; tests: string[] }[] = [
  { file: "src/io/atomic-file.ts", tests: ["tests/store.test.ts", "tests/io-atomic-crash.test.ts"] },
  { file: "src/io/gzip-json.ts", tests: ["tests/store.test.ts", "tests/io-atomic-crash.test.ts"] },
  { file: "src/io/npy.ts", tests: ["tests/io-npy.test.ts"] },
  { file: "src/io/dstat-csv.ts", tests: ["tests/io-dstat-csv.test.ts"] },
  { file: "src/io/db-uri.ts", tests: ["tests/io-db-uri.test.ts"] },
  { file: "src/io/log-server.ts", tests: ["tests/io-log-server.test.ts", "tests/io-log-server-timeouts.test.ts"] },
  { file: "src/pipeline/dataset/resample.ts", tests: ["tests/pipeline-resample.test.ts"] },
  { file: "src/pipeline/dataset/sample-interval.ts", tests: ["tests/pipeline-resample.test.ts"] },
  { file: "src/pipeline/dataset/dataset-split.ts", tests: ["tests/pipeline-dataset-split.test.ts"] },
  { file: "src/pipeline/model/metrics.ts", tests: ["tests/pipeline-metrics.test.ts"] },
];

const root = join(import.meta.dir, "..");
const wanted = process.argv.slice(2);
const chosen = MODULES.filter((m) => wanted.length === 0 || wanted.some((w) => m.file.includes(w)));
if (chosen.length === 0) {
  console.error(`no module matches ${wanted.join(" ")}; modules: ${MODULES.map((m) => m.file).join(", ")}`);
  process.exit(2);
}
const bun = process.execPath;
const stryker = join(root, "node_modules", "@stryker-mutator", "core", "bin", "stryker.js");
mkdirSync(join(root, "reports", "mutation"), { recursive: true });

const rows: string[] = [];
let failed = false;
for (const m of chosen) {
  const report = join("reports", "mutation", `${m.file.replaceAll("/", "_")}.json`);
  // One config per module: stryker.config.json plus what to mutate, the tests that judge it, where to report.
  const config = join("reports", "mutation", `${m.file.replaceAll("/", "_")}.config.json`);
  const base = JSON.parse(readFileSync(join(root, "stryker.config.json"), "utf8"));
  const own = {
    mutate: [m.file],
    commandRunner: { command: `${bun} test --timeout 120000 ${m.tests.join(" ")}` },
    jsonReporter: { fileName: report },
  };
  writeFileSync(join(root, config), JSON.stringify({ ...base, ...own, reporters: ["json", "progress"] }, null, 2));
  // Stryker runs under node (it needs Node's child_process); each mutant is judged by `bun test` on the module's tests.
  const run = Bun.spawnSync(["node", stryker, "run", config], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (run.exitCode !== 0) {
    failed = true;
    rows.push(`${m.file}: stryker failed (exit ${run.exitCode})`);
    continue;
  }
  rows.push(summarise(m.file, JSON.parse(readFileSync(join(root, report), "utf8"))));
}
const summary = rows.join("\n");
writeFileSync(join(root, "reports", "mutation", "summary.txt"), `${summary}\n`);
console.log(`\nmutation score per module (killed + timed out) / (all but no-coverage and errors):\n${summary}`);
process.exit(failed ? 1 : 0);

interface StrykerReport {
  files: Record<
    string,
    { mutants: { status: string; mutatorName: string; location: { start: { line: number } }; replacement?: string }[] }
  >;
}

function summarise(file: string, report: StrykerReport): string {
  const mutants = Object.values(report.files).flatMap((f) => f.mutants);
  const count = (status: string) => mutants.filter((m) => m.status === status).length;
  const detected = count("Killed") + count("Timeout");
  const valid = detected + count("Survived") + count("NoCoverage");
  const score = valid === 0 ? 100 : (100 * detected) / valid;
  const survivors = mutants
    .filter((m) => m.status === "Survived" || m.status === "NoCoverage")
    .map(
      (m) =>
        `    line ${m.location.start.line}: ${m.mutatorName}${m.replacement ? ` → ${m.replacement.replace(/\s+/g, " ").slice(0, 60)}` : ""}`,
    );
  return [`${file}: ${score.toFixed(1)} % (${detected} of ${valid} detected)`, ...survivors].join("\n");
}
