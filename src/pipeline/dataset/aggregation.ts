// --aggregation-functions: numpy functions by name, applied to each selected column.
// numpy semantics: std and var are population (ddof=0), median averages the two middle values.
import { UsageError } from "../errors.ts";

type Aggregation = (values: Float64Array) => number;

function mean(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return s / v.length;
}

function variance(v: Float64Array): number {
  const m = mean(v);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i]! - m) ** 2;
  return s / v.length;
}

export const AGGREGATIONS: Record<string, Aggregation> = {
  mean,
  std: (v) => Math.sqrt(variance(v)),
  var: variance,
  min: (v) => v.reduce((a, b) => Math.min(b, a), Number.POSITIVE_INFINITY),
  max: (v) => v.reduce((a, b) => Math.max(b, a), Number.NEGATIVE_INFINITY),
  size: (v) => v.length,
  sum: (v) => v.reduce((a, b) => a + b, 0),
  median: (v) => {
    const s = Float64Array.from(v).sort();
    const mid = s.length >> 1;
    return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  },
};

export function checkAggregations(names: string[]): string[] {
  for (const name of names) {
    if (!(name in AGGREGATIONS)) {
      throw new UsageError(`--aggregation-functions ${name} is not known; use any of ${Object.keys(AGGREGATIONS).join(", ")}`);
    }
  }
  return names;
}
