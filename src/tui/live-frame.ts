// The redrawn region of the live view, fitted to the terminal: never taller than the screen less a
// margin (Ink would clear the scrollback), never wider than a row (a wrapped row leaves stale copies).
// When not everything fits, each stage keeps its most useful part: the bar and the counts, then the
// training curves, then the histograms; what is left out is printed to the scrollback when it ends.
import { countLines, currentLines, curveLines, histogramLines, progressBarLine } from "./chart-lines.ts";
import type { ViewState } from "./event-store.ts";
import { type Line, truncateLine } from "./line.ts";

/** Rows kept free below the frame: the cursor's own row and one for safety. */
const FREE_ROWS = 2;
/** Stages shown at once; more would only happen with a step that runs many things in parallel. */
const MAX_STAGES = 3;

interface Section {
  /** where it is drawn, top to bottom */
  order: number;
  lines: (room: number) => Line[];
}

/** The widest a line may be: one column short of the terminal, so no terminal wraps it early. */
export function frameWidth(columns: number): number {
  return Math.max(20, columns - 1);
}

export function liveFrame(s: ViewState, columns: number, rows: number): Line[] {
  const width = frameWidth(columns);
  let room = Math.max(1, rows - FREE_ROWS);
  const shown = new Map<Section, Line[]>();
  const active = s.active.slice(-MAX_STAGES);
  const tallies = [...s.progress.values()].filter(
    (p) => active.some((a) => a.name === p.stage) || !s.active.some((a) => a.name === p.stage),
  );

  // In priority order: what gets room first.
  const sections: Section[] = [];
  active.forEach((a, i) => {
    sections.push({
      order: i * 4,
      lines: () => [
        [
          { text: "… ", color: "yellow" },
          { text: a.name, color: "yellow", bold: true },
          ...(a.detail ? [{ text: `  ${a.detail}`, dim: true }] : []),
        ],
      ],
    });
  });
  tallies.forEach((p) => {
    const at = active.findIndex((a) => a.name === p.stage);
    const order = at >= 0 ? at * 4 + 1 : 20;
    const heading: Line[] = at >= 0 ? [] : [[{ text: p.stage, bold: true }]];
    sections.push({ order, lines: () => [...heading, progressBarLine(p, width)] });
  });
  tallies.forEach((p) => {
    const at = active.findIndex((a) => a.name === p.stage);
    sections.push({ order: (at >= 0 ? at * 4 : 20) + 2, lines: () => countLines(p, width) });
  });
  sections.push({ order: 30, lines: (r) => (r >= 3 ? curveLines(s.epochs, width, r) : []) });
  [...s.histograms.values()].forEach((h, i) => {
    sections.push({ order: 40 + i, lines: () => histogramLines(h, width) });
  });
  tallies.forEach((p) => {
    const at = active.findIndex((a) => a.name === p.stage);
    sections.push({ order: (at >= 0 ? at * 4 : 20) + 3, lines: (r) => currentLines(p, width).slice(0, Math.min(4, r)) });
  });

  for (const section of sections) {
    const lines = section.lines(room);
    // A section is shown whole or not at all (a histogram without half its bins would mislead).
    if (lines.length === 0 || lines.length > room) continue;
    shown.set(section, lines);
    room -= lines.length;
  }
  return [...shown.entries()]
    .sort(([a], [b]) => a.order - b.order)
    .flatMap(([, lines]) => lines)
    .map((l) => truncateLine(l, width));
}
