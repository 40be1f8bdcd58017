import { describe, expect, test } from "bun:test";
import { makeSplit, parseTdtSplit } from "../src/pipeline/dataset/dataset-split.ts";
import { pythonSlice } from "../src/pipeline/python-slice.ts";
import { UsageError } from "../src/pipeline/errors.ts";

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
