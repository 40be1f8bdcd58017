// bench/startup.ts — how long the compiled binary takes to answer `--help` and `--version`, against a
// compiled Bun hello-world on the same machine in the same run, with the binary built both ways
// (bytecode, as shipped, and plain JavaScript, which the runtime must parse at every start).
//
//   node_modules/.bin/bun bench/startup.ts [runs=20]
//
// Each figure is the fastest of `runs` starts, as wall time and as CPU time (user + system): on a
// shared, loaded machine the CPU time is the steadier of the two. The ratios compare fastest with fastest.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
  wallMs: number;
  cpuMs: number;
}

/** Fastest wall time and fastest CPU time of `runs` starts, in milliseconds. */
function time(argv: string[]): Timing {
  let wallMs = Infinity;
  let cpuMs = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const p = Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore" });
    wallMs = Math.min(wallMs, performance.now() - started);
    cpuMs = Math.min(cpuMs, Number(p.resourceUsage.cpuTime.total) / 1000);
    if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${p.exitCode}`);
  }
  return { wallMs, cpuMs };
}

try {
  console.log(`compiling a hello-world and ciml (with and without bytecode) into ${dir} ...`);
  const hello = compileHello();
  const binaries = { bytecode: compileCiml(join(dir, "bytecode"), []), "no bytecode": compileCiml(join(dir, "plain"), ["--no-bytecode"]) };
  const base = time([hello]);
  const cell = (ms: number, baseMs: number) => `${ms.toFixed(1).padStart(7)} ms ${(ms / baseMs).toFixed(1).padStart(5)}×`;
  const row = (label: string, t: Timing) =>
    console.log(`${label.padEnd(30)} ${cell(t.wallMs, base.wallMs)}   ${cell(t.cpuMs, base.cpuMs)}`);
  console.log(`\n${"".padEnd(30)} ${"wall".padStart(10)} ${"ratio".padStart(6)}   ${"cpu".padStart(10)} ${"ratio".padStart(6)}`);
  row("hello-world", base);
  for (const [kind, bin] of Object.entries(binaries)) {
    row(`ciml --help (${kind})`, time([bin, "--help"]));
    row(`ciml --version (${kind})`, time([bin, "--version"]));
  }
  console.log(`\nfastest of ${runs} starts each; ratio against the hello-world (goal: at most 2×)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
