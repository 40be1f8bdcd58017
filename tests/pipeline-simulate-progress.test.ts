// simulate works for tens of milliseconds per run: it must show progress from its first runs (not
// after its first batch of 100 database rows) and stop between runs when Ctrl-C aborts it.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AbortedError } from "../src/pipeline/errors.ts";
import type { ProgressEvent } from "../src/pipeline/events.ts";
import { simulate } from "../src/pipeline/simulate.ts";

const dir = mkdtempSync(join(tmpdir(), "ciml-simulate-progress-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("progress arrives before the first batch is written, and an abort stops the runs", async () => {
  const controller = new AbortController();
  const progress: ProgressEvent[] = [];
  const run = simulate(
    {
      runs: 400,
      failureRate: 0.2,
      missingRate: 0,
      buildNames: ["tempest-full"],
      seed: 1,
      dbUri: `sqlite:///${join(dir, "ci.db")}`,
      logRoot: join(dir, "logs"),
      intervalSeconds: 1,
    },
    {
      emit: (e) => {
        if (e.type !== "progress") return;
        progress.push(e);
        if (progress.length === 2) controller.abort();
      },
      signal: controller.signal,
    },
  );
  expect(await run.catch((err) => err)).toBeInstanceOf(AbortedError);
  expect(progress.length).toBe(2);
  // The first report comes within the first batch of 100 runs, and the abort lands before the next one.
  expect(progress[0]!.done).toBeLessThan(100);
  expect(progress[1]!.done).toBeLessThan(100);
});
