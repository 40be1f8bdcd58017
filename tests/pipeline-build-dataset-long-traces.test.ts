// build-dataset without resampling stores only the first L complete rows of each trace (docs/cache-data.md,
// "Memory"); what it reports about a trace's length must still be the whole trace's, and its examples
// the ones the whole trace makes.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDstatCsv } from "../src/io/dstat-csv.ts";
import { readNpz } from "../src/io/npy.ts";
import { buildDataset } from "../src/pipeline/build-dataset.ts";
import { lengthHistogram } from "../src/pipeline/dataset/dataset-histograms.ts";
import { readDatasetConfig } from "../src/pipeline/dataset/dataset-config.ts";
import { exampleFromTable } from "../src/pipeline/dataset/example-vector.ts";
import type { PipelineEvent } from "../src/pipeline/events.ts";
import { syntheticDstat, uuidFor, writeCache } from "./dataset-cache.ts";
import { disk } from "./helpers/disk.ts";
import { Workspace } from "../src/io/workspace.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-build-long-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("traces longer than the example: lengths are the whole traces', rows are their first complete rows", async () => {
  // Rows past 5500 (the unresampled example length), a different count each, some holed with empty cells.
  const runs = Array.from({ length: 10 }, (_, i) => {
    const lines = syntheticDstat(5600 + 300 * i, i + 1).split("\n");
    for (let r = 8 + i; r < lines.length; r += 997) lines[r] = lines[r]!.replace(/^([^,]*),[^,]*,/, "$1,,");
    return { uuid: uuidFor(i), trace: lines.join("\n"), status: (i % 3 === 0 ? 1 : 0) as 0 | 1 };
  });
  const dataPath = join(root, "ws");
  await writeCache(dataPath, "tempest-full", runs);
  const events: PipelineEvent[] = [];
  await buildDataset(
    {
      dataPath,
      dataset: "ds",
      buildName: "tempest-full",
      slicer: ":",
      classLabel: "status",
      tdtSplit: ["6", "2", "2"],
      force: false,
      visualize: false,
      dataPlotsFolder: join(dataPath, "plots"),
      featuresRegex: "^(usr|sys|used)$",
      aggregationFunctions: [],
      dtype: "float64",
    },
    { emit: (e) => events.push(e), signal: new AbortController().signal },
  );

  const config = await readDatasetConfig(new Workspace(dataPath), "ds");
  expect(config.normalized_length).toBe(5500);
  const whole = runs.map((r) => parseDstatCsv(r.trace, { year: 2018 }));
  // Samples after dropna, of every row, whatever was stored.
  const lengths = whole.map((t) => {
    const cols = config.columns.map((c) => t.values[t.columns.indexOf(c)]!);
    let n = 0;
    for (let r = 0; r < t.rows; r++) if (cols.every((v) => v[r] === v[r])) n++;
    return n;
  });
  expect(Math.min(...lengths)).toBeGreaterThan(5500);
  const histogram = events.filter((e) => e.type === "histogram" && e.name === "lengths").at(-1);
  const classes = runs.map((r) => String(r.status));
  expect(histogram).toEqual(lengthHistogram(lengths, classes, ["0", "1"], 5500));

  // Each stored example is the whole trace's, normalised (float64: compared exactly).
  const training = await readNpz(disk, join(dataPath, "ds", "training.npz"));
  const ids = training.example_ids!.data as string[];
  const x = training.examples!.data as Float64Array;
  const width = config.num_features;
  ids.forEach((id, i) => {
    const run = runs.findIndex((r) => r.uuid === id.trim());
    const expected = exampleFromTable(whole[run]!, { ...config, dtype: "float64" });
    // exampleFromTable hands float32 to the model; the archive keeps the float64 row.
    expect(Array.from(Float32Array.from(x.subarray(i * width, (i + 1) * width)))).toEqual(Array.from(expected));
  });
  expect(ids.length).toBe(6);
});
