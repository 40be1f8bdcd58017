import { afterAll, describe, expect, test } from "bun:test";
import { type Dirent, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzip, readJsonGz, writeJsonGz } from "../src/io/gzip-json.ts";
import { readNpz } from "../src/io/npy.ts";
import { parseDstatCsv } from "../src/io/dstat-csv.ts";
import { Workspace } from "../src/io/workspace.ts";
import { buildDataset, type BuildDatasetOptions } from "../src/pipeline/build-dataset.ts";
import { readDatasetConfig } from "../src/pipeline/dataset/dataset-config.ts";
import { AbortedError, CimlError } from "../src/pipeline/errors.ts";
import type { PipelineEvent } from "../src/pipeline/events.ts";
import { exampleFromTable } from "../src/pipeline/dataset/example-vector.ts";
import { lengthHistogram } from "../src/pipeline/dataset/dataset-histograms.ts";
import { syntheticDstat, uuidFor, writeCache, type FixtureRun } from "./dataset-cache.ts";
import { fixturePath } from "./fixtures.ts";
import { disk } from "./helpers/disk.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-build-dataset-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `ws${++counter}`);

function python(script: string, ...args: string[]): string {
  const r = Bun.spawnSync(["/usr/bin/python3", "-c", script, ...args]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString();
}

async function build(options: Partial<BuildDatasetOptions> & { dataPath: string }) {
  const events: PipelineEvent[] = [];
  const result = await buildDataset(
    {
      dataset: "ds",
      buildName: "tempest-full",
      slicer: ":",
      classLabel: "status",
      tdtSplit: ["6", "2", "2"],
      force: false,
      visualize: false,
      dataPlotsFolder: join(options.dataPath, "plots"),
      aggregationFunctions: [],
      dtype: "float32",
      ...options,
    },
    { emit: (e) => events.push(e), signal: new AbortController().signal },
  );
  return { result, events };
}

async function failure(options: Partial<BuildDatasetOptions> & { dataPath: string }): Promise<CimlError> {
  try {
    await build(options);
  } catch (err) {
    expect(err).toBeInstanceOf(CimlError);
    return err as CimlError;
  }
  throw new Error("build-dataset did not fail");
}

/** numpy.load of one of our archives, as JSON. */
function npzFromNumpy(path: string): Record<string, { dtype: string; shape: number[]; values: (number | string)[] }> {
  return JSON.parse(
    python(
      "import numpy as np,sys,json; z=np.load(sys.argv[1]); print(json.dumps({k:{'dtype':z[k].dtype.str,'shape':list(z[k].shape),'values':z[k].ravel().tolist()} for k in z.files}))",
      path,
    ),
  );
}

const REAL = fixturePath("dstat", "openstack-devstack-focal-rax-dfw-20211021.csv");

describe("golden: the real OpenStack trace with --sample-interval 1min --features-regex '(usr|1m)'", () => {
  // Three traces cut from the real file (whole, its first 250 samples, its samples from 100 on), so the
  // training statistics are not trivial; pandas computes the same vectors independently.
  const text = readFileSync(REAL, "utf8");
  const lines = text.split("\n");
  const head = lines.slice(0, 6);
  const data = lines.slice(6).filter((l) => l !== "");
  const variants = [data, data.slice(0, 251), [data[0]!, ...data.slice(100)]];
  const runs: FixtureRun[] = variants.map((rows, i) => ({
    uuid: uuidFor(i + 1),
    trace: `${[...head, ...rows].join("\n")}\n`,
    status: (i === 1 ? 1 : 0) as 0 | 1,
  }));

  const expected = JSON.parse(
    python(
      `import pandas as pd, numpy as np, json, sys, io
L = 92
text = open(sys.argv[1]).read().split("\\n")
head, data = text[:6], [l for l in text[6:] if l]
variants = [data, data[:251], [data[0]] + data[100:]]
vecs, rows = [], []
for v in variants:
    d = pd.read_csv(io.StringIO("\\n".join(head[5:] + v)))
    d = d.iloc[1:]  # pcp-dstat's short first row is not a sample
    d.index = pd.to_datetime("2021-" + d["time"], format="%Y-%d-%m %H:%M:%S")
    d = d.rename(columns={"total usage:usr": "usr"})[["usr", "1m"]]
    r = d.resample("1min").mean().dropna()
    x = np.zeros((L, 2)); n = min(L, len(r)); x[:n] = r.values[:n]
    vecs.append(x.T.ravel()); rows.append(len(r))
m = np.array(vecs)
mean = m.mean(axis=0); rng = m.max(axis=0) - m.min(axis=0); rng[rng == 0] = 1
print(json.dumps({"normalized": ((m - mean) / rng).tolist(), "mean": mean.tolist(), "range": rng.tolist(), "rows": rows}))`,
      REAL,
    ),
  ) as { normalized: number[][]; mean: number[]; range: number[]; rows: number[] };

  for (const dtype of ["float64", "float32"] as const) {
    test(`${dtype}: L = 92, labels usr0..usr91 1m0..1m91, vectors and normalisation match pandas`, async () => {
      const dataPath = freshDir();
      await writeCache(dataPath, "tempest-full", runs);
      const { result } = await build({ dataPath, sampleInterval: "1min", featuresRegex: "(usr|1m)", tdtSplit: ["10", "0", "0"], dtype });
      const labels = [...Array.from({ length: 92 }, (_, i) => `usr${i}`), ...Array.from({ length: 92 }, (_, i) => `1m${i}`)];
      expect(result.config.normalized_length).toBe(92);
      expect(result.config.labels).toEqual(labels);
      expect(result.config.num_columns).toBe(2);
      expect(result.config.num_features).toBe(184);
      const ds = join(dataPath, "ds");
      const z = npzFromNumpy(join(ds, "training.npz"));
      expect(z.examples!.dtype).toBe(dtype === "float32" ? "<f4" : "<f8");
      expect(z.examples!.shape).toEqual([3, 184]);
      expect(z.example_ids!.dtype).toBe("<U36");
      expect(z.classes!.dtype).toBe("<i8");
      expect(npzFromNumpy(join(ds, "labels.npz")).labels!.values).toEqual(labels);
      const ids = z.example_ids!.values as string[];
      const tolerance = dtype === "float32" ? 1e-6 : 1e-12;
      ids.forEach((id, r) => {
        const i = runs.findIndex((run) => run.uuid === id);
        expect(z.classes!.values[r]).toBe(i === 1 ? 1 : 0);
        const want = expected.normalized[i]!;
        const got = z.examples!.values.slice(r * 184, (r + 1) * 184) as number[];
        got.forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(want[j]!))));
      });
      const config = (await readJsonGz(disk, join(ds, "model_config.json.gz"))) as {
        normalization_params: Record<string, [number, number]>;
      };
      labels.forEach((label, j) => {
        const [mean, range] = config.normalization_params[label]!;
        expect(Math.abs(mean - expected.mean[j]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected.mean[j]!)));
        expect(Math.abs(range - expected.range[j]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, expected.range[j]!));
      });
      // the whole file resamples to 10 one-minute bins: shorter than L, so the rest is zero padding
      expect(expected.rows[0]).toBe(10);
    });
  }

  test("the prediction path (exampleFromTable) gives the dataset's own row for the same trace", async () => {
    const dataPath = freshDir();
    await writeCache(dataPath, "tempest-full", runs);
    await build({ dataPath, sampleInterval: "1min", featuresRegex: "(usr|1m)", tdtSplit: ["10", "0", "0"] });
    const config = await readDatasetConfig(new Workspace(dataPath), "ds");
    const z = await readNpz(disk, join(dataPath, "ds", "training.npz"));
    const ids = z.example_ids!.data as string[];
    const examples = z.examples!.data as Float32Array;
    for (const [r, id] of ids.entries()) {
      const run = runs.find((x) => x.uuid === id)!;
      const vector = exampleFromTable(parseDstatCsv(run.trace as string), config);
      expect([...vector]).toEqual([...examples.subarray(r * 184, (r + 1) * 184)]);
    }
    // A model_config.json.gz that lost a feature's parameters cannot normalise: one line, with the fix.
    const { usr7: _, ...params } = config.normalization_params;
    expect(() => exampleFromTable(parseDstatCsv(runs[0]!.trace as string), { ...config, normalization_params: params })).toThrow(
      "the dataset has no normalisation parameters for feature usr7; rebuild it with build-dataset --force",
    );
  });
});

