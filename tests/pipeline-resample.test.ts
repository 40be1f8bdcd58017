import { describe, expect, test } from "bun:test";
import { BinMeans, dropIncompleteRows, resampleMean } from "../src/pipeline/dataset/resample.ts";
import { normalizedLength, parseSampleInterval } from "../src/pipeline/dataset/sample-interval.ts";
import { CimlError, UsageError } from "../src/pipeline/errors.ts";

function python(script: string, ...args: string[]): string {
  const r = Bun.spawnSync(["/usr/bin/python3", "-c", script, ...args]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString();
}

describe("sample interval and length", () => {
  test("L = ceil(5500 / seconds) as the original computed it", () => {
    const table: [string, number][] = [
      ["1s", 5500],
      ["10s", 550],
      ["30s", 184],
      ["1min", 92],
      ["5min", 19],
      ["10min", 10],
      ["T", 92],
      ["2T", 46],
      ["1h", 2],
      ["S", 5500],
    ];
    for (const [alias, L] of table) expect(normalizedLength(parseSampleInterval(alias))).toBe(L);
    expect(normalizedLength(null)).toBe(5500);
  });

  test("bad aliases are usage errors", () => {
    for (const bad of ["", "1", "min1", "0min", "1 d", "1ms", "fast"]) expect(() => parseSampleInterval(bad)).toThrow(UsageError);
  });
});

describe("what resampling promises beyond the pandas comparison", () => {
  const trace = (times: number[], ...columns: number[][]) => ({
    times: Float64Array.from(times),
    values: columns.map((c) => Float64Array.from(c)),
    rows: times.length,
  });
  const day = Date.UTC(2024, 4, 1);

  test("bin means are compensated sums, as pandas': one huge value does not swallow the small ones", () => {
    const out = resampleMean(
      trace(
        [0, 1, 2, 3, 4].map((s) => day + s * 1000),
        [1e16, 1, 1, 1, 1],
      ),
      60,
    );
    // A plain running sum loses every +1 (1e16 + 1 rounds back to 1e16) and gives 2e15.
    expect([...out.values[0]!]).toEqual([(1e16 + 4) / 5]);
  });

  test("rows without a time are left out, not put in the first bin", () => {
    const out = resampleMean(trace([day + 1000, Number.NaN, day + 2000, Number.POSITIVE_INFINITY], [1, 1000, 3, 2000]), 60);
    expect([...out.times]).toEqual([day]);
    expect([...out.values[0]!]).toEqual([2]);
  });

  test("bins start at midnight of the first sample's day and are labelled by their left edge", () => {
    const out = resampleMean(trace([day + 95_000, day + 130_000, day + 200_000], [1, 2, 3]), 60);
    expect([...out.times]).toEqual([day + 60_000, day + 120_000, day + 180_000]);
    expect(out.rows).toBe(3);
  });

  test("a trace without any time says what to do instead", () => {
    expect(() => resampleMean(trace([Number.NaN], [1]), 60)).toThrow(
      "the trace has no time column, so it cannot be resampled; build the dataset without --sample-interval",
    );
  });

  test("rows in falling time order are sorted first (no pair of neighbours is in order)", () => {
    // 1-minute bins from midnight: 200 s is bin 3 (180 s), 130 s bin 2 (120 s), 70 s and 65 s bin 1 (60 s).
    const out = resampleMean(trace([day + 200_000, day + 130_000, day + 70_000, day + 65_000], [1, 2, 3, 5]), 60);
    expect([...out.times]).toEqual([day + 60_000, day + 120_000, day + 180_000]);
    expect([...out.values[0]!]).toEqual([(3 + 5) / 2, 2, 1]);
  });

  test("rows handed over one at a time must come in time order (equal times may repeat); the others are refused", () => {
    const bins = new BinMeans(2, 60);
    expect(bins.add(day + 5000, [1, 2])).toBe(true);
    expect(bins.add(day + 5000, [3, Number.NaN])).toBe(true);
    expect(bins.add(Number.NaN, [100, 100])).toBe(true);
    expect(bins.add(day + 4999, [5, 6])).toBe(false);
    expect(bins.add(day + 61_000, [7, 8])).toBe(true);
    const out = bins.finish();
    expect([...out.times]).toEqual([day, day + 60_000]);
    expect(out.values.map((c) => [...c])).toEqual([
      [2, 7],
      [2, 8],
    ]);
  });

  test("a long trace's bins: each mean in its bin, however many bins (the means grow as bins come)", () => {
    const seconds = Array.from({ length: 300 }, (_, i) => i * 30 + 1);
    const out = resampleMean(
      trace(
        seconds.map((s) => day + s * 1000),
        seconds.map((_, i) => i),
        seconds.map((_, i) => -i),
      ),
      60,
    );
    expect(out.rows).toBe(150);
    expect([...out.times]).toEqual(Array.from({ length: 150 }, (_, b) => day + b * 60_000));
    expect([...out.values[0]!]).toEqual(Array.from({ length: 150 }, (_, b) => 2 * b + 0.5));
    expect([...out.values[1]!]).toEqual(Array.from({ length: 150 }, (_, b) => -(2 * b + 0.5)));
  });

  test("rows without a time, among rows out of order, are left out before the sort (they have no place in it)", () => {
    const times = [200, Number.NaN, 70, 65, Number.NaN, 130, 61, Number.NaN, 3, 250].map((s) => day + s * 1000);
    const out = resampleMean(trace(times, [1, 1000, 3, 5, 2000, 2, 7, 3000, 11, 13]), 60);
    expect([...out.times]).toEqual([0, 60_000, 120_000, 180_000, 240_000].map((ms) => day + ms));
    expect([...out.values[0]!]).toEqual([11, (3 + 5 + 7) / 3, 2, 1, 13]);
  });

  test("a bin's sums start again at zero: a later bin's mean holds only its own values", () => {
    const out = resampleMean(trace([day, day + 1000, day + 60_000, day + 61_000], [1e16, 3, 1, 2]), 60);
    expect([...out.values[0]!]).toEqual([(1e16 + 3) / 2, 1.5]);
  });

  test("dropIncompleteRows hands back a complete trace itself, not a copy (a long trace would be held twice)", () => {
    const complete = trace([1, 2], [1, 2], [3, 4]);
    expect(dropIncompleteRows(complete)).toBe(complete);
  });

  test("dropIncompleteRows keeps times and every column of the rows it keeps", () => {
    const out = dropIncompleteRows(trace([1, 2, 3, 4], [1, 2, Number.NaN, 4], [5, Number.NaN, 7, 8], [9, 10, 11, 12]));
    expect(out.rows).toBe(2);
    expect([...out.times]).toEqual([1, 4]);
    expect(out.values.map((c) => [...c])).toEqual([
      [1, 4],
      [5, 8],
      [9, 12],
    ]);
  });
});

describe("every sample interval alias", () => {
  test("each unit spelling, a count, and spaces around", () => {
    const seconds: [string, number][] = [
      ["1s", 1],
      ["1S", 1],
      ["1sec", 1],
      ["7sec", 7],
      ["1min", 60],
      ["1T", 60],
      ["1h", 3600],
      ["1H", 3600],
      ["3H", 10800],
      ["min", 60],
    ];
    for (const [alias, s] of seconds) expect(parseSampleInterval(alias)).toEqual({ alias, seconds: s });
    expect(parseSampleInterval(" 30s ")).toEqual({ alias: "30s", seconds: 30 });
  });

  test("a bad alias names itself and gives examples", () => {
    expect(() => parseSampleInterval("0min")).toThrow(
      '--sample-interval "0min" is not a pandas offset alias; use e.g. 1s, 10s, 30s, 1min, 5min, 10min or 1h',
    );
    for (const bad of ["x1min", "1minx", "1 min", "-1min"]) expect(() => parseSampleInterval(bad)).toThrow(`--sample-interval "${bad}"`);
  });
});

describe("resampleMean is pandas resample().mean().dropna()", () => {
  // Irregular times across midnight with a gap, out-of-order rows and NaN cells.
  const base = Date.UTC(2019, 0, 31, 23, 58, 50);
  const offsets = [0, 1, 3, 7, 2, 12, 30, 31, 95, 96, 97, 250, 251, 252, 253, 400];
  const a = [1, 2, 3, Number.NaN, 5, 6, 7, 8, 9, 10, 11, 12, Number.NaN, 14, 15, 16];
  const b = [0.5, Number.NaN, 1.5, 2.5, 3.5, Number.NaN, Number.NaN, Number.NaN, 4, 4.25, 1e9, 7, 8, 9, 10, 11];
  const times = Float64Array.from(offsets, (o) => base + o * 1000);

  const aliases = ["1s", "5s", "10s", "30s", "1min", "2min", "1h"];
  // pandas' answer for every alias from ONE python run (importing pandas costs a second or more), made by
  // the first test that asks. Mutation testing runs this file once per mutant and stops at the first failing
  // test: the exact tests above kill most mutants before any python starts (hence this block comes last).
  let pandasRead: Record<string, { t: number[]; a: number[]; b: number[] }> | undefined;
  const want = () => {
    pandasRead ??= JSON.parse(
      python(
        `import pandas as pd, numpy as np, json, sys
t = pd.to_datetime(json.loads(sys.argv[1]), unit="ms")
d = pd.DataFrame({"a": json.loads(sys.argv[2]), "b": json.loads(sys.argv[3])}, index=t).sort_index()
out = {}
for alias in json.loads(sys.argv[4]):
    r = d.resample(alias).mean().dropna()
    out[alias] = {"t": [int(x.value // 1000000) for x in r.index], "a": r["a"].tolist(), "b": r["b"].tolist()}
print(json.dumps(out))`,
        JSON.stringify([...times]),
        JSON.stringify(a.map((x) => (Number.isNaN(x) ? null : x))),
        JSON.stringify(b.map((x) => (Number.isNaN(x) ? null : x))),
        JSON.stringify(aliases),
      ),
    );
    return pandasRead!;
  };

  for (const alias of aliases) {
    test(alias, () => {
      const out = resampleMean(
        { times, values: [Float64Array.from(a), Float64Array.from(b)], rows: times.length },
        parseSampleInterval(alias).seconds,
      );
      const pandas = want()[alias]!;
      expect(pandas.t.length).toBeGreaterThan(0);
      expect([...out.times]).toEqual(pandas.t);
      expect([...out.values[0]!]).toEqual(pandas.a);
      expect([...out.values[1]!]).toEqual(pandas.b);
    });
  }

  test("no usable time: a clear error", () => {
    const nan = new Float64Array(3).fill(Number.NaN);
    expect(() => resampleMean({ times: nan, values: [new Float64Array(3)], rows: 3 }, 60)).toThrow(CimlError);
  });

  test("dropIncompleteRows drops rows with a NaN in any column", () => {
    const out = dropIncompleteRows({
      times: Float64Array.from([1, 2, 3]),
      values: [Float64Array.from([1, Number.NaN, 3]), Float64Array.from([4, 5, 6])],
      rows: 3,
    });
    expect([...out.times]).toEqual([1, 3]);
    expect([...out.values[1]!]).toEqual([4, 6]);
  });
});
