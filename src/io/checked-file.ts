// Files in the data path come from wherever the workspace came from (another tool, a copy cut short, a
// hand edit), so every field is checked against a schema before anything uses it. A file that fails is
// one line naming the file, the field and the fix: a zero `normalized_length` once made the prediction
// commands loop for ever, and an unreadable file used to surface as a bare "JSON Parse error".
import type { z } from "zod";
import { CimlError } from "./ciml-error.ts";

/** A workspace file that is corrupt or holds a value ciml cannot use. */
export class WorkspaceFileError extends CimlError {
  override name = "WorkspaceFileError";
}

/** `value` as `schema` says, or a WorkspaceFileError naming `path`, the first bad field and `fix`. */
export function checkFile<S extends z.ZodType>(schema: S, value: unknown, path: string, fix: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length > 0 ? `field ${issue.path.map(String).join(".")}` : "content";
  throw new WorkspaceFileError(`${path}: ${field}: ${issue.message.toLowerCase()}; ${fix}`);
}
