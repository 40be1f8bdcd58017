// A command's own result is output, not progress: db-batch-predict prints every prediction in each
// face (live view, plain lines, --quiet), not the last few, against a real database, log server and
// a model trained in the test.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LogServer, sqliteHistory, type HistoryDb } from "./helpers/ci-history.ts";
import { runCiml } from "./helpers/run-ciml.ts";
import { TmuxTerminal, tmuxAvailable } from "./helpers/tmux-terminal.ts";
import { BUILD_NAME, buildUuidFor, DATASET, EXPERIMENT, syntheticRun, trainedWorkspace } from "./helpers/trained-workspace.ts";

const CACHED = 90;
const RUNS = 140;
const PREDICTED = Array.from({ length: RUNS - CACHED }, (_, i) => syntheticRun(CACHED + i).uuid);

let dataPath: string;
let db: HistoryDb;
const logs = new LogServer();

beforeAll(async () => {
  dataPath = mkdtempSync(join(tmpdir(), "ciml-tui-predictions-"));
  await trainedWorkspace(dataPath, CACHED);
  const runs = Array.from({ length: RUNS }, (_, i) => syntheticRun(i));
  for (const r of runs) logs.addTrace(r.uuid, r.trace);
  db = await sqliteHistory();
  await db.add(
    runs.map((r, i) => ({ uuid: r.uuid, status: r.status, metadata: { build_name: BUILD_NAME, build_uuid: buildUuidFor(i) } })),
    logs.root,
  );
}, 180_000);

afterAll(async () => {
  await db?.drop();
  logs.stop();
  rmSync(dataPath, { recursive: true, force: true });
});

const args = () => ["db-batch-predict", "--data-path", dataPath, "--db-uri", db.uri, "--dataset", DATASET, "--experiment", EXPERIMENT];

/** Asynchronous, because the log server it talks to runs in this process. */
const ciml = (...extra: string[]) => runCiml([...args(), ...extra], process.cwd());

const predictionOf = (uuid: string) => new RegExp(`^${uuid}: predicted [01] \\(p=0\\.\\d{3}\\) actual [01]`);

describe("db-batch-predict prints all its predictions", () => {
  test("plain lines (--no-tui)", async () => {
    const r = await ciml("--no-tui");
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    for (const uuid of PREDICTED) expect(lines.filter((l) => predictionOf(uuid).test(l))).toHaveLength(1);
    expect(lines).toContain(`Prediction of ${PREDICTED.length} inputs completed.`);
  }, 120_000);

  test("--quiet: the predictions and the result, no progress", async () => {
    const r = await ciml("--quiet");
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    for (const uuid of PREDICTED) expect(lines.filter((l) => predictionOf(uuid).test(l))).toHaveLength(1);
    expect(lines).toContain(`Prediction of ${PREDICTED.length} inputs completed.`);
    expect(lines.filter((l) => l.startsWith("== ") || /^predict: \d+\//.test(l) || l.startsWith("All runs:"))).toEqual([]);
  }, 120_000);

  test.skipIf(!tmuxAvailable())(
    "the live view, in a real 80×24 terminal: every prediction stays in the scrollback",
    async () => {
      const term = new TmuxTerminal(80, 24);
      try {
        term.type(`ciml ${args().join(" ")}`);
        await term.until((c) => c.lines.some((l) => /^EXIT=\d+$/.test(l)), 120_000);
        const scrollback = term.scrollback();
        expect(scrollback).toContain("EXIT=0");
        for (const uuid of PREDICTED) expect(scrollback.filter((l) => predictionOf(uuid).test(l))).toHaveLength(1);
        expect(scrollback).toContain(`Prediction of ${PREDICTED.length} inputs completed.`);
        expect(term.raw()).not.toContain("\u001b[3J");
      } finally {
        term.close();
      }
    },
    180_000,
  );
});
