// --visualize (§6.9): sizes_by_result — number of samples after resampling (before the length is
// fixed) against class, for the training set — as .svg and .png in --data-plots-folder.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic-file.ts";
import { xyChartSvg } from "../io/chart-svg.ts";
import { svgToPng } from "../io/png.ts";

export async function writeSizesByResult(folder: string, lengths: number[], classes: string[], vocabulary: string[], interval: string | null): Promise<string[]> {
  const svg = xyChartSvg({
    title: "Example length by result (training set)",
    xLabel: `samples after resampling${interval ? ` to ${interval}` : ""}, before padding/truncation`,
    yLabel: "class",
    yCategories: vocabulary,
    series: vocabulary.map((cls, ci) => ({
      name: `${cls} (${classes.filter((c) => c === cls).length})`,
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
