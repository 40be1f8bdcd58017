import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { commitTemp, sweepTemps, writeFileAtomic, writeTemp } from "../src/io/atomic-file.ts";
import { readJsonGz, writeJsonGz } from "../src/io/gzip-json.ts";
import { nameProblem } from "../src/io/names.ts";
import { readRunList, writeRunList } from "../src/io/raw-cache.ts";
import { resolveDataPath, Workspace, WorkspaceError } from "../src/io/workspace.ts";
import { readDatasetConfig } from "../src/pipeline/dataset/dataset-config.ts";
import { disk } from "./helpers/disk.ts";

const dir = mkdtempSync(join(tmpdir(), "ciml-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("atomic writes", () => {
  test("a crash between temp write and rename leaves the old file intact, and the temp is swept", () => {
    const target = join(dir, "model_config.json.gz");
    writeFileAtomic(target, "old");
    // The first half of a write happens, then the process "dies" before commitTemp.
    const temp = writeTemp(target, "new but never committed");
    expect(readFileSync(target, "utf8")).toBe("old");
    expect(existsSync(temp)).toBe(true);
    expect(sweepTemps(dir)).toBe(1);
    expect(existsSync(temp)).toBe(false);
    writeFileAtomic(target, "newer");
    expect(readFileSync(target, "utf8")).toBe("newer");
    expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  test("commitTemp replaces the target in one step", () => {
    const target = join(dir, "a.bin");
    writeFileSync(target, "A");
    const temp = writeTemp(target, new Uint8Array([1, 2, 3]));
    commitTemp(temp, target);
    expect([...readFileSync(target)]).toEqual([1, 2, 3]);
  });
});

describe("gzip JSON", () => {
  const value = {
    status: 1,
    artifact: "http://logs.example/12/345/1/gate/tempest-full/abc",
    build_name: "tempest-full",
    list: [1.5, -2, null],
    nested: { ключ: "värde" },
  };

  test("round trips", async () => {
    const p = join(dir, "x.json.gz");
    await writeJsonGz(disk, p, value);
    expect(await readJsonGz(disk, p)).toEqual(value);
    expect(await readJsonGz(disk, join(dir, "missing.json.gz"))).toBeUndefined();
  });

  test("Python's gzip + json read what we write", async () => {
    const p = join(dir, "py.json.gz");
    await writeJsonGz(disk, p, value);
    const py = Bun.spawnSync([
      "python3",
      "-c",
      "import gzip, json, sys; print(json.dumps(json.load(gzip.open(sys.argv[1], 'rt', encoding='utf-8')), sort_keys=True))",
      p,
    ]);
    expect(py.exitCode).toBe(0);
    expect(JSON.parse(py.stdout.toString())).toEqual(value);
  });

  test("a corrupt file throws instead of reading as empty", async () => {
    const p = join(dir, "corrupt.json.gz");
    writeFileSync(p, "not gzip at all");
    await expect(readJsonGz(disk, p)).rejects.toThrow();
  });

  test("a damaged model_config.json.gz is named in the one line that reports it", async () => {
    const ws = new Workspace(join(dir, "damaged"));
    const path = ws.datasetFile("ds", "model_config.json.gz");
    mkdirSync(dirname(path), { recursive: true });
    const good = gzipSync(Buffer.from(JSON.stringify({ labels: ["usr0"], normalized_length: 1 })));
    for (const bytes of [Buffer.from("not gzip at all"), good.subarray(0, good.length - 6), gzipSync(Buffer.from("{ not json"))]) {
      writeFileSync(path, bytes);
      await expect(readDatasetConfig(ws, "ds")).rejects.toThrow(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} `));
    }
  });

  test("run lists are stored sorted and de-duplicated", async () => {
    const p = join(dir, ".raw", "tempest-full.json.gz");
    await writeRunList(disk, p, ["c", "a", "b", "a"]);
    expect(await readRunList(disk, p)).toEqual(["a", "b", "c"]);
  });
});

describe("names that become paths", () => {
  test.each([
    ["dataset", "../etc"],
    ["dataset", "a/b"],
    ["experiment", "a\\b"],
    ["build name", ".."],
    ["build name", ".raw"],
    ["dataset", "_splits"],
    ["experiment", "bad\nname"],
    ["dataset", ""],
  ] as const)("%s %j is rejected", (kind, name) => {
    expect(nameProblem(kind, name)).not.toBeNull();
    const ws = new Workspace(dir);
    const use = () => (kind === "dataset" ? ws.datasetDir(name) : kind === "experiment" ? ws.experimentDir(name) : ws.buildRuns(name));
    expect(use).toThrow(WorkspaceError);
  });

  test("the message names the thing and what to use instead", () => {
    expect(() => new Workspace(dir).datasetDir("../x")).toThrow(/dataset "..\/x" contains a path separator: choose a plain name/);
  });

  test.each(["tempest-full", "usr_1m-1min-status", "dnn-3x100-500epochs-bs128", "tempest-full-py3"])("%s is accepted", (name) => {
    expect(nameProblem("dataset", name)).toBeNull();
  });

  test("run ids from the database are checked before they name files", () => {
    expect(() => new Workspace(dir).rawTrace("../../etc/passwd")).toThrow(WorkspaceError);
  });
});

describe("data path", () => {
  test("the given path, else ./data, relative to the CWD", () => {
    expect(resolveDataPath("ws", "/home/u")).toBe("/home/u/ws");
    expect(resolveDataPath("/srv/ciml", "/home/u")).toBe("/srv/ciml");
    expect(resolveDataPath(undefined, "/home/u")).toBe("/home/u/data");
  });

  test("s3:// paths are kept as they are; other schemes are refused without echoing credentials", () => {
    expect(resolveDataPath("s3://cimlrawdata/team", "/")).toBe("s3://cimlrawdata/team");
    expect(() => resolveDataPath("https://user:secret@host/x", "/")).toThrow(
      "data path https://***@host/x: only local directories and s3://BUCKET[/PREFIX] are supported",
    );
  });

  test("splits use Python's float formatting", () => {
    const ws = new Workspace("/d");
    expect(ws.splits(3955, 0.6, 0.2)).toBe("/d/_splits/3955/0.6_0.2.json.gz");
    expect(ws.splits(100, 0.7, 0)).toBe("/d/_splits/100/0.7_0.0.json.gz");
  });
});
