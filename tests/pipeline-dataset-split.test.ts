import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { writeJsonGz } from "../src/io/gzip-json.ts";
import { writeRunMetadata } from "../src/io/raw-cache.ts";
import { Workspace } from "../src/io/workspace.ts";
import {
  chronologicalSplit,
  loadOrMakeSplit,
  makeSplit,
  oldestFirst,
  parseSplitOrder,
  parseTdtSplit,
  SET_NAMES,
} from "../src/pipeline/dataset/dataset-split.ts";
import { CimlError, UsageError } from "../src/pipeline/errors.ts";
import { disk } from "./helpers/disk.ts";
import { pythonSlice } from "../src/pipeline/python-slice.ts";

const dir = mkdtempSync(join(tmpdir(), "ciml-split-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function python(script: string, ...args: string[]): string {
  const r = Bun.spawnSync(["/usr/bin/python3", "-c", script, ...args]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString();
}

describe("slicer and split", () => {
  test("pythonSlice matches Python list slicing", () => {
    const items = Array.from({ length: 12 }, (_, i) => i);
    const slices = [":", "", ":5", "3:", "2:9", "::2", "1::3", "-4:", ":-3", "-5:-1", "::-1", "8:2:-2", "20:", ":100", "-100:3"];
    const want = JSON.parse(
      python(
        `import json,sys; x=list(range(12)); print(json.dumps([eval("x["+s+"]") if s else x[:] for s in json.loads(sys.argv[1])]))`,
        JSON.stringify(slices),
      ),
    );
    expect(slices.map((s) => pythonSlice(items, s, "--slicer"))).toEqual(want);
    expect(() => pythonSlice(items, "a:b", "--slicer")).toThrow(UsageError);
    expect(() => pythonSlice(items, "::0", "--slicer")).toThrow(UsageError);
    expect(() => pythonSlice(items, "1:2:3:4", "--slicer")).toThrow(UsageError);
    // Each command's message names the flag its user typed.
    expect(() => pythonSlice(items, "a:b", "--slice")).toThrow('--slice "a:b" is not a python slice');
    expect(() => pythonSlice(items, "3", "--slicer")).toThrow('--slicer "3" is an index, not a slice; write 3:4');
  });

  test("split sizes follow floor(N·t), floor(N·d), rest; disjoint and complete", () => {
    for (const [n, tdt] of [
      [10, ["6", "2", "2"]],
      [7, ["7", "0", "3"]],
      [13, ["5", "5", "0"]],
      [1, ["6", "2", "2"]],
    ] as [number, string[]][]) {
      const split = parseTdtSplit(tdt);
      const s = makeSplit(n, split, 1);
      expect(s.training.length).toBe(Math.floor(n * split.training));
      expect(s.dev.length).toBe(Math.floor(n * split.dev));
      const all = [...s.training, ...s.dev, ...s.test];
      expect(new Set(all).size).toBe(all.length);
      if (split.training + split.dev < 1) expect(all.sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      else expect(s.test).toEqual([]);
    }
    expect(makeSplit(50, parseTdtSplit(["6", "2", "2"]), 3)).toEqual(makeSplit(50, parseTdtSplit(["6", "2", "2"]), 3));
  });

  test("tdt values that are not three whole numbers are usage errors", () => {
    expect(() => parseTdtSplit(["6", "2"])).toThrow(UsageError);
    expect(() => parseTdtSplit(["6", "x", "2"])).toThrow(UsageError);
  });
});

/** The message of what `run` throws, checked to be a usage error (exit 2). */
function usageProblem(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error("accepted");
}

describe("--tdt-split", () => {
  test("tenths become fractions", () => {
    expect(parseTdtSplit(["6", "2", "2"])).toEqual({ training: 0.6, dev: 0.2, test: 0.2 });
    expect(parseTdtSplit(["10", "0", "0"])).toEqual({ training: 1, dev: 0, test: 0 });
  });

  test("anything but three whole numbers names the flag and echoes what was given", () => {
    for (const values of [
      ["6", "2"],
      ["6", "2", "2", "0"],
      ["6", "x", "2"],
      ["6", "2", "-2"],
      ["6.5", "2", "1"],
      ["a6", "2", "2"],
      ["6a", "2", "2"],
      ["x", "y", "z"],
    ]) {
      const message = usageProblem(() => parseTdtSplit(values));
      expect(message).toContain("--tdt-split needs three whole numbers");
      expect(message).toContain(JSON.stringify(values.join(" ")));
    }
  });

  test("tenths that do not sum to 10: the original's message", () => {
    expect(usageProblem(() => parseTdtSplit(["6", "2", "1"]))).toStartWith("Training (6) + dev (2) + test (1) != 10;");
    expect(usageProblem(() => parseTdtSplit(["16", "2", "2"]))).toStartWith("Training (16) + dev (2) + test (2) != 10;");
  });
});

describe("random split", () => {
  test("every run is equally likely to land in training, whatever its position", () => {
    const inTraining = new Array(10).fill(0);
    for (let seed = 0; seed < 2000; seed++) for (const i of makeSplit(10, parseTdtSplit(["6", "2", "2"]), seed).training) inTraining[i]++;
    // 60 % of 2000 draws = 1200 per run; a split that favours early or late runs is far outside ±10 %.
    for (const count of inTraining) expect(Math.abs(count - 1200)).toBeLessThan(120);
  });

  test("a seed names one split; another seed another", () => {
    const split = parseTdtSplit(["6", "2", "2"]);
    expect(makeSplit(50, split, 7)).toEqual(makeSplit(50, split, 7));
    expect(makeSplit(50, split, 7)).not.toEqual(makeSplit(50, split, 8));
  });
});

describe("--split-order", () => {
  test("random is the default; time is time; anything else names the choices", () => {
    expect(parseSplitOrder(undefined)).toBe("random");
    expect(parseSplitOrder("")).toBe("random");
    expect(parseSplitOrder("random")).toBe("random");
    expect(parseSplitOrder("time")).toBe("time");
    expect(usageProblem(() => parseSplitOrder("oldest"))).toBe(
      "--split-order oldest: give random (seeded, the default) or time (oldest runs train, newest test)",
    );
  });

  test("chronological: the oldest runs train, the next are dev, the newest test", () => {
    expect(chronologicalSplit(10, parseTdtSplit(["6", "2", "2"]))).toEqual({ training: [0, 1, 2, 3, 4, 5], dev: [6, 7], test: [8, 9] });
    expect(chronologicalSplit(7, parseTdtSplit(["5", "2", "3"]))).toEqual({ training: [0, 1, 2], dev: [3], test: [4, 5, 6] });
    // training + dev = 1: no test set, as with the random split.
    expect(chronologicalSplit(5, parseTdtSplit(["8", "2", "0"]))).toEqual({ training: [0, 1, 2, 3], dev: [4], test: [] });
    expect(chronologicalSplit(3, parseTdtSplit(["10", "0", "0"]))).toEqual({ training: [0, 1, 2], dev: [], test: [] });
    // Rounding down leaves run 6 out of both; with no test set it is used by none.
    expect(chronologicalSplit(7, parseTdtSplit(["8", "2", "0"]))).toEqual({ training: [0, 1, 2, 3, 4], dev: [5], test: [] });
  });

  test("runs in order of run_at, ties by id; runs without a run_at are left out and counted", async () => {
    const ws = new Workspace(join(dir, "order"));
    const meta = (runAt: unknown) => ({ status: 0 as const, artifact: null, ...(runAt === undefined ? {} : { run_at: runAt as string }) });
    await writeRunMetadata(ws, "r-late", meta("2024-03-02 10:00:00"));
    await writeRunMetadata(ws, "r-early", meta("2024-01-05 09:00:00"));
    await writeRunMetadata(ws, "r-tie-b", meta("2024-02-01 00:00:00"));
    await writeRunMetadata(ws, "r-tie-a", meta("2024-02-01 00:00:00"));
    await writeRunMetadata(ws, "r-empty", meta(""));
    await writeRunMetadata(ws, "r-none", meta(undefined));
    await writeRunMetadata(ws, "r-number", meta(null));
    // "r-missing" has no metadata file at all.
    const runs = ["r-late", "r-empty", "r-tie-b", "r-missing", "r-early", "r-none", "r-tie-a", "r-number"];
    expect(await oldestFirst(ws, runs)).toEqual({ runs: ["r-early", "r-tie-a", "r-tie-b", "r-late"], untimed: 4 });
    expect((await oldestFirst(ws, ["r-tie-a", "r-tie-b"])).runs).toEqual(["r-tie-a", "r-tie-b"]);
    expect((await oldestFirst(ws, ["r-tie-b", "r-tie-a"])).runs).toEqual(["r-tie-a", "r-tie-b"]);
    // Time wins over the id: the newest run sorts last even when its id sorts first.
    await writeRunMetadata(ws, "a-newest", meta("2025-01-01 00:00:00"));
    await writeRunMetadata(ws, "z-oldest", meta("2023-01-01 00:00:00"));
    expect((await oldestFirst(ws, ["a-newest", "r-late", "z-oldest", "r-early"])).runs).toEqual([
      "z-oldest",
      "r-early",
      "r-late",
      "a-newest",
    ]);
    expect((await oldestFirst(ws, ["z-oldest", "a-newest"])).runs).toEqual(["z-oldest", "a-newest"]);
  });

  test("no run with a run_at: one line saying how to get them", async () => {
    const ws = new Workspace(join(dir, "untimed"));
    await writeRunMetadata(ws, "r1", { status: 1, artifact: null });
    let caught: unknown;
    try {
      await oldestFirst(ws, ["r1", "r2"]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CimlError);
    expect((caught as Error).message).toBe(
      "--split-order time: no cached run has a run_at; run cache-data again (it records start times) or use --split-order random",
    );
  });
});

describe("shared split files", () => {
  test("the first dataset of a size and ratio saves its split; the next reuses it exactly", async () => {
    const ws = new Workspace(join(dir, "shared"));
    const split = parseTdtSplit(["6", "2", "2"]);
    const first = await loadOrMakeSplit(ws, 20, split, 1);
    expect(first.reused).toBe(false);
    expect(first.path).toBe(ws.splits(20, 0.6, 0.2));
    expect(existsSync(first.path)).toBe(true);
    expect(first.indices).toEqual(makeSplit(20, split, 1));
    // Another seed would draw another split: the saved one wins.
    const again = await loadOrMakeSplit(ws, 20, split, 99);
    expect(again).toEqual({ indices: first.indices, reused: true, path: first.path });
    expect(SET_NAMES).toEqual(["training", "dev", "test"]);
  });

  test("a split file naming a run position past the dataset is refused with the file and the fix", async () => {
    const ws = new Workspace(join(dir, "bad"));
    const path = ws.splits(4, 0.6, 0.2);
    mkdirSync(dirname(path), { recursive: true });
    await writeJsonGz(disk, path, { training: [0, 1], dev: [4], test: [3] });
    await expect(loadOrMakeSplit(ws, 4, parseTdtSplit(["6", "2", "2"]), 1)).rejects.toThrow(
      /must be a run position below 4.*delete it to make a new one/,
    );
    await writeJsonGz(disk, path, { training: [0, -1], dev: [2], test: [3] });
    await expect(loadOrMakeSplit(ws, 4, parseTdtSplit(["6", "2", "2"]), 1)).rejects.toThrow(path);
    await writeJsonGz(disk, path, { training: [0, 1, 3], dev: [2], test: [] });
    expect((await loadOrMakeSplit(ws, 4, parseTdtSplit(["6", "2", "2"]), 1)).indices.training).toEqual([0, 1, 3]);
    writeFileSync(path, "not gzip");
    await expect(loadOrMakeSplit(ws, 4, parseTdtSplit(["6", "2", "2"]), 1)).rejects.toThrow("delete it to make a new one");
  });
});
