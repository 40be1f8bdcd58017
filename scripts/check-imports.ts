// The import boundaries between the layers of src/, checked on every CI run:
//   pipeline/ and io/ never import tui/ or cli/ (the core never knows who is watching);
//   io/ never imports pipeline/ (outside access knows nothing of the steps);
//   tui/ never imports io/ or cli/, and from pipeline/ only the event types (`import type` of events.ts);
//   nothing imports main.ts (the entry).
// Run: `bun scripts/check-imports.ts [root]` — prints each violation as file:line and exits 1 if any.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

export interface Violation {
  file: string;
  line: number;
  target: string;
  rule: string;
}

type Layer = "main" | "cli" | "tui" | "pipeline" | "io" | "other";

function layerOf(srcDir: string, path: string): Layer {
  const rel = relative(srcDir, path);
  if (rel.startsWith("..")) return "other";
  if (rel === "main.ts") return "main";
  const top = rel.split(sep)[0]!;
  return top === "cli" || top === "tui" || top === "pipeline" || top === "io" ? top : "other";
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && /\.tsx?$/.test(d.name) && !d.name.endsWith(".d.ts"))
    .map((d) => join(d.parentPath, d.name));
}

/** Every module a file names: static imports and re-exports (with whether they are type-only) and import(). */
function importsOf(path: string): { specifier: string; typeOnly: boolean; line: number }[] {
  const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true);
  const found: { specifier: string; typeOnly: boolean; line: number }[] = [];
  const add = (node: ts.Node, specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (specifier && ts.isStringLiteral(specifier))
      found.push({ specifier: specifier.text, typeOnly, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node, node.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function ruleBroken(from: Layer, to: Layer, target: string, typeOnly: boolean, srcDir: string): string | null {
  if (to === "main" && from !== "other") return "nothing imports the entry main.ts";
  if ((from === "pipeline" || from === "io") && (to === "tui" || to === "cli")) return `${from}/ must not import ${to}/`;
  if (from === "io" && to === "pipeline") return "io/ must not import pipeline/";
  if (from === "tui" && (to === "io" || to === "cli")) return `tui/ must not import ${to}/`;
  if (from === "tui" && to === "pipeline" && !(typeOnly && target === join(srcDir, "pipeline", "events.ts")))
    return "tui/ may import from pipeline/ only the event types (import type … from pipeline/events.ts)";
  return null;
}

/** The violations in `<root>/src`, in file order. */
export function checkImports(root: string): Violation[] {
  const srcDir = resolve(root, "src");
  const violations: Violation[] = [];
  for (const file of sourceFiles(srcDir).sort()) {
    const from = layerOf(srcDir, file);
    for (const { specifier, typeOnly, line } of importsOf(file)) {
      if (!specifier.startsWith(".")) continue;
      const target = resolve(dirname(file), specifier);
      const rule = ruleBroken(from, layerOf(srcDir, target), target, typeOnly, srcDir);
      if (rule) violations.push({ file: relative(root, file), line, target: specifier, rule });
    }
  }
  return violations;
}

if (import.meta.main) {
  const root = process.argv[2] ?? join(import.meta.dir, "..");
  const violations = checkImports(root);
  for (const v of violations) console.error(`${v.file}:${v.line}: imports ${v.target}: ${v.rule}`);
  if (violations.length > 0) process.exit(1);
  console.log("import boundaries: ok");
}
