// --visualize: sizes_by_result — number of samples after resampling (before the length is
// fixed) against class, for the training set — as .svg and .png in --data-plots-folder.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../io/atomic-file.ts";
import { xyChartSvg } from "../../io/chart-svg.ts";
import { svgToPng } from "../../io/png.ts";
import { classDescription } from "./class-label.ts";

export async function writeSizesByResult(
  folder: string,
  lengths: number[],
  classes: string[],
  vocabulary: string[],
  interval: string | null,
  classLabel: string,
): Promise<string[]> {
  const svg = xyChartSvg({
    title: "Example length by result (training set)",
    xLabel: `samples after resampling${interval ? ` to ${interval}` : ""}, before padding/truncation`,
    yLabel: classLabel === "status" ? "status (0 = passed, 1 = failed)" : classLabel,
    yCategories: vocabulary,
    series: vocabulary.map((cls, ci) => ({
      name: `${classDescription(classLabel, cls)} (${classes.filter((c) => c === cls).length} runs)`,
      points: lengths.flatMap((len, i) => (classes[i] === cls ? [[len, ci] as [number, number]] : [])),
    })),
  });
  mkdirSync(folder, { recursive: true });
  const svgPath = join(folder, "sizes_by_result.svg");
  const pngPath = join(folder, "sizes_by_result.png");
  writeFileAtomic(svgPath, svg);
  writeFileAtomic(pngPath, await svgToPng(svg, 1.5));
  return [pngPath, svgPath];
}

/** --plot-examples: every per-example plot of one dataset in one folder, beside sizes_by_result. */
export function examplesFolder(plotsFolder: string, dataset: string): string {
  return join(plotsFolder, `${dataset}-examples`);
}

/** The original's name prefix; without resampling it had none (and crashed; docs/compatibility.md, "--visualize works without resampling"). */
function prefix(interval: string | null): string {
  return interval ?? "none";
}

async function writePng(path: string, svg: string): Promise<string> {
  writeFileAtomic(path, await svgToPng(svg));
  return path;
}

const index = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * The original's per-example plots, for one training example: the resampled frame, the same after padding or
 * truncation to L, and the unrolled vector. Under `<dataset>/plots/` of the target workspace (the
 * original always wrote them under its package's data folder).
 */
export async function writeExamplePlots(
  folder: string,
  interval: string | null,
  i: number,
  columns: string[],
  trace: { values: Float64Array[]; rows: number },
  raw: Float32Array | Float64Array,
  L: number,
): Promise<string[]> {
  mkdirSync(folder, { recursive: true });
  const p = prefix(interval);
  const line = (name: string, ys: ArrayLike<number>) => ({
    name,
    mode: "line" as const,
    points: index(ys.length).map((x) => [x, ys[x]!] as [number, number]),
  });
  return [
    await writePng(
      join(folder, `${p}_downsampled_${i}.png`),
      xyChartSvg({
        title: `Example ${i}: resampled (${trace.rows} samples)`,
        xLabel: "sample",
        yLabel: "value",
        series: columns.map((c, ci) => line(c, trace.values[ci]!)),
      }),
    ),
    await writePng(
      join(folder, `${p}_fixedsize_${i}.png`),
      xyChartSvg({
        title: `Example ${i}: fixed length ${L}`,
        xLabel: "sample",
        yLabel: "value",
        series: columns.map((c, ci) => line(c, raw.subarray(ci * L, (ci + 1) * L))),
      }),
    ),
    await writePng(
      join(folder, `${p}_unrolled_${i}.png`),
      xyChartSvg({ title: `Example ${i}: unrolled`, xLabel: "feature", yLabel: "value", series: [line("features", raw)] }),
    ),
  ];
}

/** The normalised vector of one training example, y fixed to [−1, 1] as in the original. */
export async function writeNormalizedPlot(
  folder: string,
  interval: string | null,
  i: number,
  example: Float32Array | Float64Array,
): Promise<string> {
  mkdirSync(folder, { recursive: true });
  const points = index(example.length).map((x) => [x, example[x]!] as [number, number]);
  return writePng(
    join(folder, `${prefix(interval)}_normalized_${i}.png`),
    xyChartSvg({
      title: `Example ${i}: normalised`,
      xLabel: "feature",
      yLabel: "value",
      yRange: [-1, 1],
      series: [{ name: "features", mode: "line", points }],
    }),
  );
}
