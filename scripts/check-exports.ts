// Every export of src/ must be used by another file (src, tests, bench or scripts); one used only in its
// own file should not be exported, so that a module's exports say exactly what it offers the others.
// One exception: a command step (a file directly in src/pipeline/) keeps its `…Options` and `…Result`
// types exported even when unused, because they are its contract with whatever calls it; and
// src/pipeline/events.ts exports the whole event vocabulary that the faces read.
// Run: `bun scripts/check-exports.ts` — prints each unused export as file:line and exits 1 if any.
import { join, relative } from "node:path";
import ts from "typescript";

export interface UnusedExport {
  file: string;
  line: number;
  name: string;
}

function program(root: string): ts.Program {
  const configPath = join(root, "tsconfig.json");
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  return ts.createProgram(parsed.fileNames, parsed.options);
}

/** The symbol a use of a name ends at, through imports and re-exports. */
function target(checker: ts.TypeChecker, symbol: ts.Symbol | undefined): ts.Symbol | undefined {
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) return checker.getAliasedSymbol(symbol);
  return symbol;
}

/** The exports of src/ that no other file names, in file order. */
export function unusedExports(root: string): UnusedExport[] {
  const prog = program(root);
  const checker = prog.getTypeChecker();
  const ours = prog.getSourceFiles().filter((f) => !f.isDeclarationFile && !relative(root, f.fileName).startsWith(".."));
  const usedElsewhere = new Set<ts.Symbol>();
  const markUse = (file: ts.SourceFile, symbol: ts.Symbol | undefined) => {
    const s = target(checker, symbol);
    if (s?.declarations?.some((d) => d.getSourceFile() !== file)) usedElsewhere.add(s);
  };
  for (const file of ours) {
    const visit = (node: ts.Node) => {
      if (ts.isIdentifier(node)) {
        markUse(file, checker.getSymbolAtLocation(node));
        // `const { a } = await import("./x.ts")`: the property names a module's export.
        const parent = node.parent;
        if (ts.isBindingElement(parent) && ts.isObjectBindingPattern(parent.parent) && (parent.propertyName ?? parent.name) === node) {
          const type = checker.getTypeAtLocation(parent.parent);
          markUse(file, type.getProperty(node.text));
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  const unused: UnusedExport[] = [];
  for (const file of ours) {
    const rel = relative(root, file.fileName);
    if (!rel.startsWith("src/") || rel === "src/main.ts" || rel === "src/pipeline/events.ts") continue;
    const moduleSymbol = checker.getSymbolAtLocation(file);
    if (!moduleSymbol) continue;
    const isStep = /^src\/pipeline\/[^/]+\.ts$/.test(rel);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const s = target(checker, exported);
      if (!s || usedElsewhere.has(s)) continue;
      if (isStep && /(Options|Result)$/.test(exported.name) && s.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) continue;
      const declaration = s.declarations?.[0] ?? exported.declarations?.[0];
      const line = declaration ? file.getLineAndCharacterOfPosition(declaration.getStart()).line + 1 : 0;
      unused.push({ file: rel, line, name: exported.name });
    }
  }
  return unused;
}

if (import.meta.main) {
  const root = process.argv[2] ?? join(import.meta.dir, "..");
  const unused = unusedExports(root);
  for (const u of unused) console.error(`${u.file}:${u.line}: ${u.name} is exported but no other file uses it; drop the export`);
  if (unused.length > 0) process.exit(1);
  console.log("exports: all used");
}
