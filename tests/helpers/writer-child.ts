// Run as a child process by the atomic-write tests: writes one JSON value with writeJsonGz, so that a
// test can kill it at a chosen system call and then look at what a crash at that point leaves behind.
import { writeJsonGz } from "../../src/io/gzip-json.ts";
import { disk } from "./disk.ts";

const [path, count] = process.argv.slice(2);
await writeJsonGz(disk, path!, { values: Array.from({ length: Number(count) }, (_, i) => i * 1.5) });
