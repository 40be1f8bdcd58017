/** Rows that lines of these widths take once the terminal re-wraps them at `columns`. */
export function frameRowsAfterResize(widths: number[], columns: number): number {
  return widths.reduce((rows, w) => rows + Math.max(1, Math.ceil(w / Math.max(1, columns))), 0);
}