describe("runs that cannot make an example are excluded and listed", () => {
  test("corrupt gzip, HTML body, missing metadata, missing trace, other columns, no time column", async () => {
    const dataPath = freshDir();
    const good = Array.from(
      { length: 8 },
      (_, i): FixtureRun => ({ uuid: uuidFor(i), trace: syntheticDstat(1200 + 300 * i, i + 1), status: (i % 3 === 0 ? 1 : 0) as 0 | 1 }),
    );
    const bad: FixtureRun[] = [
      { uuid: uuidFor(100), trace: gzip(new TextEncoder().encode("x")).subarray(0, 8) },
      { uuid: uuidFor(101), trace: "<!DOCTYPE html><html><body>404</body></html>" },
      { uuid: uuidFor(102), trace: syntheticDstat(900, 5), metadata: null },
      { uuid: uuidFor(103) },
      { uuid: uuidFor(104), trace: readFileSync(fixturePath("dstat", "dabz-mongodb-plugins-0.7.2svn-run1.csv"), "utf8") },
      { uuid: uuidFor(105), trace: '"usr","used","1m"\n1.5,2e9,0.3\n2.5,2e9,0.4\n' },
    ];
    // Runs are sorted in the run list; the uuids of the good ones come first, so the columns are theirs.
    await writeCache(dataPath, "tempest-full", [...good, ...bad]);
    const { result, events } = await build({ dataPath, sampleInterval: "10s", featuresRegex: "(usr|used|1m)", tdtSplit: ["4", "3", "3"] });
    const reasons = Object.fromEntries(result.excluded.map((e) => [e.run, e.reason]));
    expect(Object.keys(reasons).sort()).toEqual(bad.map((b) => b.uuid).sort());
    expect(reasons[uuidFor(100)]).toMatch(/unreadable cache file/);
    expect(reasons[uuidFor(101)]).toMatch(/HTML/);
    expect(reasons[uuidFor(102)]).toMatch(/no metadata/);
    expect(reasons[uuidFor(103)]).toMatch(/no dstat file/);
    expect(reasons[uuidFor(104)]).toMatch(/columns do not match the dataset: missing used, 1m/);
    // the right columns but no time column: it cannot be resampled
    expect(reasons[uuidFor(105)]).toMatch(/no time column/);
    const warnings = events.filter((e) => e.type === "warning").map((e) => (e as { subject?: string }).subject);
    expect(warnings.sort()).toEqual(bad.map((b) => b.uuid).sort());

    const ds = join(dataPath, "ds");
    const listed = (await readJsonGz(disk, join(ds, "excluded.json.gz"))) as { run: string; set: string; reason: string }[];
    expect(listed.map((e) => e.run).sort()).toEqual(bad.map((b) => b.uuid).sort());
    const kept = new Set<string>();
    for (const set of ["training", "dev", "test"]) {
      const ids = (await readJsonGz(disk, join(ds, `${set}.json.gz`))) as string[];
      if (ids.length === 0) continue;
      const z = npzFromNumpy(join(ds, `${set}.npz`));
      expect(z.example_ids!.values).toEqual(ids);
      expect(z.examples!.shape).toEqual([ids.length, 3 * 550]);
      // no garbage rows: every value is finite
      expect(z.examples!.values.every((v) => Number.isFinite(v as number))).toBe(true);
      ids.forEach((id) => kept.add(id));
    }
    expect([...kept].sort()).toEqual(good.map((g) => g.uuid).sort());
    expect(((await readJsonGz(disk, join(ds, "runs.json.gz"))) as string[]).sort()).toEqual(good.map((g) => g.uuid).sort());
    const columnsHist = events.filter((e) => e.type === "histogram" && e.name === "columns").at(-1) as {
      bins: { label: string; counts: number[] }[];
    };
    // loaded traces: the 8 good ones and the timeless one have 1m, the mongodb one lacks it
    expect(columnsHist.bins.find((b) => b.label === "1m")!.counts).toEqual([9, 1]);
  });
});

