// The output modes every command promises, through `bun src/main.ts` as a user runs it: `--json` is one
// JSON object per line on stdout (nothing else there) with the command's kinds of events and a closing
// result; `--quiet` is the command's own output (predictions, what it wrote, its summary), warnings and
// errors, and no progress; `--help` exits 0 and lists every option. The README walk-through runs once per
// face, each in a workspace of its own (mqtt-trainer's faces are in cli-mqtt-promises.test.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMMANDS, FACE_OPTIONS, HELP_OPTIONS } from "../src/cli/command-table.ts";

const MAIN = join(import.meta.dir, "../src/main.ts");
const work = mkdtempSync(join(tmpdir(), "ciml-cli-faces-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function env() {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CIML_")));
  return { ...clean, CI: "true" };
}

function ciml(cwd: string, args: string[]) {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args], { cwd, env: env() });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

const uncached = new Map<string, string>();

/**
 * A build of the simulated history whose run cache-data left out (--limit), so prediction must fetch it;
 * the same one for every later look in this workspace (db-predict caches it).
 */
function uncachedBuild(cwd: string): string {
  const known = uncached.get(cwd);
  if (known) return known;
  const cached = new Set(readdirSync(join(cwd, "data", ".raw")).map((f) => f.split(".")[0]));
  const db = new Database(join(cwd, "ci.db"), { readonly: true });
  const rows = db
    .query("SELECT r.uuid AS run, m.value AS build FROM runs r JOIN run_metadata m ON m.run_id = r.id WHERE m.key = 'build_uuid'")
    .all() as { run: string; build: string }[];
  db.close();
  const row = rows.find((r) => !cached.has(r.run));
  if (!row) throw new Error("every run is cached; the walk-through needs one that is not");
  uncached.set(cwd, row.build);
  return row.build;
}

/**
 * The walk-through, in order; each command's flags without the face. `kinds` are the event types its
 * --json output must hold (every one of them, and nothing outside the event vocabulary).
 */
const WALK: { command: string; args: (cwd: string) => string[]; kinds: string[] }[] = [
  {
    command: "simulate",
    args: () => ["--runs", "50", "--missing-rate", "0", "--db-uri", "sqlite:///ci.db", "--log-root", "./logs", "--interval", "60"],
    kinds: ["stage", "progress", "result"],
  },
  { command: "cache-data", args: () => ["--db-uri", "sqlite:///ci.db", "--limit", "36"], kinds: ["stage", "progress", "info", "result"] },
  {
    command: "build-dataset",
    args: () => ["--dataset", "ds", "--sample-interval", "1min", "--features-regex", "^(usr|used|1m)$"],
    kinds: ["stage", "info", "histogram", "result"],
  },
  { command: "setup-experiment", args: () => ["--experiment", "dnn", "--hidden-layers", "8", "--epochs", "3"], kinds: ["info", "result"] },
  { command: "train-model", args: () => ["--dataset", "ds", "--experiment", "dnn"], kinds: ["stage", "info", "epoch", "result"] },
  {
    command: "plot-data",
    args: () => ["--dataset-experiment-label", "ds", "dnn", "DNN", "-k", "accuracy", "--output", "acc.svg"],
    kinds: ["result"],
  },
  {
    command: "db-predict",
    args: (cwd) => [uncachedBuild(cwd), "--dataset", "ds", "--experiment", "dnn", "--db-uri", "sqlite:///ci.db"],
    kinds: ["stage", "info", "prediction", "result"],
  },
  {
    command: "db-batch-predict",
    args: () => ["--dataset", "ds", "--experiment", "dnn", "--db-uri", "sqlite:///ci.db"],
    kinds: ["stage", "info", "prediction", "result"],
  },
];

const EVENT_KINDS = ["stage", "progress", "warning", "info", "histogram", "epoch", "prediction", "result"];

describe("--json through the README walk-through", () => {
  const cwd = mkdtempSync(join(work, "json-"));

  test.each(WALK.map((w) => [w.command, w] as const))(
    "%s: every stdout line is one JSON object; its kinds of events; a result last; stderr empty",
    (command, w) => {
      const r = ciml(cwd, [command, "--json", ...w.args(cwd)]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const lines = r.out.split("\n");
      expect(lines.pop()).toBe("");
      const events = lines.map((l) => JSON.parse(l) as { type: string; time: string; stage?: string });
      for (const e of events) {
        expect(EVENT_KINDS).toContain(e.type);
        expect(Number.isNaN(Date.parse(e.time))).toBe(false);
      }
      expect([...new Set(events.map((e) => e.type))].sort()).toEqual(expect.arrayContaining(w.kinds));
      expect(events.filter((e) => e.type === "result")).toHaveLength(1);
      expect(events.at(-1)).toMatchObject({ type: "result", stage: command });
    },
    60_000,
  );

  test("an error is one JSON object too, with its exit code", () => {
    const r = ciml(cwd, ["build-dataset", "--json", "--dataset", "ds"]);
    expect(r.code).toBe(1);
    expect(r.err).toBe("");
    const lines = r.out.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: "error", exitCode: 1 });
  });
});

