// The files the tests read, kept in tests/fixtures/ with their provenance and licence in
// tests/fixtures/SOURCES.md, so a clone anywhere runs the whole suite.
import { join } from "node:path";

export function fixturePath(...parts: string[]): string {
  return join(import.meta.dir, "fixtures", ...parts);
}
