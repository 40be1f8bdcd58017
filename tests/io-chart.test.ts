import { describe, expect, test } from "bun:test";
import { barChartSvg, niceTicks, xyChartSvg } from "../src/io/chart-svg.ts";
import { PNG_SIGNATURE, svgToPng } from "../src/io/png.ts";

function python(script: string, input: string): string {
  const r = Bun.spawnSync(["/usr/bin/python3", "-c", script], { stdin: new TextEncoder().encode(input) });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString();
}

const wellFormed =
  "import sys,xml.etree.ElementTree as E; r=E.fromstring(sys.stdin.read()); ns='{http://www.w3.org/2000/svg}'; print(r.tag==ns+'svg', len(r.findall('.//'+ns+'circle')), len(r.findall('.//'+ns+'rect')), len(r.findall('.//'+ns+'path')))";

describe("chart SVG", () => {
  test("x/y chart: one marker per point, line series as paths, names escaped", () => {
    const svg = xyChartSvg({
      title: 'a < b & "c"',
      xLabel: "x",
      yLabel: "y",
      series: [
        {
          name: "<one>",
          points: [
            [1, 2],
            [3, 4],
            [5, -1],
          ],
        },
        {
          name: "two",
          points: [
            [0, 0],
            [10, 10],
          ],
          mode: "line",
        },
      ],
    });
    expect(python(wellFormed, svg).trim()).toBe("True 3 3 1");
    expect(svg).toContain("a &lt; b &amp; &quot;c&quot;");
  });

  test("bar chart: one bar per value, empty input still draws", () => {
    const svg = barChartSvg({
      title: "t",
      yLabel: "v",
      categories: ["a", "b", "c"],
      series: [
        { name: "s1", values: [1, 2, 3] },
        { name: "s2", values: [0.5, -1, 2] },
      ],
    });
    // background + 6 bars + 2 legend swatches
    expect(python(wellFormed, svg).trim()).toBe("True 0 9 0");
    expect(python(wellFormed, xyChartSvg({ title: "empty", xLabel: "", yLabel: "", series: [] })).trim()).toBe("True 0 1 0");
  });

  test("ticks are round numbers covering the range", () => {
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(-1, 1, 4)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });
});

test("svgToPng gives a PNG of the SVG's size times the scale", async () => {
  const svg = xyChartSvg({ title: "png", xLabel: "x", yLabel: "y", series: [{ name: "s", points: [[1, 1]] }], width: 400, height: 300 });
  for (const scale of [1, 2]) {
    const png = Buffer.from(await svgToPng(svg, scale));
    expect([...png.subarray(0, 8)]).toEqual([...PNG_SIGNATURE]);
    expect(png.readUInt32BE(16)).toBe(400 * scale);
    expect(png.readUInt32BE(20)).toBe(300 * scale);
  }
});
