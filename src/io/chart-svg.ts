// Small charts as SVG text: an x/y chart (scatter or line series, numeric or categorical y) and a
// grouped bar chart. Pure string building, no DOM and no library, so the compiled binary stays small
// and the same output can be rasterised by png.ts or kept as .svg.

interface XYSeries {
  name: string;
  /** [x, y] pairs; with `yCategories`, y is the category index */
  points: [number, number][];
  mode?: "markers" | "line";
}

interface XYChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: XYSeries[];
  /** names for y = 0, 1, ... (a categorical axis, e.g. classes) */
  yCategories?: string[];
  /** fixed y range (the original's normalised plots use [-1, 1]) */
  yRange?: [number, number];
  /** small random vertical spread of markers on a categorical axis, so overlapping points show as a band */
  jitter?: number;
  width?: number;
  height?: number;
}

interface BarChart {
  title: string;
  yLabel: string;
  /** one group of bars per category */
  categories: string[];
  /** one bar per series in each group: values[i] belongs to categories[i] */
  series: { name: string; values: number[] }[];
  yRange?: [number, number];
  width?: number;
  height?: number;
}

/** Colour-blind-safe (Okabe–Ito) palette. */
const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"];

const FONT = `font-family="DejaVu Sans, sans-serif"`;
const MARGIN = { left: 90, right: 30, top: 50, bottom: 60 };

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Round tick steps (1, 2, 5 × 10^k) giving about `count` ticks over [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

/** Data range plus a margin of `pad` × span on each side, so markers do not sit on the axes. */
function extent(values: number[], fallback: [number, number], pad = 0.04): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return fallback;
  if (lo === hi) return [lo - 1, hi + 1];
  const margin = (hi - lo) * pad;
  return [lo - margin, hi + margin];
}

interface Frame {
  width: number;
  height: number;
  plotW: number;
  plotH: number;
}

function frame(width: number, height: number): Frame {
  return { width, height, plotW: width - MARGIN.left - MARGIN.right, plotH: height - MARGIN.top - MARGIN.bottom };
}

function open(f: Frame, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${f.width / 2}" y="28" text-anchor="middle" font-size="16" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`,
  ];
}

function legend(names: string[]): string[] {
  // Each entry as wide as its name (about 6.5 px a character at this size), so long names do not overlap.
  let x = MARGIN.left + 10;
  const y = MARGIN.top - 8;
  return names.map((name, i) => {
    const entry = `<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 14}" y="${y}" font-size="11" ${FONT}>${escapeXml(name)}</text>`;
    x += Math.max(130, 14 + name.length * 6.5 + 24);
    return entry;
  });
}

function axisLabels(f: Frame, xLabel: string, yLabel: string): string[] {
  const cy = MARGIN.top + f.plotH / 2;
  return [
    `<text x="${MARGIN.left + f.plotW / 2}" y="${f.height - 15}" text-anchor="middle" font-size="13" ${FONT}>${escapeXml(xLabel)}</text>`,
    `<text x="18" y="${cy}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${cy})" ${FONT}>${escapeXml(yLabel)}</text>`,
  ];
}

function yAxis(f: Frame, ticks: { value: number; label: string }[], toY: (v: number) => number): string[] {
  const out = [`<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + f.plotH}" stroke="#333"/>`];
  for (const t of ticks) {
    const y = toY(t.value).toFixed(1);
    out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + f.plotW}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${y}" dy="4" text-anchor="end" font-size="11" ${FONT}>${escapeXml(t.label)}</text>`);
  }
  return out;
}

/** A deterministic jitter so the same data always draws the same picture. */
function jitterAt(i: number): number {
  const s = Math.sin(i * 12.9898) * 43758.5453;
  return (s - Math.floor(s)) * 2 - 1;
}