describe("errors are one clear line with exit code 1, or 2 for a mistake in the flags", async () => {
  const dataPath = freshDir();
  await writeCache(
    dataPath,
    "tempest-full",
    Array.from({ length: 5 }, (_, i) => ({ uuid: uuidFor(i), trace: syntheticDstat(300, i + 1) })),
  );

  // Mistakes in the flags are usage errors (exit 2) with a hint; the rest are failures (exit 1).
  const cases: [string, Partial<BuildDatasetOptions>, RegExp, 1 | 2][] = [
    [
      "tdt split not summing to 10",
      { tdtSplit: ["6", "2", "1"] },
      /^Training \(6\) \+ dev \(2\) \+ test \(1\) != 10; give tenths that sum to 10, e.g. --tdt-split 6 2 2$/,
      2,
    ],
    [
      "bad regex",
      { featuresRegex: "(usr" },
      /--features-regex "\(usr" is not a valid regular expression .*e\.g\. --features-regex "usr\|sys"/,
      2,
    ],
    ["regex matching no column", { featuresRegex: "^nothing$" }, /matches no column of run .* \(its columns: usr, sys/, 1],
    ["empty slice", { slicer: "10:" }, /--slicer 10: selects no runs of the 5 cached for build name tempest-full; e\.g\. --slicer :5$/, 2],
    [
      "unknown build name",
      { buildName: "no-such-job" },
      /no cached runs for build name no-such-job .*run cache-data --build-name no-such-job first/,
      1,
    ],
  ];
  for (const [name, options, message, exitCode] of cases) {
    test(name, async () => {
      const err = await failure({ dataPath, ...options });
      expect(err.exitCode).toBe(exitCode);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain("\n");
    });
  }

  test("dataset exists without --force; --force rebuilds", async () => {
    await build({ dataPath, dataset: "twice" });
    const err = await failure({ dataPath, dataset: "twice" });
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/^Dataset twice already configured in .*; use --force to overwrite it$/);
    // a --force rebuild that fails before it writes anything keeps the old dataset
    await failure({ dataPath, dataset: "twice", force: true, featuresRegex: "^nothing$" });
    expect(await new Workspace(dataPath).datasetExists("twice")).toBe(true);
    const { result } = await build({ dataPath, dataset: "twice", force: true, featuresRegex: "usr" });
    expect((await readDatasetConfig(new Workspace(dataPath), "twice")).labels).toEqual(result.config.labels);
  });

  test("bad flag values are usage errors (exit 2) that name the flag", async () => {
    const bad: [Partial<BuildDatasetOptions>, RegExp][] = [
      [{ dtype: "float16" }, /--dtype float16 is not supported; use float32 or float64/],
      [{ seed: "x" }, /--seed x: give a whole number from 0 to 4294967295/],
      [{ sampleInterval: "fast" }, /--sample-interval "fast" is not a pandas offset alias/],
      [{ aggregationFunctions: ["mode"] }, /--aggregation-functions mode is not known/],
      [{ slicer: "a:b" }, /--slicer "a:b" is not a python slice/],
    ];
    for (const [options, message] of bad) {
      const err = await failure({ dataPath, ...options });
      expect(err.exitCode).toBe(2);
      expect(err.message).toMatch(message);
    }
  });

  test("the CLI prints a usage error as one line on stderr and exits 2", () => {
    const r = Bun.spawnSync([
      process.execPath,
      join(import.meta.dir, "../src/main.ts"),
      "build-dataset",
      "--data-path",
      dataPath,
      "--tdt-split",
      "5",
      "5",
      "5",
      "--no-tui",
    ]);
    expect(r.exitCode).toBe(2);
    const err = r.stderr.toString().trim().split("\n");
    expect(err.length).toBe(1);
    expect(err[0]).toContain("Training (5) + dev (5) + test (5) != 10");
  });
});

