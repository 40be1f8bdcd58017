#!/usr/bin/env bun
// The entry: hands the words after `ciml` to the CLI layer and exits with its code. `ciml --help` and
// `--version` are answered here before the parser and the command options load (quick-answer.ts), and
// everything else is imported only when it is needed: the compiled binary is split into chunks
// (scripts/compile.ts), so a chunk nobody imports is never read.
import pkg from "../package.json" with { type: "json" };
import { quickAnswer } from "./cli/quick-answer.ts";

function versionLine(): string {
  return `ciml ${pkg.version} (bun ${Bun.version}, ${process.platform}-${process.arch})`;
}

async function main(words: string[], programs: (string | undefined)[]): Promise<number> {
  const quick = quickAnswer(words, programs);
  // console.log rather than process.stdout.write: Bun builds process.stdout's Node stream on first
  // use, which costs about as much as starting Bun.
  if (quick === "version") console.log(versionLine());
  if (quick === "help") console.log((await import("./cli/help.ts")).topHelp(versionLine()));
  if (quick !== null) return 0;
  const { runCli } = await import("./cli/run-cli.ts");
  return runCli(words, programs, process.env, versionLine());
}

/** Exit code of a command stopped by Ctrl-C (run-step.ts). */
const INTERRUPTED = 130;

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2), [process.argv0, process.argv[1]]);
  // An interrupted command ends here: a request that cannot be cancelled (Bun.S3Client takes no
  // AbortSignal) was left behind, and would otherwise hold the process until its server answers.
  if (process.exitCode === INTERRUPTED) process.exit(INTERRUPTED);
}