describe("--quiet through the README walk-through", () => {
  const cwd = mkdtempSync(join(work, "quiet-"));
  /** What the same command narrates without --quiet: none of it may show. */
  const narration = new Map<string, string[]>();

  beforeAll(() => {
    // The narration of each command, from a --json run in a twin workspace.
    const twin = mkdtempSync(join(work, "twin-"));
    for (const w of WALK) {
      const r = ciml(twin, [w.command, "--json", ...w.args(twin)]);
      const events = r.out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; message?: string; stage?: string; state?: string; detail?: string });
      narration.set(w.command, [
        ...events.filter((e) => e.type === "info").map((e) => e.message!),
        ...events.filter((e) => e.type === "stage").map((e) => `== ${e.stage}`),
      ]);
    }
  }, 180_000);

  test.each(WALK.map((w) => [w.command, w] as const))(
    "%s: its own output and summary, no progress and no narration",
    (command, w) => {
      const r = ciml(cwd, [command, "--quiet", ...w.args(cwd)]);
      expect(r.code).toBe(0);
      for (const line of r.err.split("\n").filter(Boolean)) expect(line).toStartWith("warning: ");
      const lines = r.out.trimEnd().split("\n");
      expect(lines.at(-1)).toStartWith(`${command} done: `);
      for (const line of lines) {
        expect(line).not.toStartWith("== ");
        // A progress line reads "<stage> <bar or count> …/s"; none may show.
        expect(line).not.toMatch(/\d+(\.\d+)? \S+\/s\b/);
      }
      const said = narration.get(command)!;
      // Commands that narrate (all but plot-data) must have been heard in the twin for this to mean anything.
      if (w.kinds.includes("stage")) expect(said.length).toBeGreaterThan(0);
      for (const n of said) expect(lines.filter((l) => l === n || l.startsWith(`${n}:`))).toEqual([]);
    },
    60_000,
  );

  test("db-predict's predictions still show: one line per run", () => {
    const r = ciml(cwd, ["db-predict", "--quiet", ...WALK.find((w) => w.command === "db-predict")!.args(cwd)]);
    expect(r.out).toMatch(/^[0-9a-f-]{36}: predicted \d \(p=0\.\d{3}\) actual \d build [0-9a-f]{32}$/m);
  });

  test("an error still shows: one line on stderr, nothing on stdout", () => {
    const r = ciml(cwd, ["build-dataset", "--quiet", "--dataset", "ds"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err.split("\n")).toEqual([
      expect.stringMatching(/^error: Dataset ds already configured in .+; use --force to overwrite it$/),
      "",
    ]);
  });
});

describe("the commands outside the walk-through", () => {
  const cwd = mkdtempSync(join(work, "other-"));
  /** A progress line reads "<stage> <bar or count> …/s"; none may show with --quiet. */
  const progressLine = /\d+(\.\d+)? \S+\/s\b/;

  test("doctor --json: its narration and a result, all JSON; --quiet: the summary alone", () => {
    const json = ciml(cwd, ["doctor", "--json"]);
    expect(json.code).toBe(0);
    expect(json.err).toBe("");
    const events = json.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string });
    expect(events.map((e) => e.type)).toContain("info");
    expect(events.at(-1)).toMatchObject({ type: "result", stage: "doctor" });
    const quiet = ciml(cwd, ["doctor", "--quiet"]);
    expect(quiet.code).toBe(0);
    expect(quiet.err).toBe("");
    expect(quiet.out.trimEnd().split("\n")).toEqual(["ciml runtime OK", expect.stringMatching(/^doctor done: backend=wasm /)]);
  }, 60_000);

  test("quickstart --quiet: what each step wrote and its summary, no stage or progress line", () => {
    const r = ciml(cwd, ["quickstart", "--quiet", "--runs", "50"]);
    expect(r.code).toBe(0);
    for (const line of r.err.split("\n").filter(Boolean)) expect(line).toStartWith("warning: ");
    const lines = r.out.trimEnd().split("\n");
    expect(lines.at(-1)).toMatch(/^quickstart done: dir=.+ runs=50 /);
    for (const step of ["simulate", "cache-data", "build-dataset", "train-model", "db-batch-predict"])
      expect(lines.some((l) => new RegExp(`^\\d/5 .+ · ${step} done: `).test(l))).toBe(true);
    for (const line of lines) {
      expect(line).not.toStartWith("== ");
      expect(line).not.toMatch(progressLine);
    }
  }, 120_000);
});

describe("--help of every command", () => {
  test.each(COMMANDS.map((c) => [c.name, c] as const))(
    "%s --help exits 0 and lists each of its options and the common ones",
    (name, c) => {
      const r = ciml(work, [name, "--help"]);
      expect(r.code).toBe(0);
      expect(r.err).toBe("");
      const listed = [...r.out.matchAll(/^ {2}(?:-\w, | {4})(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1]);
      expect(listed).toEqual([...c.options, ...FACE_OPTIONS, ...HELP_OPTIONS].map((o) => o.name));
    },
    30_000,
  );
});
