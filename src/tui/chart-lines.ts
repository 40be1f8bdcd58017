// Progress bars, histograms and training curves as lines of a given width. The live region and the
// scrollback draw the same pictures; only the live region has to fit a height too.
import type { EpochEvent, HistogramEvent, ProgressEvent } from "../pipeline/events.ts";
import { formatBytes, formatDuration, formatNumber } from "./format.ts";
import { flowCells, type Line, lineWidth, textWidth, truncateLine, truncateMiddle, truncateText } from "./line.ts";
import { sparkline } from "./sparkline.ts";

const SERIES_COLOURS = ["green", "red", "cyan", "yellow", "magenta", "blue"] as const;
const MIN_BAR = 10;
const MAX_BAR = 40;
/** Histogram bars stop growing here: on a wide terminal a longer bar says nothing more. */
const MAX_HISTOGRAM_BAR = 50;

function colourOf(i: number): string {
  return SERIES_COLOURS[i % SERIES_COLOURS.length]!;
}

function bar(fraction: number, width: number, colour: string): Line {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return [
    { text: "█".repeat(filled), color: colour },
    { text: "░".repeat(width - filled), dim: true },
  ];
}

/** Figures beside a bar, most important first: the rest are dropped when the line is short. */
function fitParts(parts: string[], room: number): string {
  const kept: string[] = [];
  for (const p of parts) {
    const next = [...kept, p].join("  ");
    if (textWidth(next) > room && kept.length > 0) break;
    kept.push(p);
  }
  return truncateText(kept.join("  "), room);
}

/** `███░░░ 52/120 runs 43%  17.2/s  ETA 4s`: the bar shrinks before a figure is dropped. */
export function progressBarLine(p: ProgressEvent, width: number, indent = 2): Line {
  const count = `${p.done}${p.total !== null ? `/${p.total}` : ""} ${p.unit}${p.total ? ` ${Math.floor((100 * p.done) / p.total)}%` : ""}`;
  const parts = [count];
  if (p.etaSeconds !== undefined && p.total !== null && p.done < p.total) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  if (p.rate !== undefined) parts.push(`${formatNumber(p.rate)}/s`);
  if (p.bytes !== undefined) parts.push(formatBytes(p.bytes));
  const room = width - indent;
  const pad: Line = [{ text: " ".repeat(indent) }];
  if (!p.total) return [...pad, { text: fitParts(parts, room) }];
  const text = fitParts(parts, room - MIN_BAR - 1);
  const barWidth = Math.min(MAX_BAR, room - textWidth(text) - 1);
  if (barWidth < MIN_BAR) return [...pad, { text: fitParts(parts, room) }];
  return [...pad, ...bar(p.done / p.total, barWidth, "cyan"), { text: ` ${text}` }];
}

/** The tallies (`cached 51  unavailable 1`), wrapped between cells, never inside one. */
export function countLines(p: ProgressEvent, width: number, indent = 2): Line[] {
  const cells: Line[] = Object.entries(p.counts ?? {}).map(([k, v]) => [{ text: `${k} ` }, { text: String(v), bold: true }]);
  return flowCells(cells, width, indent);
}

export function currentLines(p: ProgressEvent, width: number, indent = 2): Line[] {
  return (p.current ?? []).map((c) => [{ text: `${" ".repeat(indent)}↓ ${truncateMiddle(c, width - indent - 2)}`, dim: true }]);
}

/** Title with its legend (kept whole; the title is cut first), then one bar per bin. */
export function histogramLines(h: HistogramEvent, width: number): Line[] {
  const legend: Line = h.series.flatMap((name, i) => [{ text: "  " }, { text: `■ ${name}`, color: colourOf(i) }]);
  const title: Line = [{ text: truncateText(h.title, Math.max(8, width - lineWidth(legend))), bold: true }, ...legend];
  const totals = h.bins.map((b) => b.counts.reduce((a, c) => a + c, 0));
  const max = Math.max(1, ...totals);
  const labelWidth = Math.min(Math.max(4, ...h.bins.map((b) => textWidth(b.label))), Math.floor(width / 3));
  const countTexts = h.bins.map((b) => b.counts.join("/"));
  const countWidth = Math.max(...countTexts.map(textWidth), 1);
  const barRoom = Math.max(1, Math.min(MAX_HISTOGRAM_BAR, width - labelWidth - countWidth - 2));
  const rows = h.bins.map((b, bi): Line => {
    const segments: Line = b.counts.map((c, i) => ({ text: "█".repeat(Math.round((c / max) * barRoom)), color: colourOf(i) }));
    const used = lineWidth(segments);
    return [
      { text: `${truncateText(b.label, labelWidth).padStart(labelWidth)} ` },
      ...segments,
      { text: " ".repeat(Math.max(0, barRoom - used) + 1) },
      { text: countTexts[bi]!, dim: true },
    ];
  });
  return [title, ...rows].map((l) => truncateLine(l, width));
}

const NAME_WIDTH = 14;
/** Curves stop widening here, so the last value stays beside its curve on a wide terminal. */
const MAX_SPARK = 60;
const VALUE_WIDTH = 9;

/** `epoch 12/60 ████░░ step 48  782 ex/s  ETA 3s` */
function epochHeaderLine(last: EpochEvent, width: number): Line {
  const parts = [`step ${last.step}`];
  if (last.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(last.etaSeconds)}`);
  if (last.examplesPerSecond !== undefined) parts.push(`${Math.round(last.examplesPerSecond)} ex/s`);
  const head = `epoch ${last.epoch}/${last.totalEpochs} `;
  const text = fitParts(parts, width - head.length - MIN_BAR - 1);
  const barWidth = Math.min(20, width - head.length - textWidth(text) - 1);
  const line: Line =
    barWidth >= MIN_BAR
      ? [{ text: head, bold: true }, ...bar(last.epoch / Math.max(1, last.totalEpochs), barWidth, "green"), { text: ` ${text}` }]
      : [{ text: head, bold: true }, { text }];
  return truncateLine(line, width);
}

/**
 * One row per metric: the whole run (averaged into the columns there are), the last value, and the
 * scale the blocks are drawn on (from 0, or the lowest value if negative, up to the value shown).
 */
export function curveLines(epochs: EpochEvent[], width: number, maxRows = Number.POSITIVE_INFINITY): Line[] {
  const last = epochs[epochs.length - 1];
  if (!last || maxRows < 1) return [];
  const rows: Line[] = [epochHeaderLine(last, width)];
  for (const k of Object.keys(last.metrics)) {
    if (rows.length >= maxRows) break;
    const values = epochs.map((e) => e.metrics[k] ?? Number.NaN);
    const value = formatNumber(last.metrics[k] ?? Number.NaN).padStart(VALUE_WIDTH - 1);
    // Scale text is as wide as it needs; the sparkline gets what is left (at least a few columns).
    const probe = sparkline(k, values, 1);
    const scale = `  ${probe.low < 0 ? formatNumber(probe.low) : "0"}–${formatNumber(probe.high)}`;
    const room = Math.min(MAX_SPARK, width - NAME_WIDTH - 1 - VALUE_WIDTH - textWidth(scale));
    const spark = sparkline(k, values, Math.max(4, room));
    rows.push(
      truncateLine(
        [
          { text: `${truncateText(k, NAME_WIDTH).padEnd(NAME_WIDTH)} ` },
          { text: spark.text.padEnd(Math.max(4, room)), color: "cyan" },
          { text: ` ${value}`, bold: true },
          { text: scale, dim: true },
        ],
        width,
      ),
    );
  }
  return rows;
}