describe("splits", () => {
  test("same size and ratio share _splits; a seed makes a new split reproducible", async () => {
    const runs = Array.from({ length: 20 }, (_, i) => ({ uuid: uuidFor(i), trace: syntheticDstat(200, i + 1), status: (i % 2) as 0 | 1 }));
    const a = freshDir();
    const b = freshDir();
    await writeCache(a, "tempest-full", runs);
    await writeCache(b, "tempest-full", runs);
    const first = await build({ dataPath: a, featuresRegex: "usr", seed: 7 });
    const same = await build({ dataPath: b, featuresRegex: "usr", seed: 7 });
    const split = (root: string, ds: string) =>
      Promise.all(["training", "dev", "test"].map((s) => readJsonGz(disk, join(root, ds, `${s}.json.gz`))));
    const splitA = await split(a, "ds");
    expect(await split(b, "ds")).toEqual(splitA);
    expect(first.result.config.seed).toBe(7);
    expect((splitA[0] as string[]).length).toBe(12);
    expect((splitA[1] as string[]).length).toBe(4);
    expect((splitA[2] as string[]).length).toBe(4);
    // another dataset of the same size reuses the shared split file, whatever its seed
    const other = await build({ dataPath: a, dataset: "other", featuresRegex: "1m", seed: 8 });
    expect(other.result.config.seed).toBeNull();
    expect(await split(a, "other")).toEqual(splitA);
    expect(existsSync(join(a, "_splits", "20", "0.6_0.2.json.gz"))).toBe(true);
    // a different seed in a fresh workspace gives a different split
    const c = freshDir();
    await writeCache(c, "tempest-full", runs);
    await build({ dataPath: c, featuresRegex: "usr", seed: 8 });
    expect(await split(c, "ds")).not.toEqual(splitA);
    expect(same.result.examples).toEqual({ training: 12, dev: 4, test: 4 });
  });

  test("7 0 3 gives no dev archive, and the target path holds dataset and splits", async () => {
    const runs = Array.from({ length: 10 }, (_, i) => ({ uuid: uuidFor(i), trace: syntheticDstat(200, i + 1) }));
    const cache = freshDir();
    const target = freshDir();
    await writeCache(cache, "tempest-full", runs);
    await build({ dataPath: cache, targetDataPath: target, tdtSplit: ["7", "0", "3"], featuresRegex: "usr" });
    expect(existsSync(join(target, "ds", "training.npz"))).toBe(true);
    expect(existsSync(join(target, "ds", "dev.npz"))).toBe(false);
    expect(await readJsonGz(disk, join(target, "ds", "dev.json.gz"))).toEqual([]);
    expect(existsSync(join(target, "_splits", "10", "0.7_0.0.json.gz"))).toBe(true);
    expect(existsSync(join(cache, "ds"))).toBe(false);
  });
});

