import { describe, expect, test } from "bun:test";
import { AGGREGATIONS, checkAggregations } from "../src/pipeline/dataset/aggregation.ts";
import { UsageError } from "../src/pipeline/errors.ts";

function python(script: string, ...args: string[]): string {
  const r = Bun.spawnSync(["/usr/bin/python3", "-c", script, ...args]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString();
}

// Columns like the ones build-dataset reduces, plus the awkward cases: zeros, negatives, one value,
// a NaN in the middle, only NaNs. JSON has no NaN, so null stands for it on the way to Python.
const COLUMNS: number[][] = [
  [12.5, 3.25, 0, 99.75, 47.1, 0, 3.25, 64.0625],
  [-1.5, 2, -3.75, 0.5, 1e6, -1e-3],
  [7],
  [0.1, Number.NaN, 5.5, 0, -2, 3],
  [Number.NaN, Number.NaN],
];

describe("aggregation functions give numpy's results", () => {
  const names = Object.keys(AGGREGATIONS);
  const want = JSON.parse(
    python(
      `import numpy as np, json, sys, warnings
warnings.simplefilter("ignore")
cols = [np.array([np.nan if v is None else v for v in c], dtype=np.float64) for c in json.loads(sys.argv[1])]
out = {}
for name in json.loads(sys.argv[2]):
    vals = [float(getattr(np, name)(c)) for c in cols]
    out[name] = [None if np.isnan(v) else v for v in vals]
print(json.dumps(out))`,
      JSON.stringify(COLUMNS.map((c) => c.map((v) => (Number.isNaN(v) ? null : v)))),
      JSON.stringify(names),
    ),
  ) as Record<string, (number | null)[]>;

  test("the reductions old scripts use are all there", () => {
    for (const name of ["amax", "amin", "ptp", "prod", "average", "nanmean", "nanstd", "nanmax", "nanmin", "nansum", "count_nonzero"])
      expect(checkAggregations([name])).toEqual([name]);
  });

  for (const name of names) {
    test(`np.${name}`, () => {
      const got = COLUMNS.map((c) => AGGREGATIONS[name]!(Float64Array.from(c)));
      got.forEach((v, i) => {
        const w = want[name]![i]!;
        if (w === null) expect(v).toBeNaN();
        else expect(Math.abs(v - w)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(w)));
      });
    });
  }

  test("a name numpy has no reduction for, or an object's own property, is a usage error", () => {
    for (const name of ["percentile", "constructor", "toString", "__proto__"]) expect(() => checkAggregations([name])).toThrow(UsageError);
  });
});
