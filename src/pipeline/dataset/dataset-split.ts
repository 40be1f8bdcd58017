// How a dataset's runs split into training/dev/test, as the original split them.
import { existsSync } from "node:fs";
import { readJsonGz, writeJsonGz } from "../../io/gzip-json.ts";
import type { Workspace } from "../../io/workspace.ts";
import { CimlError, UsageError } from "../errors.ts";
import { seededRandom } from "../seeded-random.ts";

export interface TdtSplit {
  training: number;
  dev: number;
  test: number;
}

/** --tdt-split: three integers in tenths; the original's message when they do not sum to 10. */
export function parseTdtSplit(values: string[]): TdtSplit {
  if (values.length !== 3 || values.some((v) => !/^\d+$/.test(v))) {
    throw new UsageError(
      `--tdt-split needs three whole numbers (training dev test in tenths), e.g. --tdt-split 6 2 2; got ${JSON.stringify(values.join(" "))}`,
    );
  }
  const [t, d, s] = values.map(Number) as [number, number, number];
  if (t + d + s !== 10)
    throw new UsageError(`Training (${t}) + dev (${d}) + test (${s}) != 10; give tenths that sum to 10, e.g. --tdt-split 6 2 2`);
  return { training: t / 10, dev: d / 10, test: s / 10 };
}

/** The three sets a dataset's runs are split into, in the order they are built. */
export type SetName = "training" | "dev" | "test";
export const SET_NAMES: readonly SetName[] = ["training", "dev", "test"];

/** Per set, the positions of its runs in the dataset's run list. */
export type SplitIndices = Record<SetName, number[]>;

/** random.sample: k distinct items in random order (partial Fisher–Yates). */
function sample(pool: number[], k: number, random: () => number): number[] {
  const a = [...pool];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (a.length - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}

/** floor(N·t) training, floor(N·d) dev from the rest, test = what remains unless t + d = 1. */
export function makeSplit(size: number, split: TdtSplit, seed: number): SplitIndices {
  const random = seededRandom(seed);
  const all = Array.from({ length: size }, (_, i) => i);
  const training = sample(all, Math.floor(size * split.training), random);
  const taken = new Set(training);
  const dev = sample(
    all.filter((i) => !taken.has(i)),
    Math.floor(size * split.dev),
    random,
  );
  for (const i of dev) taken.add(i);
  const test = split.training + split.dev < 1 ? all.filter((i) => !taken.has(i)) : [];
  return { training, dev, test };
}

function isSplit(value: unknown, size: number): value is SplitIndices {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return SET_NAMES.every(
    (k) => Array.isArray(v[k]) && (v[k] as unknown[]).every((i) => Number.isInteger(i) && (i as number) >= 0 && (i as number) < size),
  );
}

/**
 * The shared `_splits/<N>/<t>_<d>.json.gz` if one exists (so datasets of the same size and ratio use
 * the same indices), else a new seeded split that is saved there.
 */
export function loadOrMakeSplit(
  ws: Workspace,
  size: number,
  split: TdtSplit,
  seed: number,
): { indices: SplitIndices; reused: boolean; path: string } {
  const path = ws.splits(size, split.training, split.dev);
  if (existsSync(path)) {
    const value = readJsonGz(path);
    if (!isSplit(value, size)) throw new CimlError(`${path} is not a split of ${size} runs; delete it to make a new one`);
    return { indices: value, reused: true, path };
  }
  const indices = makeSplit(size, split, seed);
  writeJsonGz(path, indices);
  return { indices, reused: false, path };
}
