// Workspace files are checked field by field when read: a bad value is one line naming the file, the field
// and the fix, and never a hang (normalized_length 0 once made train-model loop for ever, memory growing).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzip, readJsonGz, writeJsonGz } from "../src/io/gzip-json.ts";
import { readRunList, readRunMetadata } from "../src/io/raw-cache.ts";
import { Workspace } from "../src/io/workspace.ts";
import { readDatasetConfig } from "../src/pipeline/dataset/dataset-config.ts";
import { loadOrMakeSplit } from "../src/pipeline/dataset/dataset-split.ts";
import { writePlantedDataset } from "./helpers/planted-dataset.ts";
import { disk } from "./helpers/disk.ts";

const MAIN = join(import.meta.dir, "../src/main.ts");
const root = mkdtempSync(join(tmpdir(), "ciml-workspace-files-"));
const ws = new Workspace(root);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const configPath = (dataset: string) => ws.datasetFile(dataset, "model_config.json.gz");
let good: Record<string, unknown>;

beforeAll(async () => {
  await writePlantedDataset(root, "ds", { seed: 3, sizes: { training: 60, dev: 20, test: 20 } });
  good = (await readJsonGz(disk, configPath("ds"))) as Record<string, unknown>;
});

/** A copy of the planted dataset whose model_config.json.gz is `config` (or these raw bytes). */
async function datasetWith(name: string, config: Record<string, unknown> | Uint8Array): Promise<string> {
  await writePlantedDataset(root, name, { seed: 3, sizes: { training: 60, dev: 20, test: 20 } });
  if (config instanceof Uint8Array) writeFileSync(configPath(name), config);
  else await writeJsonGz(disk, configPath(name), config);
  return name;
}

function withoutColumns(changes: Record<string, unknown>): Record<string, unknown> {
  const { columns: _, ...rest } = { ...good, ...changes };
  return rest;
}

describe("model_config.json.gz", () => {
  test("normalized_length 0 or negative without columns: train-model says so in one line instead of looping", async () => {
    for (const length of [0, -3]) {
      const name = await datasetWith(`zero${-length}`, withoutColumns({ normalized_length: length }));
      await writeJsonGz(disk, ws.experimentFile("e"), {
        estimator: "tf.estimator.DNNClassifier",
        params: {},
        hyper_params: { steps: 10, batch_size: 16, epochs: 1, hidden_units: [4], optimizer: "Adam", learning_rate: 0.01 },
      });
      const p = Bun.spawnSync([process.execPath, MAIN, "train-model", "--dataset", name, "--experiment", "e", "--data-path", root], {
        env: { ...process.env, CI: "true" },
        timeout: 60_000,
      });
      expect(p.signalCode ?? null).toBeNull();
      expect(p.exitCode).toBe(1);
      expect(p.stderr.toString().trim().split("\n")).toEqual([
        `error: ${configPath(name)}: field normalized_length: too small: expected number to be >=1; rebuild it with build-dataset --dataset ${name} --force`,
      ]);
    }
  }, 150_000);

  const cases: [string, () => Record<string, unknown>, RegExp][] = [
    [
      "labels that do not fill the columns",
      () => ({ labels: ["usr0", "usr1", "usr2"], num_features: 3 }),
      /field labels: has 3 names, not num_columns × normalized_length = 24/,
    ],
    [
      "a zero range",
      () => ({ normalization_params: { ...(good.normalization_params as object), usr0: [1, 0] } }),
      /field normalization_params\.usr0\.1: range must not be 0/,
    ],
    [
      "a missing range",
      () => ({ normalization_params: { usr0: [1, 2] } }),
      /field normalization_params: has no \[mean, range\] for label usr1/,
    ],
    [
      "an unknown aggregation",
      () => ({ aggregation_functions: ["system"] }),
      /field aggregation_functions\.0: is not an aggregation function/,
    ],
    [
      "a bad sample interval",
      () => ({ sample_interval: "fortnightly" }),
      /field sample_interval: is not a pandas offset alias such as 1min/,
    ],
    [
      "a string where a number belongs",
      () => ({ training_set: "0.6" }),
      /field training_set: invalid input: expected number, received string/,
    ],
    ["num_features that disagrees", () => ({ num_features: 7 }), /field num_features: is 7 but there are 24 labels/],
  ];
  for (const [what, changes, message] of cases) {
    test(what, async () => {
      const name = await datasetWith(what.replace(/\W+/g, "-"), { ...good, ...changes() });
      await expect(readDatasetConfig(ws, name)).rejects.toThrow(message);
      await expect(readDatasetConfig(ws, name)).rejects.toThrow(new RegExp(`^${configPath(name)}: `));
    });
  }

  test("not gzip, or gzip of something that is not JSON: the file is named", async () => {
    const notGzip = await datasetWith("not-gzip", new TextEncoder().encode('{"labels": []}'));
    await expect(readDatasetConfig(ws, notGzip)).rejects.toThrow(
      `${configPath(notGzip)} is not gzip-compressed; rebuild it with build-dataset --dataset ${notGzip} --force`,
    );
    const notJson = await datasetWith("not-json", gzip(new TextEncoder().encode("{ half a JSON")));
    await expect(readDatasetConfig(ws, notJson)).rejects.toThrow(new RegExp(`^${configPath(notJson)} is damaged \\(.*\\); rebuild it`));
  });
});

describe("raw cache files", () => {
  test("a run list holding something else than run ids names the file and the entry", async () => {
    const path = join(root, ".raw", "b.json.gz");
    await writeJsonGz(disk, path, ["a", 7]);
    await expect(readRunList(disk, path)).rejects.toThrow(
      `${path}: field 1: invalid input: expected string, received number; delete it and run cache-data again`,
    );
  });

  test("run metadata with a status other than 0 or 1", async () => {
    await writeJsonGz(disk, ws.runMetadata("r1"), { status: 2, artifact: null, build_name: "x" });
    await expect(readRunMetadata(ws, "r1")).rejects.toThrow(new RegExp(`^${ws.runMetadata("r1")}: field status: `));
    await writeJsonGz(disk, ws.runMetadata("r2"), { status: 1, artifact: null, nested: { deep: true } });
    await expect(readRunMetadata(ws, "r2")).rejects.toThrow(new RegExp(`^${ws.runMetadata("r2")}: field nested: `));
  });
});

describe("_splits", () => {
  test("a shared split with a run position beyond the runs names the file and the entry", async () => {
    const path = ws.splits(10, 0.6, 0.2);
    await writeJsonGz(disk, path, { training: [0, 1, 2, 3, 4, 12], dev: [6, 7], test: [8, 9] });
    await expect(loadOrMakeSplit(ws, 10, { training: 0.6, dev: 0.2, test: 0.2 }, 1)).rejects.toThrow(
      `${path}: field training.5: must be a run position below 10; delete it to make a new one`,
    );
  });
});
