// `npm run mutate`: mutation testing of the modules where a silent break costs most. StrykerJS changes one
// thing at a time in a module (a + for a -, a < for a <=, a branch removed…) and runs the tests that cover
// that module; a mutant the tests do not notice "survives" and shows a promise no test holds.
// One Stryker run per module, each with only its own tests, keeps it to minutes rather than hours on two cores.
// Usage: bun scripts/mutate.ts [--tests a.test.ts,b.test.ts] [--filter regex] [--survivors] [module-substring ...]
//   no module: every module below; --tests / --filter: judge the chosen modules by these test files / by the
//   tests whose names match (bun's -t) instead of their own;
//   --survivors: after adding tests, judge only the last report's survivors and update that report. Tests
//   were only added, so what was killed stays killed and the old tests need not run again: with
//   --filter naming the new tests it takes minutes instead of a full run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * What to mutate (a file, or `file:from-to` for the lines of one function in a bigger file) and the
 * narrowest tests that claim to cover it; `only` is bun's `-t` filter when one test file holds many unrelated tests.
 */
interface Module {
  file: string;
  tests: string[];
  only?: string;
}

const MODULES: Module[] = [
  { file: "src/io/atomic-file.ts", tests: ["tests/io-atomic-file.test.ts", "tests/store.test.ts", "tests/io-atomic-crash.test.ts"] },
  { file: "src/io/gzip-json.ts", tests: ["tests/io-gzip.test.ts", "tests/store.test.ts"] },
  // io-atomic-file fills a real (tmpfs) disk under writeNpz: the only test of its error path.
  { file: "src/io/npy.ts", tests: ["tests/io-npy.test.ts", "tests/io-atomic-file.test.ts"] },
  // Stryker's instrumented parser runs many times slower than the real one: the whole file (every fixture, whole
  // and in chunks) takes minutes a mutant. Its tests on small inputs judge the module; the fixture tests still
  // run in `npm test`.
  {
    file: "src/io/dstat-csv.ts",
    tests: ["tests/io-dstat-csv.test.ts", "tests/io-dstat-keep-rows.test.ts", "tests/io-dstat-row-sink.test.ts"],
    only:
      "small traces|junk is rejected|parseNumber|split at every byte|Date: line below|preamble anywhere|options.year|" +
      "incomplete row before the cap|without keepRows",
  },
  { file: "src/io/db-uri.ts", tests: ["tests/io-db-uri.test.ts"] },
  { file: "src/io/log-server.ts", tests: ["tests/io-log-server.test.ts", "tests/io-log-server-timeouts.test.ts"] },
  // The exact small-input tests come first in the file, so most mutants fail before the pandas comparison starts python.
  { file: "src/pipeline/dataset/resample.ts", tests: ["tests/pipeline-resample.test.ts"] },
  // Resampling as a trace is read, and the reads again of a trace out of order: against resampleMean on every fixture.
  { file: "src/pipeline/dataset/resample-rows.ts", tests: ["tests/pipeline-resample-rows.test.ts"] },
  { file: "src/pipeline/cache/resampled-run.ts", tests: ["tests/pipeline-resample-rows.test.ts"] },
  { file: "src/pipeline/dataset/sample-interval.ts", tests: ["tests/pipeline-resample.test.ts"] },
  { file: "src/pipeline/dataset/dataset-split.ts", tests: ["tests/pipeline-dataset-split.test.ts"] },
  // Normalisation: the training set's per-feature mean and range, and (x − mean) / range applied to each example.
  { file: "src/pipeline/dataset/fill-sets.ts:41-62", tests: ["tests/pipeline-build-dataset.test.ts"], only: "normalisation" },
  {
    file: "src/pipeline/dataset/example-vector.ts:73-88",
    tests: ["tests/pipeline-build-dataset.test.ts"],
    only: "normalisation|prediction path",
  },
  { file: "src/pipeline/model/metrics.ts", tests: ["tests/pipeline-metrics.test.ts"] },
];

