// The real files in ../shared/data (read, never copied into the repo). CI clones the repo beside shared/;
// a developer's extra worktrees sit elsewhere, so fall back to the workplace's copy.
import { existsSync } from "node:fs";
import { join } from "node:path";

const candidates = [join(import.meta.dir, "../../shared/data"), "/work/shared/data"];
const root = candidates.find((p) => existsSync(p));

export function sharedData(...parts: string[]): string {
  if (!root) throw new Error(`shared/data not found (looked in ${candidates.join(", ")})`);
  return join(root, ...parts);
}
