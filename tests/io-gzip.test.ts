import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { GzipError, gunzip, gunzipStream, isGzip, readJsonGz, writeJsonGz } from "../src/io/gzip-json.ts";
import { readNpz } from "../src/io/npy.ts";
import { Workspace } from "../src/io/workspace.ts";
import { buildDataset } from "../src/pipeline/build-dataset.ts";
import { readDatasetConfig } from "../src/pipeline/dataset/dataset-config.ts";
import { syntheticDstat, uuidFor, writeCache } from "./dataset-cache.ts";
import { disk } from "./helpers/disk.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-gzip-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What `cat head.gz tail.gz > trace.gz` makes: one file, two gzip members. */
function twoMembers(text: string): Uint8Array {
  const cut = text.indexOf("\n", text.length >> 1) + 1;
  return new Uint8Array(Buffer.concat([gzipSync(text.slice(0, cut)), gzipSync(text.slice(cut))]));
}

describe("multi-member gzip", () => {
  test("gunzip returns every member, and a truncated or damaged file throws", () => {
    const text = syntheticDstat(2000, 1);
    const bytes = twoMembers(text);
    expect(new TextDecoder().decode(gunzip(bytes))).toBe(text);
    expect(() => gunzip(bytes.subarray(0, bytes.length - 5))).toThrow();
    const flipped = Uint8Array.from(bytes);
    flipped[flipped.length - 7]! ^= 1;
    expect(() => gunzip(flipped)).toThrow();
  });

  test("gunzipStream gives the same text chunk by chunk, with the same checks, and bounds its output", async () => {
    const text = syntheticDstat(2000, 1);
    const bytes = twoMembers(text);
    async function* pieces(b: Uint8Array, size: number) {
      for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
    }
    const read = async (source: Uint8Array | AsyncIterable<Uint8Array>, maxBytes?: number) => {
      const out: Uint8Array[] = [];
      for await (const chunk of gunzipStream(source, maxBytes)) out.push(chunk);
      return Buffer.concat(out).toString("utf8");
    };
    expect(await read(bytes)).toBe(text);
    expect(await read(pieces(bytes, 777))).toBe(text);
    expect(read(pieces(bytes.subarray(0, bytes.length - 5), 777))).rejects.toThrow(GzipError);
    const flipped = Uint8Array.from(bytes);
    flipped[flipped.length - 7]! ^= 1;
    expect(read(flipped)).rejects.toThrow(/corrupt or truncated gzip/);
    expect(read(bytes, 1000)).rejects.toThrow(/expands beyond 1000 bytes/);
    // A fault of the source (a download cut off) comes out as itself, not as a damaged gzip.
    async function* cutOff() {
      yield bytes.subarray(0, 500);
      throw new Error("connection reset");
    }
    expect(read(cutOff())).rejects.toThrow("connection reset");
  });

  test("build-dataset counts every sample of a trace cached as two members", async () => {
    const dataPath = join(root, "ws");
    const rows = [3000, 1000, 2000];
    await writeCache(
      dataPath,
      "b",
      rows.map((n, i) => ({ uuid: uuidFor(i + 1), trace: twoMembers(syntheticDstat(n, i + 1)), status: (i % 2) as 0 | 1 })),
    );
    await buildDataset(
      {
        dataPath,
        dataset: "ds",
        buildName: "b",
        slicer: ":",
        classLabel: "status",
        tdtSplit: ["10", "0", "0"],
        force: false,
        visualize: false,
        dataPlotsFolder: join(dataPath, "plots"),
        featuresRegex: "usr",
        aggregationFunctions: ["size"],
        dtype: "float64",
      },
      { emit: () => undefined, signal: new AbortController().signal },
    );
    const z = await readNpz(disk, join(dataPath, "ds", "training.npz"));
    const ids = z.example_ids!.data as string[];
    const [mean, range] = (await readDatasetConfig(new Workspace(dataPath), "ds")).normalization_params.usr_size!;
    const sizes = Array.from(z.examples!.data as Float64Array, (v) => Math.round(v * range + mean));
    const got = Object.fromEntries(ids.map((id, r) => [id, sizes[r]]));
    expect(got).toEqual(Object.fromEntries(rows.map((n, i) => [uuidFor(i + 1), n])));
  });
});

describe("reading a .json.gz file", () => {
  const dir = join(root, "json");
  mkdirSync(dir, { recursive: true });

  test("what was written reads back; a missing file is undefined", async () => {
    await writeJsonGz(disk, join(dir, "ok.json.gz"), { runs: ["a", "b"], n: 2 });
    expect(await readJsonGz(disk, join(dir, "ok.json.gz"))).toEqual({ runs: ["a", "b"], n: 2 });
    expect(await readJsonGz(disk, join(dir, "missing.json.gz"))).toBeUndefined();
  });

  test("a folder where the file should be is an error, not a missing file", async () => {
    mkdirSync(join(dir, "folder.json.gz"), { recursive: true });
    await expect(readJsonGz(disk, join(dir, "folder.json.gz"))).rejects.toThrow(/EISDIR/);
  });

  test("not gzip, truncated, or not JSON: one line naming the file, the reason and the fix", async () => {
    const fix = "delete it and run the command that writes it again";
    writeFileSync(join(dir, "plain.json.gz"), '{"a": 1}');
    await expect(readJsonGz(disk, join(dir, "plain.json.gz"))).rejects.toThrow(
      `${join(dir, "plain.json.gz")} is not gzip-compressed; ${fix}`,
    );
    const whole = gzipSync('{"a": 1}');
    writeFileSync(join(dir, "cut.json.gz"), whole.subarray(0, whole.length - 6));
    await expect(readJsonGz(disk, join(dir, "cut.json.gz"))).rejects.toThrow(
      `${join(dir, "cut.json.gz")} is damaged (unexpected end of file); ${fix}`,
    );
    writeFileSync(join(dir, "text.json.gz"), gzipSync("{nope"));
    await expect(readJsonGz(disk, join(dir, "text.json.gz"), "run cache-data again")).rejects.toThrow(
      /text\.json\.gz is damaged \(JSON Parse error: [^\n)]{4,}\); run cache-data again$/,
    );
  });

  test("gzip is told by both magic bytes", () => {
    expect(isGzip(Uint8Array.from([0x1f, 0x8b]))).toBe(true);
    for (const bytes of [[], [0x1f], [0x1f, 0x00], [0x00, 0x8b], [0x8b, 0x1f]]) expect(isGzip(Uint8Array.from(bytes))).toBe(false);
  });
});

describe("bounded gunzip", () => {
  test("output past maxBytes throws (a gzip bomb); up to it, and without a bound, it is whole", () => {
    const bomb = gzipSync(new Uint8Array(1 << 20));
    expect(() => gunzip(bomb, 1000)).toThrow();
    expect(gunzip(bomb, 1 << 20).length).toBe(1 << 20);
    expect(gunzip(bomb).length).toBe(1 << 20);
  });
});
