// What the user reads when a command fails: one line that names the thing and the fix, and the exit
// code. File-system refusals name the path and what to do instead of the system's errno text.
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { CimlError } from "../pipeline/errors.ts";

interface ErrorReport {
  /** one line */
  message: string;
  exitCode: number;
  /** only with CIML_DEBUG=1 */
  stack?: string;
}

/** The file in the way when a folder was to be made at `path` (the path itself or one of its parents). */
function fileInTheWay(path: string): string {
  for (let p = path; p !== dirname(p); p = dirname(p)) {
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not there: look further up
    }
  }
  return path;
}

const fileWhereFolder = (p: string) =>
  `${fileInTheWay(p)} is a file where a folder is needed (for ${p}); move the file away or choose another folder`;

const FILE_SYSTEM_FIXES: Record<string, (path: string) => string> = {
  ENOTDIR: fileWhereFolder,
  EEXIST: fileWhereFolder,
  EISDIR: (p) => `${p}: is a folder where a file is needed; choose a file name`,
  EACCES: (p) => `${p}: permission denied; choose a folder you can write to, or change its permissions`,
  EPERM: (p) => `${p}: permission denied; choose a folder you can write to, or change its permissions`,
  EROFS: (p) => `${p}: the file system is read-only; choose a folder on a writable disk`,
  ENOENT: (p) => `${p}: no such file or folder, and it could not be created; check the path and that its parent folder exists`,
  ENOSPC: (p) => `disk full at ${p}; free some space and run the command again (it resumes)`,
};

/** A refusal from the file system about one path (Node's errors carry `code` and `path`). */
function fileSystemProblem(err: unknown): string | undefined {
  if (!(err instanceof Error) || !("code" in err) || !("path" in err)) return undefined;
  const { code, path } = err;
  if (typeof code !== "string" || typeof path !== "string") return undefined;
  return FILE_SYSTEM_FIXES[code]?.(path);
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/** `debug` (CIML_DEBUG=1) adds the stack. */
export function describeError(err: unknown, debug: boolean): ErrorReport {
  const stack = debug && err instanceof Error && err.stack ? { stack: err.stack } : {};
  if (err instanceof CimlError) return { message: oneLine(err.message), exitCode: err.exitCode, ...stack };
  const fs = fileSystemProblem(err);
  if (fs) return { message: fs, exitCode: 1, ...stack };
  const text = err instanceof Error ? err.message : String(err);
  return { message: `${oneLine(text)} (unexpected; rerun with CIML_DEBUG=1 for the stack)`, exitCode: 1, ...stack };
}
