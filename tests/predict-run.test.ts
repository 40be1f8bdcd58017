// The one prediction path on cached runs must give what train-model itself predicted for the same runs
// (its dev set, built by build-dataset): same regex, interval, length, unroll, normalisation and model.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { readJsonGz } from "../src/io/gzip-json.ts";
import { parseDstatCsv } from "../src/io/dstat-csv.ts";
import { readRunList, readRunMetadata } from "../src/io/raw-cache.ts";
import { Workspace } from "../src/io/workspace.ts";
import { exampleOfCachedRun, loadPredictionModel, predictExamples, type PredictionModel } from "../src/pipeline/predict/predict-run.ts";
import { realText, writeCache } from "./dataset-cache.ts";
import { fixturePath } from "./fixtures.ts";
import { DATASET, EXPERIMENT, trainedWorkspace } from "./helpers/trained-workspace.ts";
import { disk } from "./helpers/disk.ts";

let root: string;
let ws: Workspace;
let model: PredictionModel;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "ciml-predict-run-"));
  await trainedWorkspace(root);
  ws = new Workspace(root);
  model = await loadPredictionModel(ws, DATASET, EXPERIMENT);
}, 120_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

type DevRecord = [string, { probabilities: number[]; classes: string[] }, number | string];

describe("predict-run", () => {
  test("predicts the dev runs exactly as train-model did", async () => {
    const dev = await readRunList(disk, ws.datasetFile(DATASET, "dev.json.gz"));
    expect(dev.length).toBeGreaterThan(5);
    const examples = await Promise.all(dev.map((uuid) => exampleOfCachedRun(ws, model, uuid)));
    const usable = examples.filter((e) => e.kind === "example");
    expect(usable.length).toBe(dev.length);
    const ours = predictExamples(model, usable);
    const theirs = new Map(
      ((await readJsonGz(disk, join(ws.modelDir(DATASET, EXPERIMENT), `prediction_${DATASET}.json.gz`))) as DevRecord[]).map((r) => [
        r[0],
        r,
      ]),
    );
    for (const p of ours) {
      const [, record, actual] = theirs.get(p.runUuid)!;
      expect(p.predictedClass).toBe(record.classes[0]!);
      expect(p.probabilities["0"]!).toBeCloseTo(record.probabilities[0]!, 5);
      expect(p.probabilities["1"]!).toBeCloseTo(record.probabilities[1]!, 5);
      expect(p.actualClass).toBe(String(actual));
    }
  });

  test("the model learned the fixture: most dev runs are predicted right", async () => {
    const dev = await readRunList(disk, ws.datasetFile(DATASET, "dev.json.gz"));
    const ours = predictExamples(
      model,
      (await Promise.all(dev.map((u) => exampleOfCachedRun(ws, model, u)))).filter((e) => e.kind === "example"),
    );
    const right = ours.filter((p) => p.predictedClass === p.actualClass).length;
    expect(right / ours.length).toBeGreaterThan(0.8);
  });

  test("a run missing from the cache, or with other columns, is unusable with a reason, not an error", async () => {
    expect(await exampleOfCachedRun(ws, model, "00000000-0000-4000-8000-0000deadbeef")).toMatchObject({
      kind: "unusable",
      reason: expect.stringContaining("00000000-0000-4000-8000-0000deadbeef"),
    });
    // dstat's default columns (cpu, disk, net, paging, system) have usr but no load average "1m"
    await writeCache(join(root, "other"), "tempest-full", [
      { uuid: "other-columns-run", trace: realText(fixturePath("dstat", "standin-0.7.2-default-columns.csv")), status: 0, metadata: {} },
    ]);
    const other = await exampleOfCachedRun(new Workspace(join(root, "other")), model, "other-columns-run");
    expect(other.kind).toBe("unusable");
    expect(other.kind === "unusable" && other.reason).toMatch(/^other-columns-run: .*1m/);
  });

  test("a trace the cache check already parsed is used as is: same example, the file not read again", async () => {
    const [uuid] = await readRunList(disk, ws.datasetFile(DATASET, "dev.json.gz"));
    const fromFile = await exampleOfCachedRun(ws, model, uuid!);
    const text = gunzipSync(readFileSync(ws.rawTrace(uuid!))).toString("utf8");
    const metadata = (await readRunMetadata(ws, uuid!))!;
    const year = typeof metadata.run_at === "string" ? Number(metadata.run_at.slice(0, 4)) : new Date().getUTCFullYear();
    const parsed = parseDstatCsv(text, { year });
    const moved = `${ws.rawTrace(uuid!)}.away`;
    renameSync(ws.rawTrace(uuid!), moved);
    try {
      const handed = await exampleOfCachedRun(ws, model, uuid!, parsed);
      expect(handed.kind).toBe("example");
      expect(handed.kind === "example" && [...handed.example]).toEqual(fromFile.kind === "example" ? [...fromFile.example] : []);
      // Without a Date: line, a table read with another year for its dd-mm times is not trusted: the file
      // is read again (here: gone); read with the metadata's year it is used.
      const undated = text.replace(/,"Date:","[^"]*"/, "");
      expect(undated).not.toBe(text);
      expect((await exampleOfCachedRun(ws, model, uuid!, parseDstatCsv(undated, { year: year - 3 }))).kind).toBe("unusable");
      expect((await exampleOfCachedRun(ws, model, uuid!, parseDstatCsv(undated, { year }))).kind).toBe("example");
    } finally {
      renameSync(moved, ws.rawTrace(uuid!));
    }
  });
});
