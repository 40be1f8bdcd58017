// The unused-export check: an export only its own file uses is reported; one another file imports
// (statically, by a re-export, or by destructuring a dynamic import) is not.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unusedExports } from "../scripts/check-exports.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-exports-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("reports the exports no other file uses, and only those", () => {
  const files: Record<string, string> = {
    "tsconfig.json": JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "bundler",
        allowImportingTsExtensions: true,
        noEmit: true,
        types: [],
      },
      include: ["src", "tests"],
    }),
    "src/io/things.ts":
      "export const used = 1;\nexport const reexported = 2;\nexport const lazy = 3;\nexport const onlyHere = 4;\nexport interface Shape { a: number }\nconst s: Shape = { a: onlyHere };\nvoid s;\n",
    "src/pipeline/step.ts":
      'import { used } from "../io/things.ts";\nexport { reexported } from "../io/things.ts";\nexport interface StepOptions { x: number }\nexport const helper = used;\n',
    "src/pipeline/lazy.ts": 'const { lazy } = await import("../io/things.ts");\nvoid lazy;\n',
    "tests/step.test.ts": 'import { helper, reexported } from "../src/pipeline/step.ts";\nvoid helper;\nvoid reexported;\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const found = unusedExports(root).map((u) => `${u.file}:${u.line}:${u.name}`);
  // StepOptions is a step's contract (a file directly in src/pipeline/ exporting …Options), so it may stay.
  expect(found.sort()).toEqual(["src/io/things.ts:4:onlyHere", "src/io/things.ts:5:Shape"]);
}, 60_000);
