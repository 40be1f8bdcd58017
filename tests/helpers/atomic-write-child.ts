// Run as a child process by the atomic-write tests: writes 1,000 bytes to the file named in argv over its
// old content, the way the workspace store does (`async`) or a plot is written (`sync`), and prints
// what a user would see of it: `ok`, or the error's name and message as a stack's first line shows them.
// Then the names in the folder, so a test can see whether a temp file was left behind.
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic, writeFileAtomicAsync } from "../../src/io/atomic-file.ts";

const [mode, target] = process.argv.slice(2) as ["async" | "sync", string];
try {
  if (mode === "async") await writeFileAtomicAsync(target, "x".repeat(1000));
  else writeFileAtomic(target, "x".repeat(1000));
  console.log("ok");
} catch (err) {
  console.log(`${(err as Error).name}: ${(err as Error).message}`);
}
console.log(readdirSync(dirname(target)).sort().join(" "));
