// Ctrl-C as a user presses it: a real SIGINT to the CLI process in the middle of its longest work.
// Each command must stop promptly with exit 130 and leave every file it had either whole or untouched.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { syntheticDstat, uuidFor, writeCache } from "./dataset-cache.ts";
import { interruptWhen } from "./helpers/interrupt.ts";
import { writePlantedDataset } from "./helpers/planted-dataset.ts";
import { modelFiles } from "./helpers/model-files.ts";
import { gzip } from "../src/io/gzip-json.ts";
import { Workspace } from "../src/io/workspace.ts";
import { readDatasetConfig } from "../src/pipeline/dataset/dataset-config.ts";

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

  test("build-dataset --force stops with 130; the old dataset stays whole and trainable, and a re-run replaces it", async () => {
    // Enough runs that the dev and test sets are still being filled when the signal lands; a few traces,
    // gzipped once, stand for them all (making 600 distinct ones would take most of the test's time).
    const traces = Array.from({ length: 6 }, (_, k) => gzip(new TextEncoder().encode(syntheticDstat(600, k + 1))));
    await writeCache(
      join(root, "rebuild"),
      "tempest-full",
      Array.from({ length: 600 }, (_, i) => ({
        uuid: uuidFor(i),
        trace: traces[i % traces.length]!,
        status: (i % 3 === 0 ? 1 : 0) as 0 | 1,
      })),
    );
    const data = ["--data-path", "rebuild", "--dataset", "ds", "--sample-interval", "1min"];
    expect(cimlSync("build-dataset", ...data, "--features-regex", "usr", "--no-tui").code).toBe(0);
    const train = ["train-model", "--data-path", "rebuild", "--dataset", "ds", "--experiment", "tiny", "--no-tui"];
    expect(cimlSync("setup-experiment", "--data-path", "rebuild", "--experiment", "tiny", "--epochs", "1").code).toBe(0);
    expect(cimlSync(...train).code).toBe(0);
    const datasetDir = join(root, "rebuild", "ds");
    const datasetFiles = () =>
      readdirSync(datasetDir)
        .filter((f) => f.endsWith(".npz") || f.endsWith(".json.gz"))
        .sort()
        .map((f) => [f, readFileSync(join(datasetDir, f))]);
    const before = datasetFiles();
    const model = modelFiles(join(datasetDir, "tiny"));

    // The new training set is already written (beside the old one) when the dev set starts.
    const r = await interruptWhen(
      [process.execPath, MAIN, "build-dataset", "--json", "--force", ...data, "--features-regex", "1m"],
      root,
      (e) => e.type === "progress" && e.stage === "dev",
    );
    console.log(`build-dataset ended ${r.ms.toFixed(0)} ms after SIGINT`);
    expect(r.code).toBe(130);
    expect(r.err).toBe("");
    expect(r.events.some((e) => e.type === "result")).toBe(false);
    expect(datasetFiles()).toEqual(before);
    expect(modelFiles(join(datasetDir, "tiny"))).toEqual(model);
    expect(existsSync(join(root, "rebuild", ".staging"))).toBe(false);
    expect(tempFiles(join(root, "rebuild"))).toEqual([]);
    expect(cimlSync(...train).code).toBe(0);

    expect(cimlSync("build-dataset", "--force", ...data, "--features-regex", "1m", "--no-tui").code).toBe(0);
    expect((await readDatasetConfig(new Workspace(join(root, "rebuild")), "ds")).columns).toEqual(["1m"]);
  }, 120_000);
});
