// Undoing what a failed command created and left empty, so a typo does not leave ./data/ behind.
import { existsSync, readdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";

/** Removes `root` and the folders under it when they hold no file at all; a file anywhere keeps its folders. */
export function removeEmptyFolders(root: string): void {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeEmptyFolders(join(root, e.name));
  try {
    if (existsSync(root) && readdirSync(root).length === 0) rmdirSync(root);
  } catch {
    // Not ours to insist on: the folder stays.
  }
}
