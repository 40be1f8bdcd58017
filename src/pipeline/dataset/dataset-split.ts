// How a dataset's runs split into training/dev/test, as the original split them.
import { z } from "zod";
import { checkFile } from "../../io/checked-file.ts";
import { readJsonGz, writeJsonGz } from "../../io/gzip-json.ts";
import { readRunMetadata } from "../../io/raw-cache.ts";
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

/** --split-order time: runs already ordered oldest first; training the oldest, dev next, test the newest. */
export function chronologicalSplit(size: number, split: TdtSplit): SplitIndices {
  const nt = Math.floor(size * split.training);
  const nd = Math.floor(size * split.dev);
  const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
  return { training: range(0, nt), dev: range(nt, nt + nd), test: split.training + split.dev < 1 ? range(nt + nd, size) : [] };
}

export type SplitOrder = "random" | "time";

/**
 * --split-order time: the cached runs ordered by their run_at, oldest first (ties by id). Runs cached
 * without a start time cannot be placed in time: they are left out and counted.
 */
export async function oldestFirst(cache: Workspace, runs: string[]): Promise<{ runs: string[]; untimed: number }> {
  const timed: [string, string][] = [];
  let untimed = 0;
  // In batches of the reads the store takes at once: on S3 each metadata file is a round trip.
  const batch = Math.max(1, cache.store.readsInFlight);
  for (let i = 0; i < runs.length; i += batch) {
    const some = runs.slice(i, i + batch);
    const metadata = await Promise.all(some.map((run) => readRunMetadata(cache, run)));
    some.forEach((run, j) => {
      const at = metadata[j]?.run_at;
      if (typeof at === "string" && at !== "") timed.push([at, run]);
      else untimed++;
    });
  }
  if (timed.length === 0)
    throw new CimlError(
      "--split-order time: no cached run has a run_at; run cache-data again (it records start times) or use --split-order random",
    );
  timed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
  return { runs: timed.map(([, run]) => run), untimed };
}

export function parseSplitOrder(value: string | undefined): SplitOrder {
  if (value === undefined || value === "" || value === "random") return "random";
  if (value === "time") return "time";
  throw new UsageError(`--split-order ${value}: give random (seeded, the default) or time (oldest runs train, newest test)`);
}

/** A split file of `size` runs: three lists of run positions, each below `size`. */
function splitSchema(size: number) {
  const positions = z.array(
    z
      .number()
      .int()
      .min(0)
      .max(size - 1, `must be a run position below ${size}`),
  );
  return z.object({ training: positions, dev: positions, test: positions });
}

/**
 * The shared `_splits/<N>/<t>_<d>.json.gz` if one exists (so datasets of the same size and ratio use
 * the same indices), else a new seeded split that is saved there.
 */
export async function loadOrMakeSplit(
  ws: Workspace,
  size: number,
  split: TdtSplit,
  seed: number,
): Promise<{ indices: SplitIndices; reused: boolean; path: string }> {
  const path = ws.splits(size, split.training, split.dev);
  const fix = "delete it to make a new one";
  const found = await readJsonGz(ws.store, path, fix);
  if (found !== undefined) return { indices: checkFile(splitSchema(size), found, path, fix), reused: true, path };
  const indices = makeSplit(size, split, seed);
  await writeJsonGz(ws.store, path, indices);
  return { indices, reused: false, path };
}