const root = join(import.meta.dir, "..");
const args = process.argv.slice(2);
const testsFlag = args.indexOf("--tests");
const overrideTests = testsFlag >= 0 ? (args.splice(testsFlag, 2)[1] ?? "").split(",").filter(Boolean) : undefined;
if (overrideTests?.length === 0) {
  console.error("--tests needs a comma-separated list of test files");
  process.exit(2);
}
const filterFlag = args.indexOf("--filter");
const overrideFilter = filterFlag >= 0 ? args.splice(filterFlag, 2)[1] : undefined;
const survivorsFlag = args.indexOf("--survivors");
const onlySurvivors = survivorsFlag >= 0;
if (onlySurvivors) args.splice(survivorsFlag, 1);
const wanted = args;
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
  const name = m.file.replace(/[/:]/g, "_");
  const report = join("reports", "mutation", `${name}.json`);
  // One config per module: stryker.config.json plus what to mutate, the tests that judge it, where to report.
  const config = join("reports", "mutation", `${name}.config.json`);
  const base = JSON.parse(readFileSync(join(root, "stryker.config.json"), "utf8"));
  const tests = (overrideTests ?? m.tests).join(" ");
  const only = overrideFilter ?? (overrideTests ? undefined : m.only);
  const filter = only ? ` -t ${JSON.stringify(only)}` : "";
  const previous =
    onlySurvivors && existsSync(join(root, report)) ? (JSON.parse(readFileSync(join(root, report), "utf8")) as StrykerReport) : undefined;
  if (onlySurvivors && !previous) {
    failed = true;
    rows.push(`${m.file}: --survivors needs an earlier full run (no ${report})`);
    continue;
  }
  const survivorLines = previous ? survivorRanges(m.file.split(":")[0]!, previous) : [];
  if (previous && survivorLines.length === 0) {
    rows.push(summarise(m.file, previous));
    continue;
  }
  const rerun = join("reports", "mutation", `${name}.survivors.json`);
  const own = {
    mutate: previous ? survivorLines : [m.file],
    // --bail: a mutant is killed by the first failing test; the rest need not run.
    commandRunner: { command: `${bun} test --bail --timeout 120000 ${tests}${filter}` },
    jsonReporter: { fileName: previous ? rerun : report },
  };
  writeFileSync(join(root, config), JSON.stringify({ ...base, ...own, reporters: ["json", "progress"] }, null, 2));
  // Stryker runs under node (it needs Node's child_process); each mutant is judged by `bun test` on the module's tests.
  const run = Bun.spawnSync(["node", stryker, "run", config], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (run.exitCode !== 0) {
    failed = true;
    rows.push(`${m.file}: stryker failed (exit ${run.exitCode})`);
    continue;
  }
  if (previous) writeFileSync(join(root, report), JSON.stringify(merged(previous, JSON.parse(readFileSync(join(root, rerun), "utf8")))));
  rows.push(summarise(m.file, JSON.parse(readFileSync(join(root, report), "utf8"))));
}
const summary = rows.join("\n");
writeFileSync(join(root, "reports", "mutation", "summary.txt"), `${summary}\n`);
console.log(`\nmutation score per module: (killed + timed out) / (all that compile):\n${summary}`);
process.exit(failed ? 1 : 0);

type Location = { start: { line: number; column: number }; end: { line: number; column: number } };

/** `file:line:column-line:column` for every survivor (Stryker's mutate syntax; its columns start at 0, the report's at 1). */
function survivorRanges(file: string, report: StrykerReport): string[] {
  const spans = Object.values(report.files)
    .flatMap((f) => f.mutants)
    .filter((m) => m.status === "Survived" || m.status === "NoCoverage")
    .map(({ location: { start, end } }) => `${file}:${start.line}:${start.column - 1}-${end.line}:${end.column - 1}`);
  return [...new Set(spans)];
}

/**
 * The full report with each survivor's new status (a mutant is known by where it is and what it puts there).
 * Only survivors are updated: a range around a survivor also holds mutants the old tests killed, which
 * the new tests alone may not.
 */
function merged(full: StrykerReport, rerun: StrykerReport): StrykerReport {
  const key = (m: { mutatorName: string; location: Location; replacement?: string }) =>
    `${m.location.start.line}:${m.location.start.column}-${m.location.end.line}:${m.location.end.column} ${m.mutatorName} ${m.replacement}`;
  const now = new Map(Object.values(rerun.files).flatMap((f) => f.mutants.map((m) => [key(m), m.status] as const)));
  for (const f of Object.values(full.files))
    for (const m of f.mutants) if (m.status === "Survived" || m.status === "NoCoverage") m.status = now.get(key(m)) ?? m.status;
  return full;
}

interface StrykerReport {
  files: Record<
    string,
    {
      source: string;
      mutants: {
        status: string;
        mutatorName: string;
        location: Location;
        replacement?: string;
      }[];
    }
  >;
}

/** Squeezed to one short line: a survivor is read as "this code → that code". */
function oneLine(code: string): string {
  const flat = code.replace(/\s+/g, " ");
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat;
}

/** The text a mutant replaced (Stryker's lines are 1-based, its columns 1-based too). */
function original(source: string[], loc: Location): string {
  const lines = source.slice(loc.start.line - 1, loc.end.line);
  lines[lines.length - 1] = lines[lines.length - 1]!.slice(0, loc.end.column - 1);
  lines[0] = lines[0]!.slice(loc.start.column - 1);
  return lines.join("\n");
}

function summarise(file: string, report: StrykerReport): string {
  const mutants = Object.values(report.files).flatMap((f) => f.mutants.map((m) => ({ ...m, source: f.source.split("\n") })));
  const count = (status: string) => mutants.filter((m) => m.status === status).length;
  const detected = count("Killed") + count("Timeout");
  const valid = detected + count("Survived") + count("NoCoverage");
  const score = valid === 0 ? 100 : (100 * detected) / valid;
  const survivors = mutants
    .filter((m) => m.status === "Survived" || m.status === "NoCoverage")
    .map(
      (m) =>
        `    line ${m.location.start.line} ${m.status === "NoCoverage" ? "(no test runs it) " : ""}${m.mutatorName}: ${oneLine(original(m.source, m.location))} → ${oneLine(m.replacement ?? "")}`,
    );
  return [`${file}: ${score.toFixed(1)} % (${detected} of ${valid} detected)`, ...survivors].join("\n");
}
