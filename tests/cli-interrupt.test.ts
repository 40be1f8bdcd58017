// Ctrl-C as a user presses it: a real SIGINT to the CLI process in the middle of its longest work.
// Each command must stop promptly with exit 130 and leave every file it had either whole or untouched.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interruptWhen } from "./helpers/interrupt.ts";
import { writePlantedDataset } from "./helpers/planted-dataset.ts";
import { modelFiles } from "./helpers/model-files.ts";

const MAIN = join(import.meta.dir, "../src/main.ts");
const root = mkdtempSync(join(tmpdir(), "ciml-interrupt-"));

beforeAll(async () => {
  await writePlantedDataset(root, "big", { seed: 5, sizes: { training: 3000, dev: 200, test: 200 } });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cimlSync(...args: string[]) {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args], { cwd: root, env: { ...process.env, CI: "true" } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

function tempFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((n) => n.includes(".tmp-"));
}

describe("Ctrl-C", () => {
  test("train-model stops mid-training with 130; the model saved before is untouched", async () => {
    expect(cimlSync("setup-experiment", "--data-path", ".", "--experiment", "long", "--epochs", "2", "--batch-size", "8").code).toBe(0);
    expect(cimlSync("train-model", "--data-path", ".", "--dataset", "big", "--experiment", "long", "--no-tui").code).toBe(0);
    const modelDir = join(root, "big", "long");
    const before = modelFiles(modelDir);
    expect(before).toHaveLength(2);
    const setup = ["setup-experiment", "--data-path", ".", "--experiment", "long", "--force"];
    expect(cimlSync(...setup, "--epochs", "5000", "--steps", "100000000", "--batch-size", "8").code).toBe(0);

    const r = await interruptWhen(
      [process.execPath, MAIN, "train-model", "--json", "--data-path", ".", "--dataset", "big", "--experiment", "long"],
      root,
      (e) => e.type === "epoch",
    );
    console.log(`train-model ended ${r.ms.toFixed(0)} ms after SIGINT`);
    expect(r.code).toBe(130);
    expect(r.err).toBe("");
    expect(modelFiles(modelDir)).toEqual(before);
    expect(tempFiles(modelDir)).toEqual([]);
  }, 120_000);

  test("simulate stops with 130; every run in the database has its log file and no temp file is left", async () => {
    const r = await interruptWhen(
      [
        process.execPath,
        MAIN,
        "simulate",
        "--json",
        "--runs",
        "100000",
        "--db-uri",
        "sqlite:///sim.db",
        "--log-root",
        "sim-logs",
        "--missing-rate",
        "0",
        "--interval",
        "60",
      ],
      root,
      (e) => e.type === "progress",
    );
    console.log(`simulate ended ${r.ms.toFixed(0)} ms after SIGINT`);
    expect(r.code).toBe(130);
    const db = new Database(join(root, "sim.db"), { readonly: true });
    const runs = db.query("SELECT artifacts FROM runs").all() as { artifacts: string }[];
    db.close();
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.length).toBeLessThan(100_000);
    const logFiles = (readdirSync(join(root, "sim-logs"), { recursive: true }) as string[]).filter((n) => n.includes("dstat-csv_log"));
    expect(logFiles.length).toBe(runs.length);
    expect(tempFiles(join(root, "sim-logs"))).toEqual([]);
  }, 120_000);
});
