// bench/startup.ts — how long the compiled binary takes to answer `--help` and `--version`, against a
// compiled Bun hello-world on the same machine in the same run, with the binary built both ways
// (bytecode, as shipped, and plain JavaScript, which the runtime must parse at every start).
//
//   node_modules/.bin/bun bench/startup.ts [runs=20]
//
// Each case is started `runs` times, the cases taking turns so that a burst of load elsewhere on a
// shared machine hits them all alike. Each figure is the fastest and the median of those starts, as wall
// time and as CPU time (user + system); the ratios compare like with like against the hello-world.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableRow } from "./table-row.ts";

const runs = Number(process.argv[2] ?? 20);
const root = join(import.meta.dir, "..");
const dir = mkdtempSync(join(tmpdir(), "ciml-bench-startup-"));

function compileCiml(outdir: string, extra: string[]): string {
  const p = Bun.spawnSync([process.execPath, join(root, "scripts/compile.ts"), "--outdir", outdir, ...extra]);
  if (p.exitCode !== 0) throw new Error(`compile failed: ${p.stderr}`);
  return join(outdir, "ciml");
}

function compileHello(): string {
  const source = join(dir, "hello.ts");
  writeFileSync(source, 'console.log("hello");\n');
  const outfile = join(dir, "hello");
  const p = Bun.spawnSync([process.execPath, "build", "--compile", source, "--outfile", outfile]);
  if (p.exitCode !== 0) throw new Error(`hello-world compile failed: ${p.stderr}`);
  return outfile;
}

interface Timing {
  wallMs: number[];
  cpuMs: number[];
}

/** Starts every case `runs` times, in turns, and keeps each start's wall and CPU time in milliseconds. */
function timeAll(cases: Record<string, string[]>): Record<string, Timing> {
  const timings: Record<string, Timing> = {};
  for (const label of Object.keys(cases)) timings[label] = { wallMs: [], cpuMs: [] };
  for (let i = 0; i < runs; i++) {
    for (const [label, argv] of Object.entries(cases)) {
      const started = performance.now();
      const p = Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore" });
      timings[label]!.wallMs.push(performance.now() - started);
      timings[label]!.cpuMs.push(Number(p.resourceUsage.cpuTime.total) / 1000);
      if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${p.exitCode}`);
    }
  }
  return timings;
}

const fastest = (ms: number[]) => Math.min(...ms);
const median = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;

try {
  console.log(`compiling a hello-world and ciml (with and without bytecode) into ${dir} ...`);
  const hello = compileHello();
  const binaries = { bytecode: compileCiml(join(dir, "bytecode"), []), "no bytecode": compileCiml(join(dir, "plain"), ["--no-bytecode"]) };
  const cases: Record<string, string[]> = { "hello-world": [hello] };
  for (const [kind, bin] of Object.entries(binaries)) {
    cases[`ciml --help (${kind})`] = [bin, "--help"];
    cases[`ciml --version (${kind})`] = [bin, "--version"];
  }
  const timings = timeAll(cases);
  const base = timings["hello-world"]!;
  const cell = (ms: number[], baseMs: number[], pick: (ms: number[]) => number) =>
    `${pick(ms).toFixed(1).padStart(6)} ms ${(pick(ms) / pick(baseMs)).toFixed(1).padStart(4)}×`;
  const head = ["fastest wall", "median wall", "fastest cpu", "median cpu"].map((h) => h.padStart(15)).join("  ");
  console.log(`\n${"".padEnd(30)} ${head}`);
  for (const [label, t] of Object.entries(timings))
    console.log(
      `${label.padEnd(30)} ${[
        cell(t.wallMs, base.wallMs, fastest),
        cell(t.wallMs, base.wallMs, median),
        cell(t.cpuMs, base.cpuMs, fastest),
        cell(t.cpuMs, base.cpuMs, median),
      ].join("  ")}`,
    );
  console.log(`\n${runs} starts each, in turns; ratio against the hello-world's figure of the same kind (goal: at most 2×)`);
  for (const word of ["--help", "--version"]) {
    const t = timings[`ciml ${word} (bytecode)`]!;
    tableRow(
      `ciml ${word} start vs a compiled hello-world`,
      `median ${median(t.wallMs).toFixed(1)} ms, ${(median(t.wallMs) / median(base.wallMs)).toFixed(1)}×`,
      "≤ 2×",
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
