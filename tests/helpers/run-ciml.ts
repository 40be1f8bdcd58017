// The CLI as a user runs it, in a child process, with what it prints collected. Bun.spawn rather than
// spawnSync, so the test process keeps serving what the child talks to (a log server, a broker's peer).

import { resolve } from "node:path";

export const MAIN = resolve(import.meta.dir, "../../src/main.ts");

export interface Outcome {
  code: number;
  out: string;
  err: string;
}

/** This process's environment without the CIML_* variables a developer may have set, with CI=true and `extra`. */
export function cimlEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CIML_")));
  return { ...clean, CI: "true", ...extra };
}

/** Runs `ciml ARGS` in `cwd` (environment: cimlEnv(extraEnv)) to its end. */
export async function runCiml(args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<Outcome> {
  const p = Bun.spawn([process.execPath, MAIN, ...args], { cwd, env: cimlEnv(extraEnv), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

/** simulate's words for `runs` runs, `missingRate` of them without a dstat file, in `dbUri` and served by `logUrl`. */
export function simulateArgs(runs: number, missingRate: number, dbUri: string, logUrl: string): string[] {
  const each = ["--runs", String(runs), "--missing-rate", String(missingRate), "--db-uri", dbUri];
  return ["simulate", ...each, "--log-root", "logs", "--log-url", logUrl, "--interval", "60"];
}
