// build-dataset's plan and report are plain functions: every flag is checked before a file is touched,
// and the closing summary follows from the configuration and what was filled.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BuildDatasetOptions } from "../src/pipeline/build-dataset.ts";
import { planBuild } from "../src/pipeline/dataset/build-plan.ts";
import { buildResultEvent, datasetConfigOf } from "../src/pipeline/dataset/build-report.ts";
import type { FilledSets } from "../src/pipeline/dataset/fill-sets.ts";
import { UsageError } from "../src/pipeline/errors.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-build-plan-"));
const dataPath = join(root, "never-created");

const options = (more: Partial<BuildDatasetOptions> = {}): BuildDatasetOptions => ({
  dataPath,
  dataset: "ds",
  buildName: "tempest-full",
  slicer: ":",
  classLabel: "status",
  tdtSplit: ["6", "2", "2"],
  force: false,
  visualize: true,
  dataPlotsFolder: join(dataPath, "plots"),
  aggregationFunctions: [],
  dtype: "float64",
  ...more,
});

describe("planBuild", () => {
  test("turns the flags into the build's settings, using the step's default seed", async () => {
    const plan = await planBuild(options({ sampleInterval: "10s", featuresRegex: "usr", plotExamples: "3" }), 42);
    expect(plan.seed).toBe(42);
    expect(plan.split).toEqual({ training: 0.6, dev: 0.2, test: 0.2 });
    expect(plan.sampleInterval).toBe("10s");
    expect(plan.regex?.test("usr")).toBe(true);
    expect(plan.plotExamples).toBe(3);
    expect(plan.plotExamplesIgnored).toBe(false);
    expect(plan.target).toBe(plan.cache);
  });

  test("per-example plots are dropped, with a flag for the warning, when aggregation removes the time axis", async () => {
    const plan = await planBuild(options({ plotExamples: 2, aggregationFunctions: ["mean"] }), 42);
    expect(plan.plotExamples).toBe(0);
    expect(plan.plotExamplesIgnored).toBe(true);
  });

  test("a bad flag is a usage error naming it, and nothing is written", async () => {
    for (const [bad, message] of [
      [{ seed: "-1" }, "--seed -1: give a whole number from 0 to 4294967295"],
      [{ plotExamples: "1.5" }, "--plot-examples 1.5: give a whole number of at least 0 (0 for none)"],
      [{ dtype: "int8" }, "--dtype int8 is not supported; use float32 or float64"],
    ] as const) {
      await expect(planBuild(options(bad), 42)).rejects.toThrow(UsageError);
      await expect(planBuild(options(bad), 42)).rejects.toThrow(message);
    }
    expect(existsSync(dataPath)).toBe(false);
    rmSync(root, { recursive: true, force: true });
  });
});

describe("the report", () => {
  test("the configuration and the closing lines follow from the plan and the filled sets", async () => {
    const plan = await planBuild(options(), 7);
    const filled: FilledSets = {
      ids: { training: ["a", "b", "c"], dev: ["d"], test: [] },
      classes: { training: ["0", "1", "0"], dev: ["1"], test: [] },
      lengths: [5, 5, 5, 5],
      excluded: [{ run: "e", set: "test", reason: "no metadata in the cache (.metadata)" }],
      normalization: { mean: Float64Array.of(1, 2), range: Float64Array.of(3, 4) },
      vocabulary: ["0", "1"],
      plots: [],
    };
    const config = datasetConfigOf(plan, ["usr"], ["usr0", "usr1"], 2, filled, false);
    expect(config.normalization_params).toEqual({ usr0: [1, 3], usr1: [2, 4] });
    expect(config.seed).toBeNull();
    const result = buildResultEvent(plan, config, filled);
    expect(result.summary).toMatchObject({ dataset: "ds", training: 3, dev: 1, test: 0, excluded: 1, features: 2, length: 2 });
    expect(result.lines?.[0]).toBe("Done creating dataset ds: 2 features (1 columns × 2), classes 0, 1");
    expect(result.lines?.[1]).toMatch(/^1 runs excluded \(listed in .*ds\/excluded\.json\.gz\)$/);
  });
});