export function xyChartSvg(chart: XYChart): string {
  const f = frame(chart.width ?? 800, chart.height ?? 500);
  const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = chart.series.flatMap((s) => s.points.map((p) => p[1]));
  const [x0, x1] = extent(xs, [0, 1]);
  const categorical = chart.yCategories !== undefined;
  const [y0, y1] = categorical ? [-0.5, chart.yCategories!.length - 0.5] : (chart.yRange ?? extent(ys, [0, 1]));
  const toX = (v: number) => MARGIN.left + ((v - x0) / (x1 - x0)) * f.plotW;
  const toY = (v: number) => MARGIN.top + f.plotH - ((v - y0) / (y1 - y0)) * f.plotH;
  const out = open(f, chart.title);
  const yTicks = categorical
    ? chart.yCategories!.map((label, i) => ({ value: i, label }))
    : niceTicks(y0, y1).map((v) => ({ value: v, label: formatTick(v) }));
  out.push(...yAxis(f, yTicks, toY));
  out.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + f.plotH}" x2="${MARGIN.left + f.plotW}" y2="${MARGIN.top + f.plotH}" stroke="#333"/>`,
  );
  for (const t of niceTicks(x0, x1)) {
    const x = toX(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${MARGIN.top + f.plotH}" x2="${x}" y2="${MARGIN.top + f.plotH + 5}" stroke="#333"/>`);
    out.push(`<text x="${x}" y="${MARGIN.top + f.plotH + 18}" text-anchor="middle" font-size="11" ${FONT}>${formatTick(t)}</text>`);
  }
  const spread = chart.jitter ?? (categorical ? 0.25 : 0);
  chart.series.forEach((s, si) => {
    const colour = PALETTE[si % PALETTE.length];
    if (s.mode === "line") {
      const d = s.points.map((p, i) => `${i === 0 ? "M" : "L"}${toX(p[0]).toFixed(1)},${toY(p[1]).toFixed(1)}`).join("");
      out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
      return;
    }
    out.push(`<g fill="${colour}" fill-opacity="0.6">`);
    s.points.forEach((p, i) => {
      const y = p[1] + spread * jitterAt(si * 100003 + i);
      out.push(`<circle cx="${toX(p[0]).toFixed(1)}" cy="${toY(y).toFixed(1)}" r="3"/>`);
    });
    out.push(`</g>`);
  });
  out.push(...legend(chart.series.map((s) => s.name)), ...axisLabels(f, chart.xLabel, chart.yLabel), `</svg>`);
  return out.join("\n");
}

function barRange(values: number[]): [number, number] {
  const [a, b] = extent([0, ...values], [0, 1], 0);
  const lo = Math.min(0, a);
  return [lo, b + (b - lo) * 0.05];
}

/** Three significant digits: enough to tell bars apart, short enough to fit over one. */
function barValue(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

export function barChartSvg(chart: BarChart): string {
  const f = frame(chart.width ?? 800, chart.height ?? 500);
  const values = chart.series.flatMap((s) => s.values);
  // Bars grow from zero, so zero is always on the axis; headroom only above.
  const [lo, hi] = chart.yRange ?? barRange(values);
  const toY = (v: number) => MARGIN.top + f.plotH - ((v - lo) / (hi - lo)) * f.plotH;
  const out = open(f, chart.title);
  out.push(
    ...yAxis(
      f,
      niceTicks(lo, hi).map((v) => ({ value: v, label: formatTick(v) })),
      toY,
    ),
  );
  const groupW = f.plotW / Math.max(1, chart.categories.length);
  const barW = (groupW * 0.8) / Math.max(1, chart.series.length);
  chart.categories.forEach((category, ci) => {
    const gx = MARGIN.left + ci * groupW + groupW * 0.1;
    chart.series.forEach((s, si) => {
      const v = s.values[ci] ?? 0;
      const y = toY(Math.max(v, lo));
      const base = toY(Math.max(lo, Math.min(0, hi)));
      const x = gx + si * barW;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${Math.min(y, base).toFixed(1)}" width="${(barW * 0.95).toFixed(1)}" height="${Math.abs(base - y).toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"/>`,
        // The value on the bar: a reader should not have to guess it from the grid lines.
        `<text x="${(x + barW * 0.475).toFixed(1)}" y="${(Math.min(y, base) - 4).toFixed(1)}" text-anchor="middle" font-size="10" ${FONT}>${escapeXml(barValue(v))}</text>`,
      );
    });
    out.push(
      `<text x="${(gx + groupW * 0.4).toFixed(1)}" y="${MARGIN.top + f.plotH + 18}" text-anchor="middle" font-size="11" ${FONT}>${escapeXml(category)}</text>`,
    );
  });
  out.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + f.plotH}" x2="${MARGIN.left + f.plotW}" y2="${MARGIN.top + f.plotH}" stroke="#333"/>`,
  );
  out.push(...legend(chart.series.map((s) => s.name)), ...axisLabels(f, "", chart.yLabel), `</svg>`);
  return out.join("\n");
}
