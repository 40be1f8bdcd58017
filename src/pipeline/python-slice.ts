// The one way a command picks some of its runs: a Python slice, as the original's users write it.
// build-dataset (--slicer) and db-batch-predict (--slice) both select runs with it.
import { UsageError } from "./errors.ts";

/**
 * Python's `list[start:stop:step]` ("", ":5000", "100:", "::2", "-10:"). `flag` is the option the slice came
 * from (build-dataset's --slicer, db-batch-predict's --slice), so a bad one is named as the user typed it.
 */
export function pythonSlice<T>(items: T[], slicer: string, flag: "--slicer" | "--slice"): T[] {
  const parts = slicer.trim() === "" ? [""] : slicer.split(":");
  if (parts.length > 3 || parts.some((p) => p.trim() !== "" && !/^[-+]?\d+$/.test(p.trim()))) {
    throw new UsageError(`${flag} ${JSON.stringify(slicer)} is not a python slice; use start:stop[:step], e.g. :5000 or 100:200`);
  }
  const [a, b, c] = parts.map((p) => (p.trim() === "" ? undefined : Number(p)));
  if (parts.length === 1) {
    if (a === undefined) return [...items];
    throw new UsageError(`${flag} ${JSON.stringify(slicer)} is an index, not a slice; write ${a}:${a + 1}`);
  }
  const step = c ?? 1;
  if (step === 0) throw new UsageError(`${flag} step must not be zero`);
  const n = items.length;
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const norm = (v: number | undefined, dflt: number, lo: number, hi: number) => (v === undefined ? dflt : clamp(v < 0 ? v + n : v, lo, hi));
  const out: T[] = [];
  if (step > 0) {
    const start = norm(a, 0, 0, n);
    const stop = norm(b, n, 0, n);
    for (let i = start; i < stop; i += step) out.push(items[i]!);
  } else {
    const start = norm(a, n - 1, -1, n - 1);
    const stop = norm(b, -1, -1, n - 1);
    for (let i = start; i > stop; i += step) out.push(items[i]!);
  }
  return out;
}
