// The import-boundary check passes on the tree as it is and fails on each kind of wrong import.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { checkImports } from "../scripts/check-imports.ts";

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A throwaway tree with the given files under src/. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "ciml-imports-"));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, "src", path)), { recursive: true });
    writeFileSync(join(root, "src", path), text);
  }
  return root;
}

const LAYERS = {
  "main.ts": 'import { run } from "./cli/run.ts";\n',
  "cli/run.ts": 'import { view } from "../tui/view.ts";\nimport { step } from "../pipeline/step.ts";\nexport const run = 1;\n',
  "tui/view.ts": 'import type { PipelineEvent } from "../pipeline/events.ts";\nexport const view = 1;\n',
  "pipeline/events.ts": "export type PipelineEvent = { type: string };\n",
  "pipeline/step.ts": 'import { read } from "../io/file.ts";\nexport const step = 1;\n',
  "io/file.ts": 'import { readFileSync } from "node:fs";\nexport const read = readFileSync;\n',
};

describe("import boundaries", () => {
  test("the repository's own src/ keeps them", () => {
    expect(checkImports(join(import.meta.dir, ".."))).toEqual([]);
    // Loading the TypeScript parser can outlast bun's 5 s default on a busy machine.
  }, 60_000);

  test("a tree that follows the layers passes", () => {
    expect(checkImports(tree(LAYERS))).toEqual([]);
  });

  const wrong: [string, string, string, RegExp][] = [
    ["pipeline imports tui", "pipeline/bad.ts", 'import { view } from "../tui/view.ts";\n', /pipeline\/ must not import tui\//],
    [
      "pipeline imports cli (dynamically)",
      "pipeline/dataset/bad.ts",
      'await import("../../cli/run.ts");\n',
      /pipeline\/ must not import cli\//,
    ],
    ["io imports pipeline", "io/bad.ts", 'export { step } from "../pipeline/step.ts";\n', /io\/ must not import pipeline\//],
    ["io imports tui", "io/bad.ts", 'import type { x } from "../tui/view.ts";\n', /io\/ must not import tui\//],
    ["tui imports io", "tui/bad.ts", 'import { read } from "../io/file.ts";\n', /tui\/ must not import io\//],
    ["tui imports a pipeline value", "tui/bad.ts", 'import { step } from "../pipeline/step.ts";\n', /only the event types/],
    ["tui imports events.ts as a value", "tui/bad.ts", 'import { PipelineEvent } from "../pipeline/events.ts";\n', /only the event types/],
  ];
  for (const [name, path, text, rule] of wrong) {
    test(`fails when ${name}`, () => {
      const violations = checkImports(tree({ ...LAYERS, [path]: text }));
      expect(violations.length).toBe(1);
      expect(violations[0]!.file).toBe(join("src", path));
      expect(violations[0]!.line).toBe(1);
      expect(violations[0]!.rule).toMatch(rule);
    });
  }

  test("the script exits 1 and names the file and line", () => {
    const root = tree({ ...LAYERS, "io/bad.ts": '\nimport { step } from "../pipeline/step.ts";\n' });
    const r = Bun.spawnSync([process.execPath, join(import.meta.dir, "../scripts/check-imports.ts"), root]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString().trim()).toBe("src/io/bad.ts:2: imports ../pipeline/step.ts: io/ must not import pipeline/");
  }, 60_000);
});