describe("aggregation functions and class labels", () => {
  test("mean std min max size median sum var match numpy per column (population std/var)", async () => {
    const dataPath = freshDir();
    const runs = Array.from({ length: 4 }, (_, i) => ({
      uuid: uuidFor(i),
      trace: syntheticDstat(777 + 100 * i, i + 3),
      status: (i % 2) as 0 | 1,
    }));
    await writeCache(dataPath, "tempest-full", runs);
    const fns = ["mean", "std", "min", "max", "size", "median", "sum", "var"];
    const { result } = await build({
      dataPath,
      featuresRegex: "^(usr|1m)$",
      sampleInterval: "10s",
      aggregationFunctions: fns,
      tdtSplit: ["10", "0", "0"],
      dtype: "float64",
    });
    expect(result.config.labels).toEqual(["usr", "1m"].flatMap((c) => fns.map((f) => `${c}_${f}`)));
    expect(result.config.normalized_length).toBe(8);
    const files = runs.map((r, i) => {
      const path = join(dataPath, `trace${i}.csv`);
      writeFileSync(path, r.trace);
      return path;
    });
    const want = JSON.parse(
      python(
        `import pandas as pd, numpy as np, json, sys
out = []
for path in sys.argv[1:]:
    d = pd.read_csv(path, skiprows=6)
    d.index = pd.to_datetime("2018-" + d["time"], format="%Y-%d-%m %H:%M:%S")
    r = d[["usr", "1m"]].resample("10s").mean().dropna()
    out.append([float(getattr(np, f)(r[c].values)) for c in ["usr", "1m"] for f in ${JSON.stringify(fns)}])
m = np.array(out)
mean = m.mean(axis=0); rng = m.max(axis=0) - m.min(axis=0); rng[rng == 0] = 1
print(json.dumps({"raw": out, "normalized": ((m - mean) / rng).tolist()}))`,
        ...files,
      ),
    ) as { raw: number[][]; normalized: number[][] };
    // size counts 10 s bins aligned to midnight: 777 samples from 17:33:07 touch 79 of them
    expect(want.raw[0]![4]).toBe(79);
    const z = await readNpz(disk, join(dataPath, "ds", "training.npz"));
    const ids = z.example_ids!.data as string[];
    const examples = z.examples!.data as Float64Array;
    ids.forEach((id, r) => {
      const i = runs.findIndex((x) => x.uuid === id);
      want.normalized[i]!.forEach((v, j) => expect(Math.abs(examples[r * 16 + j]! - v)).toBeLessThanOrEqual(1e-9));
    });
  });

  test("node_provider groups operators, node_provider_all keeps regions; vocabularies sorted, classes as strings", async () => {
    const providers = [
      "rax-dfw",
      "ovh-gra1",
      "vexxhost-sjc1",
      "inap-mtl01",
      "rax-iad",
      "ovh-bhs1",
      "limestone-regionone",
      "rax-ord",
      "fortnebula-regionone",
      "packethost-us-west-1",
    ];
    const dataPath = freshDir();
    await writeCache(
      dataPath,
      "tempest-full",
      providers.map((p, i) => ({ uuid: uuidFor(i), trace: syntheticDstat(120, i + 1), metadata: { node_provider: p } })),
    );
    const grouped = await build({ dataPath, classLabel: "node_provider", featuresRegex: "usr", tdtSplit: ["10", "0", "0"] });
    expect(grouped.result.config.classes).toEqual([
      "fortnebula-regionone",
      "inap-mtl01",
      "limestone-regionone",
      "ovh",
      "packethost-us-west-1",
      "rax",
      "vexxhost",
    ]);
    const z = npzFromNumpy(join(dataPath, "ds", "training.npz"));
    expect(z.classes!.dtype).toMatch(/^<U\d+$/);
    (z.example_ids!.values as string[]).forEach((id, r) => {
      const p = providers[Number.parseInt(id.slice(-12), 16)]!;
      expect(z.classes!.values[r]).toBe(/^(rax|ovh|vexxhost)/.exec(p)?.[1] ?? p);
    });
    const all = await build({
      dataPath,
      dataset: "all",
      classLabel: "node_provider_all",
      featuresRegex: "usr",
      tdtSplit: ["10", "0", "0"],
    });
    expect(all.result.config.classes).toEqual([...providers].sort());
    const balance = all.events.filter((e) => e.type === "histogram" && e.name === "balance").at(-1) as { bins: { label: string }[] };
    expect(balance.bins.map((b) => b.label)).toEqual([...providers].sort());
  });
});

