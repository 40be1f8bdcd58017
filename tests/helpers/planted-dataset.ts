// Small datasets in the original layout (training/dev/test/labels.npz + model_config.json.gz) with a
// planted signal: the class shifts the mean of a few features, everything else is noise. Raw values are
// normalised with the dataset's own training statistics, as build-dataset does, so two datasets drawn from
// the same distribution carry different normalisation parameters.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeJsonGz } from "../../src/io/gzip-json.ts";
import { stringArray, writeNpz, type NpyArray } from "../../src/io/npy.ts";
import { seededRandom } from "../../src/pipeline/seeded-random.ts";
import { disk } from "./disk.ts";

export interface PlantedOptions {
  features?: number;
  /** class names with their share of the examples; numbers are stored as int64 like `status` */
  classes?: { name: string | number; share: number }[];
  sizes?: { training: number; dev: number; test: number };
  seed?: number;
  /** how far apart the class means are on the informative features */
  separation?: number;
  classLabel?: string;
  /** raw offset and scale, so different datasets get different normalisation parameters */
  offset?: number;
  scale?: number;
  /** dtype of the stored examples: float32 (ciml's default) or float64 (the original's, `--dtype float64`) */
  dtype?: "<f4" | "<f8";
}

export const STATUS = [
  { name: 0, share: 0.7 },
  { name: 1, share: 0.3 },
];

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export async function writePlantedDataset(root: string, dataset: string, o: PlantedOptions = {}): Promise<{ labels: string[] }> {
  const features = o.features ?? 24;
  const classes = o.classes ?? STATUS;
  const sizes = o.sizes ?? { training: 600, dev: 150, test: 200 };
  const random = seededRandom(o.seed ?? 1);
  const separation = o.separation ?? 1.2;
  const offset = o.offset ?? 50;
  const scale = o.scale ?? 10;
  const labels = Array.from({ length: features }, (_, j) => `${j < features / 2 ? "usr" : "1m"}${j % Math.ceil(features / 2)}`);
  // Each class moves its own 3 features up; the other features are noise.
  const draw = (n: number) => {
    const x = new Float64Array(n * features);
    const y: (string | number)[] = [];
    for (let i = 0; i < n; i++) {
      let u = random();
      let c = 0;
      while (c < classes.length - 1 && u >= classes[c]!.share) u -= classes[c++]!.share;
      y.push(classes[c]!.name);
      for (let j = 0; j < features; j++) {
        const informative = Math.floor(j / 3) === c;
        x[i * features + j] = offset + scale * (gaussian(random) + (informative ? separation : 0));
      }
    }
    return { x, y };
  };
  // Test first: datasets with the same seed and test size share their raw test examples, whatever their
  // training size, so their test sets differ only in normalisation.
  const test = draw(sizes.test);
  const dev = draw(sizes.dev);
  const sets = { training: draw(sizes.training), dev, test };
  const params: Record<string, [number, number]> = {};
  labels.forEach((label, j) => {
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < sizes.training; i++) {
      const v = sets.training.x[i * features + j]!;
      sum += v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    params[label] = [sum / sizes.training, hi - lo || 1];
  });
  const dir = join(root, dataset);
  mkdirSync(dir, { recursive: true });
  const numeric = typeof classes[0]!.name === "number";
  for (const [split, { x, y }] of Object.entries(sets)) {
    if (y.length === 0) continue;
    const examples = o.dtype === "<f8" ? new Float64Array(x.length) : new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const [mean, range] = params[labels[i % features]!]!;
      examples[i] = (x[i]! - mean) / range;
    }
    const classArray: NpyArray = numeric
      ? { dtype: "<i8", shape: [y.length], data: BigInt64Array.from(y, (v) => BigInt(v)) }
      : stringArray(y.map(String));
    await writeNpz(disk, join(dir, `${split}.npz`), {
      examples: { dtype: o.dtype ?? "<f4", shape: [y.length, features], data: examples },
      example_ids: stringArray(
        y.map((_, i) => `${dataset}-${split}-${String(i).padStart(6, "0")}`.padEnd(36, "0").slice(0, 36)),
        36,
      ),
      classes: classArray,
    });
  }
  await writeNpz(disk, join(dir, "labels.npz"), { labels: stringArray(labels) });
  await writeJsonGz(disk, join(dir, "model_config.json.gz"), {
    build_name: "tempest-full",
    sample_interval: "1min",
    features_regex: "(usr|1m)",
    class_label: o.classLabel ?? (numeric ? "status" : "node_provider"),
    aggregation_functions: [],
    training_set: 0.6,
    dev_set: 0.2,
    test_set: 0.2,
    normalized_length: Math.ceil(features / 2),
    labels,
    num_columns: 2,
    num_features: features,
    normalization_params: params,
  });
  return { labels };
}
