// --aggregation-functions: numpy reductions by name, applied to each selected column.
// The original looked the name up on numpy, so old scripts use any reduction numpy has; these are the
// ones that take a column and give one number, with numpy's semantics: std and var are population
// (ddof=0), median averages the two middle values, a NaN makes the plain reductions NaN, and the nan*
// variants leave NaNs out (NaN when nothing is left; nansum and nanprod then give 0 and 1).
import { UsageError } from "../errors.ts";

type Aggregation = (values: Float64Array) => number;

function withoutNaN(v: Float64Array): Float64Array {
  return v.filter((x) => !Number.isNaN(x));
}

function sum(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return s;
}

function prod(v: Float64Array): number {
  let p = 1;
  for (let i = 0; i < v.length; i++) p *= v[i]!;
  return p;
}

function mean(v: Float64Array): number {
  return sum(v) / v.length;
}

function variance(v: Float64Array): number {
  const m = mean(v);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i]! - m) ** 2;
  return s / v.length;
}

function min(v: Float64Array): number {
  let m = Number.POSITIVE_INFINITY;
  for (let i = 0; i < v.length; i++) {
    if (Number.isNaN(v[i]!)) return Number.NaN; // as numpy: a NaN anywhere is the answer
    if (v[i]! < m) m = v[i]!;
  }
  return m;
}

function max(v: Float64Array): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < v.length; i++) {
    if (Number.isNaN(v[i]!)) return Number.NaN;
    if (v[i]! > m) m = v[i]!;
  }
  return m;
}

function median(v: Float64Array): number {
  if (v.some(Number.isNaN)) return Number.NaN;
  const s = Float64Array.from(v).sort();
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** numpy's argmax/argmin: the first index of the extreme value, or of the first NaN. */
function firstIndexOf(pick: Aggregation): Aggregation {
  return (v) => {
    const target = pick(v);
    return Number.isNaN(target) ? v.findIndex(Number.isNaN) : v.indexOf(target);
  };
}

const skippingNaN =
  (fn: Aggregation): Aggregation =>
  (v) =>
    fn(withoutNaN(v));

export const AGGREGATIONS: Record<string, Aggregation> = {
  mean,
  average: mean,
  std: (v) => Math.sqrt(variance(v)),
  var: variance,
  min,
  amin: min,
  max,
  amax: max,
  ptp: (v) => max(v) - min(v),
  size: (v) => v.length,
  sum,
  prod,
  median,
  argmax: firstIndexOf(max),
  argmin: firstIndexOf(min),
  count_nonzero: (v) => v.reduce((n, x) => (x !== 0 ? n + 1 : n), 0),
  nanmean: skippingNaN(mean),
  nanstd: skippingNaN((v) => Math.sqrt(variance(v))),
  nanvar: skippingNaN(variance),
  nanmin: skippingNaN((v) => (v.length === 0 ? Number.NaN : min(v))),
  nanmax: skippingNaN((v) => (v.length === 0 ? Number.NaN : max(v))),
  nansum: skippingNaN(sum),
  nanprod: skippingNaN(prod),
  nanmedian: skippingNaN((v) => (v.length === 0 ? Number.NaN : median(v))),
};

export function checkAggregations(names: string[]): string[] {
  for (const name of names) {
    if (!Object.hasOwn(AGGREGATIONS, name)) {
      throw new UsageError(`--aggregation-functions ${name} is not known; use any of ${Object.keys(AGGREGATIONS).join(", ")}`);
    }
  }
  return names;
}
