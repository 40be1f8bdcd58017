// The live view is drawn as whole lines that we measure ourselves, so that we always know how many
// terminal rows a frame takes and that none is wider than the terminal: a frame taller than the
// screen makes Ink clear the user's scrollback, and a line wider than it wraps and leaves stale rows.

interface Segment {
  text: string;
  color?: string;
  dim?: boolean;
  bold?: boolean;
}

/** One terminal row, as styled pieces. */
export type Line = Segment[];

/** Columns a text takes. Everything the views draw is one column per UTF-16 unit (ASCII, blocks, ✔ ⚠). */
export function textWidth(text: string): number {
  return text.length;
}

export function lineWidth(line: Line): number {
  return line.reduce((w, s) => w + textWidth(s.text), 0);
}

/** Cuts a line to `width` columns, ending with … when something was cut. */
export function truncateLine(line: Line, width: number): Line {
  if (lineWidth(line) <= width) return line;
  const out: Line = [];
  let room = Math.max(0, width - 1);
  for (const s of line) {
    if (room <= 0) break;
    out.push({ ...s, text: s.text.slice(0, room) });
    room -= Math.min(room, textWidth(s.text));
  }
  out.push({ text: "…", dim: true });
  return out;
}

export function truncateText(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  return width <= 0 ? "" : `${text.slice(0, width - 1)}…`;
}

/** Cuts the middle out of a text (URLs and paths keep their start and their file name). */
export function truncateMiddle(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  if (width <= 1) return text.slice(0, Math.max(0, width));
  const head = Math.ceil((width - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

/**
 * Lays out cells (e.g. "cached 51") left to right, starting a new line rather than splitting a cell,
 * so a tally never reads "matche" / "d 1" at a narrow width.
 */
export function flowCells(cells: Line[], width: number, indent = 2, gap = 2): Line[] {
  const lines: Line[] = [];
  let current: Line = [];
  let used = 0;
  for (const cell of cells) {
    const w = lineWidth(cell);
    if (current.length > 0 && used + gap + w > width) {
      lines.push(current);
      current = [];
      used = 0;
    }
    if (current.length === 0) {
      current.push({ text: " ".repeat(indent) });
      used = indent;
    } else {
      current.push({ text: " ".repeat(gap) });
      used += gap;
    }
    current.push(...cell);
    used += w;
  }
  if (current.length > 0) lines.push(current);
  return lines.map((l) => truncateLine(l, width));
}
