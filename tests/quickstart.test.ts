// The first thing a new user runs: quickstart, headless, in an empty directory; every artefact checked.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJsonGz } from "../src/io/gzip-json.ts";
import { interruptWhen } from "./helpers/interrupt.ts";
import { disk } from "./helpers/disk.ts";
import { MAIN } from "./helpers/run-ciml.ts";

const work = mkdtempSync(join(tmpdir(), "ciml-quickstart-"));
const dir = join(work, "ciml-quickstart");
const dataset = join(dir, "data", "usr_1m-1min-status");
let run: { code: number | null; lines: Record<string, unknown>[]; err: string };

beforeAll(() => {
  const p = Bun.spawnSync([process.execPath, MAIN, "quickstart", "--json", "--runs", "200"], {
    cwd: work,
    env: { ...process.env, CI: "true" },
  });
  run = {
    code: p.exitCode,
    lines: p.stdout
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l)),
    err: p.stderr.toString(),
  };
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("ciml quickstart --json in an empty directory", () => {
  test("exits 0 and ends with a result that points at the next commands", () => {
    expect(run.code).toBe(0);
    const result = run.lines.at(-1) as { type: string; stage: string; lines: string[]; next: string[] };
    expect(result).toMatchObject({ type: "result", stage: "quickstart" });
    expect(result.next).toContain(`tensorboard --logdir ${dataset}`);
    // A binary user has no docs/ folder: the essentials are printed instead.
    expect([...result.lines, ...result.next].join("\n")).not.toContain("docs/");
    expect(result.lines).toContain("each prediction as JSON on ciml/predictions/<build-name>; it runs until Ctrl-C.");
  });

  test("wrote a subunit2sql SQLite database with every run", () => {
    const db = new Database(join(dir, "ci.db"), { readonly: true });
    const row = db
      .query(
        "SELECT COUNT(*) AS n FROM runs JOIN run_metadata ON runs.id = run_metadata.run_id WHERE run_metadata.key = 'build_name' AND run_metadata.value = 'tempest-full'",
      )
      .get() as { n: number };
    db.close();
    expect(row.n).toBe(200);
  });

  test("cached the traces and metadata of the runs that have them", async () => {
    const list = (await readJsonGz(disk, join(dir, "data", ".raw", "tempest-full.json.gz"))) as string[];
    expect(list.length).toBeGreaterThan(180);
    for (const run of list) {
      expect(existsSync(join(dir, "data", ".raw", `${run}.csv.gz`))).toBe(true);
      expect(existsSync(join(dir, "data", ".metadata", `${run}.json.gz`))).toBe(true);
    }
  });

  test("built npz archives numpy reads", () => {
    const py = Bun.spawnSync([
      "/usr/bin/python3",
      "-c",
      "import numpy as np, sys\nfor s in ('training','dev','test'):\n  d = np.load(f'{sys.argv[1]}/{s}.npz')\n  print(s, d['examples'].shape[0], d['examples'].shape[1], d['examples'].dtype, d['classes'].dtype, d['example_ids'].dtype)",
      dataset,
    ]);
    expect(py.exitCode).toBe(0);
    const rows = py.stdout
      .toString()
      .trim()
      .split("\n")
      .map((l) => l.split(" "));
    expect(rows.map((r) => r[0])).toEqual(["training", "dev", "test"]);
    for (const r of rows) {
      expect(Number(r[1])).toBeGreaterThan(0);
      expect(r.slice(2)).toEqual(["184", "float32", "int64", "<U36"]);
    }
  });

  test("drew sizes_by_result as a PNG and an SVG", () => {
    const png = readFileSync(join(dir, "plots", "sizes_by_result.png"));
    expect([...png.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    expect(png.length).toBeGreaterThan(5000);
    expect(readFileSync(join(dir, "plots", "sizes_by_result.svg"), "utf8")).toStartWith("<svg");
  });

  test("trained both models, each above the majority baseline on the test set", async () => {
    for (const experiment of ["dnn-3x10", "svm"]) {
      expect(existsSync(join(dataset, experiment, "model.json"))).toBe(true);
      expect(readdirSync(join(dataset, experiment)).filter((f) => /^weights-[0-9a-f]{16}\.bin$/.test(f))).toHaveLength(1);
      expect(readdirSync(join(dataset, experiment)).some((f) => f.startsWith("events.out.tfevents."))).toBe(true);
      const evaluation = (await readJsonGz(disk, join(dataset, experiment, "eval_usr_1m-1min-status.json.gz"))) as {
        accuracy: number;
        accuracy_baseline: number;
      };
      expect(evaluation.accuracy).toBeGreaterThan(evaluation.accuracy_baseline);
    }
  });

  test("predicted the held-out runs from the database", () => {
    const predictions = run.lines.filter((l) => l.type === "prediction");
    const batches = run.lines.filter((l) => l.type === "result" && String(l.stage).endsWith("db-batch-predict")) as {
      summary: { predicted: number; accuracy: number };
    }[];
    expect(batches).toHaveLength(2);
    for (const b of batches) {
      expect(b.summary.predicted).toBeGreaterThan(30);
      expect(b.summary.accuracy).toBeGreaterThan(0.5);
    }
    expect(predictions.length).toBe(batches[0]!.summary.predicted + batches[1]!.summary.predicted);
  });

  test("a second run refuses to overwrite without --force", () => {
    const p = Bun.spawnSync([process.execPath, MAIN, "quickstart"], { cwd: work, env: { ...process.env, CI: "true" } });
    expect(p.exitCode).toBe(1);
    expect(p.stderr.toString().trim()).toBe(
      `error: ${dir} holds an earlier quickstart; add --force to start it afresh, or choose another --dir`,
    );
  });
});

describe("ciml quickstart interrupted by Ctrl-C", () => {
  test("exits 130 mid-training, and running it again resumes and finishes", async () => {
    const resumeDir = join(work, "interrupted");
    const args = [process.execPath, MAIN, "quickstart", "--json", "--runs", "60", "--dir", resumeDir];
    const r = await interruptWhen(args, work, (e) => e.type === "epoch");
    expect(r.code).toBe(130);
    expect(r.events.at(-1)).toMatchObject({ type: "error", exitCode: 130 });
    expect(String(r.events.at(-1)!.message)).toContain("run the command again to resume");

    const again = Bun.spawnSync(args, { cwd: work, env: { ...process.env, CI: "true" } });
    expect(again.stderr.toString()).toBe("");
    expect(again.exitCode).toBe(0);
    const events = again.stdout
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; message?: string; stage?: string });
    expect(events.some((e) => e.type === "info" && e.message === `resuming the quickstart interrupted in ${resumeDir}`)).toBe(true);
    // The history was complete before the interrupt, so it is not simulated again.
    expect(events.some((e) => e.stage?.startsWith("1/5 simulate"))).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: "result", stage: "quickstart" });
  }, 300_000);
});
