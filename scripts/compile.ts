// Builds the single executable (see README, "The binary"):
//  - tfjs packages resolve to their CommonJS `main` files; their ESM entries lose tfjs-core's
//    side-effect registrations under the bundler and the binary dies with `env().platform` undefined;
//  - Ink's optional react-devtools-core import resolves to a local stub (the real one breaks the build).
//  - the bundle is split into chunks, one per `import()`, so a start reads only the chunks it imports:
//    `ciml --help` loads the help page, not TensorFlow, Ink or the database drivers (one unsplit
//    bundle costs every start about 15 ms with bytecode, 110 ms without; bench/startup.ts measures it);
//  - the code is stored as JavaScriptCore bytecode, so a command does not parse its chunks first.
// Usage: bun scripts/compile.ts [--target host|all|linux-x64,darwin-arm64,...] [--outdir dist] [--no-bytecode]
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import type { BunPlugin } from "bun";

const root = resolve(import.meta.dir, "..");
const require = createRequire(join(root, "package.json"));

export const TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "windows-x64"] as const;

const plugin: BunPlugin = {
  name: "ciml-compile",
  setup(build) {
    // Only bare package names: deep imports (the .wasm files) keep their own paths.
    build.onResolve({ filter: /^@tensorflow\/[^/]+$/ }, (args) => {
      let pkgJson: string;
      try {
        pkgJson = require.resolve(`${args.path}/package.json`);
      } catch {
        // Optional backends (tfjs-node) are loaded at run time where the user installed them.
        return { path: args.path, external: true };
      }
      const main = JSON.parse(readFileSync(pkgJson, "utf8")).main as string;
      return { path: join(dirname(pkgJson), main) };
    });
    build.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: join(root, "scripts/stubs/react-devtools-core.ts") }));
  },
};

function parseArgs(argv: string[]): { targets: string[]; outdir: string; bytecode: boolean } {
  let target = "host";
  let outdir = join(root, "dist");
  let bytecode = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--target") target = argv[++i] ?? "host";
    else if (a.startsWith("--target=")) target = a.slice("--target=".length);
    else if (a === "--outdir") outdir = resolve(argv[++i] ?? outdir);
    else if (a === "--no-bytecode") bytecode = false;
    else
      throw new Error(
        `unknown argument ${a}; usage: bun scripts/compile.ts [--target host|all|${TARGETS.join(",")}] [--outdir dir] [--no-bytecode]`,
      );
  }
  const targets = target === "all" ? [...TARGETS] : target.split(",");
  for (const t of targets)
    if (t !== "host" && !(TARGETS as readonly string[]).includes(t))
      throw new Error(`unknown target ${t}; use host, all or ${TARGETS.join(", ")}`);
  return { targets, outdir, bytecode };
}

async function compile(target: string, outdir: string, bytecode: boolean): Promise<string> {
  const outfile = join(outdir, target === "host" ? "ciml" : `ciml-${target}${target.startsWith("windows") ? ".exe" : ""}`);
  const result = await Bun.build({
    entrypoints: [join(root, "src/main.ts")],
    compile: target === "host" ? { outfile } : { target: `bun-${target}`, outfile },
    minify: true,
    sourcemap: "none",
    // Bytecode needs an ES module here: the entry awaits at top level.
    bytecode,
    format: "esm",
    splitting: true,
    plugins: [plugin],
    define: { "process.env.DEV": JSON.stringify("false") },
  } as Parameters<typeof Bun.build>[0]);
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`compile failed for ${target}`);
  }
  return outfile;
}

if (import.meta.main) {
  const { targets, outdir, bytecode } = parseArgs(process.argv.slice(2));
  mkdirSync(outdir, { recursive: true });
  const sums: string[] = [];
  for (const target of targets) {
    const started = performance.now();
    const file = await compile(target, outdir, bytecode);
    const bytes = readFileSync(file);
    sums.push(`${createHash("sha256").update(bytes).digest("hex")}  ${file.slice(outdir.length + 1)}`);
    console.log(`${file} (${(bytes.length / 1e6).toFixed(1)} MB, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  if (targets.length > 1) {
    writeFileSync(join(outdir, "SHA256SUMS"), `${sums.join("\n")}\n`);
    console.log(join(outdir, "SHA256SUMS"));
  }
}