describe("--visualize", () => {
  test("sizes_by_result.png is a PNG of the drawn size and the .svg is well-formed with one marker per training example", async () => {
    const dataPath = freshDir();
    const runs = Array.from({ length: 30 }, (_, i) => ({
      uuid: uuidFor(i),
      trace: syntheticDstat(600 + 60 * (i % 9), i + 1),
      status: (i % 4 === 0 ? 1 : 0) as 0 | 1,
    }));
    await writeCache(dataPath, "tempest-full", runs);
    const plots = join(dataPath, "plots-here");
    const { result } = await build({ dataPath, sampleInterval: "1min", featuresRegex: "usr", visualize: true, dataPlotsFolder: plots });
    expect(result.plots.sort()).toEqual([join(plots, "sizes_by_result.png"), join(plots, "sizes_by_result.svg")]);
    const png = readFileSync(join(plots, "sizes_by_result.png"));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.subarray(12, 16).toString("latin1")).toBe("IHDR");
    // drawn at 800 × 500 and rasterised at 1.5×
    expect(png.readUInt32BE(16)).toBe(1200);
    expect(png.readUInt32BE(20)).toBe(750);
    const svg = python(
      "import sys,xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); print(r.tag, len(r.findall('.//{http://www.w3.org/2000/svg}circle')))",
      join(plots, "sizes_by_result.svg"),
    );
    expect(svg.trim()).toBe(`{http://www.w3.org/2000/svg}svg ${result.examples.training}`);
    // The legend says which class is which, with how many runs each has.
    const texts = [...readFileSync(join(plots, "sizes_by_result.svg"), "utf8").matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(texts.filter((t) => /^[01] = /.test(t!))).toEqual([
      expect.stringMatching(/^0 = passed \(\d+ runs\)$/),
      expect.stringMatching(/^1 = failed \(\d+ runs\)$/),
    ]);
    expect(texts).toContain("status (0 = passed, 1 = failed)");
  }, 60_000);
});

