#!/usr/bin/env bun
// The entry: hands the words after `ciml` to the CLI layer and exits with its code. Kept this small
// so that `ciml --help` and `ciml --version` load nothing but the command table.
import pkg from "../package.json" with { type: "json" };
import { runCli } from "./cli/run-cli.ts";

function versionLine(): string {
  return `ciml ${pkg.version} (bun ${Bun.version}, ${process.platform}-${process.arch})`;
}

if (import.meta.main) {
  process.exitCode = await runCli(process.argv.slice(2), [process.argv0, process.argv[1]], process.env, versionLine());
}
