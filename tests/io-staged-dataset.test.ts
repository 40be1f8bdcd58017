// A dataset rebuilt with --force replaces the old one in a few renames at the very end. A process killed
// at any of them (strace fault injection, a real SIGKILL) must never leave a configuration beside
// archives of another build: the dataset is the old one whole, the new one whole, or not there at all
// (no configuration: it does not exist, and the next build-dataset makes it again without --force).
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runKilledAt } from "./helpers/kill-at-syscall.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-staged-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const child = join(import.meta.dir, "helpers", "commit-child.ts");

const OLD_FILES = ["model_config.json.gz", "labels.npz", "runs.json.gz", "excluded.json.gz"].concat(
  ...["training", "dev", "test"].map((set) => [`${set}.npz`, `${set}.json.gz`]),
);
/** The new build made no dev archive: the old one must go with the rest of the old dataset. */
const NEW_FILES = OLD_FILES.filter((f) => f !== "dev.npz");
// Each file is one rename or one unlink; the kill points run past them all, so the last runs complete.
const KILL_POINTS = OLD_FILES.length + 6;

function contents(dir: string): Record<string, string> {
  return Object.fromEntries(OLD_FILES.filter((f) => existsSync(join(dir, f))).map((f) => [f, readFileSync(join(dir, f), "utf8")]));
}

test("a commit killed at any rename or unlink leaves the old dataset, the new one, or none, never a mix", () => {
  const dir = join(root, "ds");
  const outcomes = new Set<string>();
  for (let when = 1; when <= KILL_POINTS; when++) {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(join(dir, "dnn"), { recursive: true });
    for (const f of OLD_FILES) writeFileSync(join(dir, f), "old");
    writeFileSync(join(dir, "dnn", "model.json"), "model");
    const finished = runKilledAt(["rename", "renameat", "renameat2", "unlink", "unlinkat", "rmdir"], when, child, [root, ...NEW_FILES]);
    const after = contents(dir);
    const config = after["model_config.json.gz"];
    if (finished) {
      outcomes.add("new");
      expect(after).toEqual(Object.fromEntries(NEW_FILES.map((f) => [f, "new"])));
      expect(existsSync(join(root, ".staging"))).toBe(false);
    } else if (config === undefined) {
      outcomes.add("none");
    } else {
      // Killed with a configuration in place: every file beside it is of the same build as it.
      outcomes.add(config);
      expect(Object.values(after).every((v) => v === config)).toBe(true);
      if (config === "old") expect(after).toEqual(Object.fromEntries(OLD_FILES.map((f) => [f, "old"])));
    }
    expect(readFileSync(join(dir, "dnn", "model.json"), "utf8")).toBe("model");
  }
  // The kill points reached every outcome: before the swap, inside it, and after it.
  expect([...outcomes].sort()).toEqual(["new", "none", "old"]);
}, 60_000);