describe("--visualize --plot-examples", () => {
  test("the original's per-example plots for the first n training examples", async () => {
    const dataPath = freshDir();
    await writeCache(
      dataPath,
      "tempest-full",
      Array.from({ length: 10 }, (_, i) => ({ uuid: uuidFor(i), trace: syntheticDstat(1500 + 100 * i, i + 1), status: (i % 2) as 0 | 1 })),
    );
    const plots = join(dataPath, "plots-here");
    const { result, events } = await build({
      dataPath,
      sampleInterval: "1min",
      featuresRegex: "(usr|1m)",
      visualize: true,
      dataPlotsFolder: plots,
      plotExamples: 2,
    });
    // All of them in one folder of the plots folder, and the result says where.
    const examples = join(plots, "ds-examples");
    const perExample = ["downsampled", "fixedsize", "unrolled"].flatMap((kind) =>
      [0, 1].map((i) => join(examples, `1min_${kind}_${i}.png`)),
    );
    const normalized = [0, 1].map((i) => join(examples, `1min_normalized_${i}.png`));
    const lines = events.flatMap((e) => (e.type === "result" ? (e.lines ?? []) : []));
    expect(lines.filter((l) => l.startsWith("plots:"))).toEqual([`plots: 8 files in ${examples}`, `plots: 2 files in ${plots}`]);
    expect(result.plots.sort()).toEqual(
      [...perExample, ...normalized, join(plots, "sizes_by_result.png"), join(plots, "sizes_by_result.svg")].sort(),
    );
    for (const file of [...perExample, ...normalized]) expect(readFileSync(file).subarray(1, 4).toString("latin1")).toBe("PNG");
  }, 60_000);
});

/** Every file under `dir` with its bytes, sorted by path. */
function filesOf(dir: string): [string, Buffer][] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((d) => d.isFile())
    .map((d): [string, Buffer] => [join(d.parentPath, d.name).slice(dir.length + 1), readFileSync(join(d.parentPath, d.name))])
    .sort(([a], [b]) => a.localeCompare(b));
}

describe("a --force rebuild is built beside the old dataset", () => {
  test("--force replaces the dataset's files, keeps its experiment folders, and drops what a killed build left", async () => {
    const dataPath = freshDir();
    await writeCache(
      dataPath,
      "tempest-full",
      Array.from({ length: 10 }, (_, i) => ({ uuid: uuidFor(i), trace: syntheticDstat(300, i + 1) })),
    );
    const dir = join(dataPath, "swapped");
    await build({ dataPath, dataset: "swapped", featuresRegex: "usr" });
    expect(existsSync(join(dir, "dev.npz"))).toBe(true);
    mkdirSync(join(dir, "dnn"));
    writeFileSync(join(dir, "dnn", "model.json"), "{}");
    // what a build killed outright (no Ctrl-C, no clean-up) leaves in the staging folder
    mkdirSync(join(dataPath, ".staging", "swapped"), { recursive: true });
    writeFileSync(join(dataPath, ".staging", "swapped", "dev.npz"), "half");
    await build({ dataPath, dataset: "swapped", featuresRegex: "1m", tdtSplit: ["7", "0", "3"], force: true });
    expect((await readDatasetConfig(new Workspace(dataPath), "swapped")).columns).toEqual(["1m"]);
    // the new dataset has no dev set, so the old one's dev archive must not survive it
    expect(existsSync(join(dir, "dev.npz"))).toBe(false);
    expect(await readJsonGz(disk, join(dir, "dev.json.gz"))).toEqual([]);
    expect((await readNpz(disk, join(dir, "training.npz"))).examples!.shape[1]).toBe(
      (await readDatasetConfig(new Workspace(dataPath), "swapped")).num_features,
    );
    expect(readFileSync(join(dir, "dnn", "model.json"), "utf8")).toBe("{}");
    expect(existsSync(join(dataPath, ".staging"))).toBe(false);
  });

  test("an aborted --force rebuild leaves the old dataset as it was, and a re-run replaces it", async () => {
    const dataPath = freshDir();
    await writeCache(
      dataPath,
      "tempest-full",
      Array.from({ length: 10 }, (_, i) => ({ uuid: uuidFor(i), trace: syntheticDstat(300, i + 1) })),
    );
    await build({ dataPath, featuresRegex: "usr" });
    const before = filesOf(join(dataPath, "ds"));
    expect(before.map(([f]) => f)).toContain("model_config.json.gz");
    const controller = new AbortController();
    let error: unknown;
    try {
      await buildDataset(
        {
          dataPath,
          dataset: "ds",
          buildName: "tempest-full",
          slicer: ":",
          classLabel: "status",
          tdtSplit: ["6", "2", "2"],
          force: true,
          visualize: false,
          dataPlotsFolder: dataPath,
          aggregationFunctions: [],
          dtype: "float32",
          featuresRegex: "1m",
        },
        { emit: (e) => e.type === "progress" && e.stage === "dev" && controller.abort(), signal: controller.signal },
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AbortedError);
    // the new training set was written (beside the old one) before the abort; the old dataset is untouched
    expect(filesOf(join(dataPath, "ds"))).toEqual(before);
    expect((await readDatasetConfig(new Workspace(dataPath), "ds")).columns).toEqual(["usr"]);
    expect(existsSync(join(dataPath, ".staging"))).toBe(false);
    const again = await build({ dataPath, featuresRegex: "1m", force: true });
    expect(again.result.config.columns).toEqual(["1m"]);
    expect((await readDatasetConfig(new Workspace(dataPath), "ds")).columns).toEqual(["1m"]);
    expect(existsSync(join(dataPath, ".staging"))).toBe(false);
  });
});

describe("readDatasetConfig", () => {
  test("reads a configuration the original wrote (no columns, dtype, seed or classes keys)", async () => {
    const dataPath = freshDir();
    const ws = new Workspace(dataPath);
    const labels = [...Array.from({ length: 92 }, (_, i) => `usr${i}`), ...Array.from({ length: 92 }, (_, i) => `1m${i}`)];
    const original = {
      build_name: "tempest-full",
      sample_interval: "1min",
      features_regex: "(usr|1m)",
      class_label: "status",
      aggregation_functions: [],
      training_set: 0.7,
      dev_set: 0.0,
      test_set: 0.3,
      normalized_length: 92,
      labels,
      num_columns: 2,
      num_features: 184,
      normalization_params: Object.fromEntries(labels.map((l) => [l, [1, 2]])),
    };
    await writeJsonGz(disk, ws.datasetFile("usr_1m-1min-status", "model_config.json.gz"), original);
    const config = await readDatasetConfig(ws, "usr_1m-1min-status");
    expect(config.columns).toEqual(["usr", "1m"]);
    expect(config.dtype).toBe("float64");
    expect(config.classes).toEqual(["0", "1"]);
    const aggregated = {
      ...original,
      aggregation_functions: ["mean", "std"],
      normalized_length: 2,
      labels: ["usr_mean", "usr_std", "1m_mean", "1m_std"],
      num_features: 4,
      normalization_params: Object.fromEntries(["usr_mean", "usr_std", "1m_mean", "1m_std"].map((l) => [l, [1, 2]])),
    };
    await writeJsonGz(disk, ws.datasetFile("agg", "model_config.json.gz"), aggregated);
    expect((await readDatasetConfig(ws, "agg")).columns).toEqual(["usr", "1m"]);
    await expect(readDatasetConfig(ws, "missing")).rejects.toThrow(/dataset missing does not exist/);
  });
});

// Without resampling only the first L complete rows of each trace are stored (docs/cache-data.md,
// "Memory"); what build-dataset reports about a trace's length must still be the whole trace's, and its
// examples the ones the whole trace makes.
describe("traces longer than an unresampled example", () => {
  test("lengths are the whole traces', examples are made of their first complete rows", async () => {
    // Rows past 5500 (the unresampled example length), a different count each, some holed with empty cells.
    const runs = Array.from({ length: 10 }, (_, i) => {
      const lines = syntheticDstat(5600 + 300 * i, i + 1).split("\n");
      for (let r = 8 + i; r < lines.length; r += 997) lines[r] = lines[r]!.replace(/^([^,]*),[^,]*,/, "$1,,");
      return { uuid: uuidFor(i), trace: lines.join("\n"), status: (i % 3 === 0 ? 1 : 0) as 0 | 1 };
    });
    const dataPath = freshDir();
    await writeCache(dataPath, "tempest-full", runs);
    const { events } = await build({ dataPath, featuresRegex: "^(usr|sys|used)$", dtype: "float64" });

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

    // Each stored example is the one the whole trace makes, normalised.
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
});
