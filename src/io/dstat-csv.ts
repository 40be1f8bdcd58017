// dstat `--output` CSV → columns of numbers. Handles every variant in tests/fixtures/dstat (dstat 0.7.0–0.7.4,
// pcp-dstat 5/6, appended blocks, headerless column rows) without a CSV library: the files are a few MB
// and parsing them is the hot loop of build-dataset, so this walks character codes once per row.
//
// Decisions where the original (pandas read_csv, skiprows 6 then 5) had no answer or a wrong one:
// - Appended files hold several blocks, each with its own header and maybe other columns. We use the
//   LAST block that has data: dstat appends when the file pre-existed, so the last block is the
//   recording of the latest invocation (the job that produced the log).
// - A data row with fewer fields than the header is dropped: pcp-dstat collapses empty rate groups of
//   its first row into one field, so the row's values sit under the wrong columns; a truncated last
//   line looks the same. Extra trailing fields ("missed 2 ticks", the trailing comma of 0.7.3 -C) are
//   ignored.
// - Classic dstat's first row (the since-boot average) is kept, as the original kept it.
// - pcp-dstat prefixes clashing names with their group ("total usage:usr"). For the total groups the
//   prefix is dropped so that a pcp-dstat trace has the classic devstack names (usr, read, read.1, ...);
//   per-device groups keep it ("cpu0 usage:usr").
// - pcp-dstat writes memory (and swap) in KiB; we scale it to bytes, the unit classic dstat writes, so
//   traces of both producers share one scale.
// - The index column is `time` (dd-mm HH:MM:SS, year from the header's Date:, or dd/mm/yyyy), else
//   `date/time` (0.7.0), else `epoch` (unix seconds). Neither it nor a second clock column (`--time
//   --epoch`) is one of `columns`. Without one, times are NaN.
import { CimlError } from "./ciml-error.ts";

export interface DstatTable {
  /** pandas-style names in file order, duplicates renamed "read.1"; the time index is not among them */
  columns: string[];
  /** unix ms per row; NaN when the file has no usable time */
  times: Float64Array;
  /** one per column, `rows` long; NaN for empty or non-numeric cells */
  values: Float64Array[];
  rows: number;
  /** the caller's year that `dd-mm` times were read with; absent when the header's Date: line (or the time format) said it */
  assumedYear?: number;
}

export class DstatParseError extends CimlError {
  override name = "DstatParseError";
}

interface DstatParseOptions {
  /** year for `dd-mm` times when the header has no Date: line (e.g. the run's run_at year) */
  year?: number;
}

const QUOTE = 34;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const COLON = 58;
const SPACE = 32;
const CR = 13;

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

const PREAMBLE = /^"(Dstat |pcp-dstat |Author:|Host:|Cmdline:)/;
const UNQUOTED_HEADER_FIELD = /^[A-Za-z0-9_./: %-]*$/;
const TIME_COLUMNS = ["time", "date/time", "epoch"];
const KIB_GROUPS = new Set(["memory usage", "swap"]);

interface Block {
  groupRow: string | null;
  columnRow: string;
  /** offset of the first character after the column row */
  start: number;
  /** offset where the block's data ends (next preamble/header or end of text) */
  end: number;
  dataRows: number;
}

export function parseDstatCsv(input: string, options: DstatParseOptions = {}): DstatTable {
  // A byte-order mark (files saved by Windows editors) would hide the first preamble line.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  rejectJunk(text);
  const scan = scanBlocks(text);
  const block = [...scan.blocks].reverse().find((b) => b.dataRows > 0);
  if (!block) {
    if (scan.blocks.length > 0) throw new DstatParseError("dstat CSV has a header but no data rows");
    throw new DstatParseError('not a dstat CSV: no row of column names (expected e.g. "time","usr",...)');
  }
  const header = readHeader(block, scan.pcp);
  const year = scan.dateYear ?? options.year ?? new Date().getUTCFullYear();
  const table = readRows(text, block, header, year, scan.dateMonth);
  // Clock times may borrow the year; a reader with another year in mind must parse again.
  if (scan.dateYear === undefined && header.timeKind === "clock") table.assumedYear = year;
  return table;
}

function rejectJunk(text: string): void {
  if (text.trim().length === 0) throw new DstatParseError("empty file, not a dstat CSV");
  const head = text.slice(0, 4096);
  if (head.includes("\u0000") || head.includes("\ufffd")) throw new DstatParseError("binary data, not a dstat CSV");
  const start = head.trimStart().slice(0, 200).toLowerCase();
  if (start.startsWith("<") || start.includes("<html") || start.includes("<!doctype")) {
    throw new DstatParseError("an HTML page, not a dstat CSV (an error page from the log server?)");
  }
}

interface Scan {
  blocks: Block[];
  pcp: boolean;
  dateYear: number | undefined;
  dateMonth: number | undefined;
}

// One pass over the lines, looking only at each line's first character: quote → preamble or header,
// letter → maybe an unquoted header, anything else → data or blank.
function scanBlocks(text: string): Scan {
  const blocks: Block[] = [];
  let pcp = false;
  let dateYear: number | undefined;
  let dateMonth: number | undefined;
  let current: Block | null = null;
  let pendingHeader: string | null = null;
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    let nl = text.indexOf("\n", pos);
    if (nl < 0) nl = n;
    const first = text.charCodeAt(pos);
    if (first === QUOTE || isLetter(first)) {
      const line = stripCr(text.slice(pos, nl));
      if (first === QUOTE && PREAMBLE.test(line)) {
        if (line.startsWith('"pcp-dstat ')) pcp = true;
        const date = /"Date:","(\d{1,2}) ([A-Za-z]{3})[a-z]* (\d{4})/.exec(line);
        if (date) {
          dateYear = Number(date[3]);
          dateMonth = MONTHS[date[2]!.toLowerCase()];
        }
        if (current) current.end = pos;
        current = null;
        pendingHeader = null;
      } else if (first === QUOTE || isUnquotedHeader(line)) {
        if (current) current.end = pos;
        current = null;
        // Two header rows in a row: the first was the group row.
        const groupRow: string | null = pendingHeader;
        pendingHeader = line;
        const block: Block = { groupRow, columnRow: line, start: nl + 1, end: n, dataRows: 0 };
        if (groupRow !== null && blocks.length > 0 && blocks[blocks.length - 1]!.columnRow === groupRow) blocks.pop();
        blocks.push(block);
        current = block;
        pos = nl + 1;
        continue;
      } else if (current) {
        current.dataRows++;
      }
    } else if (current && !isBlankLine(text, pos, nl)) {
      current.dataRows++;
    }
    if (!isBlankLine(text, pos, nl)) pendingHeader = null;
    pos = nl + 1;
  }
  return { blocks, pcp, dateYear, dateMonth };
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isUnquotedHeader(line: string): boolean {
  const fields = line.split(",");
  return fields.length >= 2 && fields.every((f) => UNQUOTED_HEADER_FIELD.test(f)) && Number.isNaN(Number(fields[0]));
}

function isBlankLine(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== COMMA && c !== CR && c !== SPACE) return false;
  }
  return true;
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

interface Header {
  /** number of fields a complete data row has */
  fields: number;
  /** field index → output column index, -1 for time fields */
  target: Int32Array;
  columns: string[];
  timeField: number;
  timeKind: "clock" | "epoch" | "none";
  /** per output column: multiply by this (1024 for pcp-dstat KiB) */
  scale: Float64Array;
}

function readHeader(block: Block, pcp: boolean): Header {
  const names = splitHeaderRow(block.columnRow);
  const groups = block.groupRow === null ? names.map(() => "") : fillGroups(splitHeaderRow(block.groupRow), names.length);
  const plain = names.map((name, i) => stripTotalPrefix(name, groups[i]!));
  const deduped = pandasDedupe(plain);
  let timeField = -1;
  for (const candidate of TIME_COLUMNS) {
    timeField = deduped.indexOf(candidate);
    if (timeField >= 0) break;
  }
  const target = new Int32Array(names.length);
  const columns: string[] = [];
  const scale: number[] = [];
  for (let i = 0; i < names.length; i++) {
    // A second clock (`--time --epoch`) is a timestamp too, not a resource measurement: never a feature.
    if (TIME_COLUMNS.includes(deduped[i]!)) {
      target[i] = -1;
      continue;
    }
    target[i] = columns.length;
    columns.push(deduped[i]!);
    scale.push(pcp && KIB_GROUPS.has(groups[i]!) ? 1024 : 1);
  }
  if (columns.length === 0) throw new DstatParseError("dstat CSV has no data columns besides the time");
  const timeKind = timeField < 0 ? "none" : deduped[timeField] === "epoch" ? "epoch" : "clock";
  return { fields: names.length, target, columns, timeField, timeKind, scale: Float64Array.from(scale) };
}

function splitHeaderRow(row: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= row.length) {
    if (row.charCodeAt(i) === QUOTE) {
      const close = row.indexOf('"', i + 1);
      const end = close < 0 ? row.length : close;
      out.push(row.slice(i + 1, end));
      const comma = row.indexOf(",", end);
      i = comma < 0 ? row.length + 1 : comma + 1;
    } else {
      const comma = row.indexOf(",", i);
      const end = comma < 0 ? row.length : comma;
      out.push(row.slice(i, end).trim());
      i = end + 1;
    }
  }
  // dstat ends some header rows with a comma (an empty trailing group cell), which names nothing.
  while (out.length > 1 && out[out.length - 1] === "") out.pop();
  return out;
}

/** The group row is sparse: an empty cell belongs to the group on its left. */
function fillGroups(cells: string[], count: number): string[] {
  const out: string[] = [];
  let group = "";
  for (let i = 0; i < count; i++) {
    const cell = cells[i] ?? "";
    if (cell !== "") group = cell;
    out.push(group);
  }
  return out;
}

function stripTotalPrefix(name: string, group: string): string {
  const isTotal = group.startsWith("total") || group.endsWith("/total");
  return isTotal && group !== "" && name.startsWith(`${group}:`) ? name.slice(group.length + 1) : name;
}

/** pandas read_csv renames repeats "x", "x.1", "x.2", skipping names already taken. */
export function pandasDedupe(names: string[]): string[] {
  const counts = new Map<string, number>();
  const taken = new Set(names);
  return names.map((name) => {
    let count = counts.get(name) ?? 0;
    if (count === 0) {
      counts.set(name, 1);
      return name;
    }
    let candidate = `${name}.${count}`;
    while (taken.has(candidate)) candidate = `${name}.${++count}`;
    counts.set(name, count + 1);
    taken.add(candidate);
    return candidate;
  });
}

function readRows(text: string, block: Block, header: Header, year: number, dateMonth: number | undefined): DstatTable {
  const capacity = block.dataRows;
  const ncols = header.columns.length;
  const values = Array.from({ length: ncols }, () => new Float64Array(capacity));
  const times = new Float64Array(capacity);
  const { target, fields: nfields, timeField } = header;
  const clock = new ClockParser(year, dateMonth);
  let rows = 0;
  let badCells = 0;
  let cells = 0;
  let pos = block.start;
  const end = block.end;
  while (pos < end) {
    let nl = text.indexOf("\n", pos);
    if (nl < 0 || nl > end) nl = end;
    let lineEnd = nl;
    if (lineEnd > pos && text.charCodeAt(lineEnd - 1) === CR) lineEnd--;
    if (isBlankLine(text, pos, lineEnd)) {
      pos = nl + 1;
      continue;
    }
    let field = 0;
    let time = Number.NaN;
    let start = pos;
    let rowBad = 0;
    while (start <= lineEnd && field < nfields) {
      let stop: number;
      let quoted = false;
      if (text.charCodeAt(start) === QUOTE) {
        const close = text.indexOf('"', start + 1);
        stop = close < 0 || close > lineEnd ? lineEnd : close;
        quoted = true;
      } else {
        stop = text.indexOf(",", start);
        if (stop < 0 || stop > lineEnd) stop = lineEnd;
      }
      const col = target[field]!;
      if (field === timeField) {
        time = header.timeKind === "epoch" ? parseNumber(text, start, stop) * 1000 : clock.parse(text, start, stop);
      } else if (col < 0) {
        // a second clock: its value is already in `times`
      } else if (quoted) {
        values[col]![rows] = Number.NaN;
        rowBad++;
      } else if (start === stop) {
        values[col]![rows] = Number.NaN;
      } else {
        const v = parseNumber(text, start, stop);
        if (v !== v) rowBad++;
        values[col]![rows] = v * header.scale[col]!;
      }
      field++;
      if (quoted) {
        const comma = text.indexOf(",", stop);
        start = comma < 0 || comma > lineEnd ? lineEnd + 1 : comma + 1;
      } else {
        start = stop + 1;
      }
    }
    // Cells go straight into row `rows`; an incomplete row is simply overwritten by the next one.
    if (field === nfields) {
      times[rows] = time;
      rows++;
      cells += ncols;
      badCells += rowBad;
    }
    pos = nl + 1;
  }
  if (rows === 0) throw new DstatParseError("dstat CSV has no complete data rows");
  if (badCells * 2 > cells) throw new DstatParseError("not a dstat CSV: most data cells are not numbers");
  return {
    columns: header.columns,
    times: rows === capacity ? times : times.slice(0, rows),
    values: rows === capacity ? values : values.map((v) => v.slice(0, rows)),
    rows,
  };
}

// Exact for the plain decimals dstat writes: an integer mantissa below 2^53 divided by a power of ten
// at most 1e22 is one correctly rounded IEEE division, the same double strtod gives. Anything else
// (exponents, long mantissas, junk) goes to Number().
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

export function parseNumber(text: string, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (text.charCodeAt(i) === MINUS) {
    negative = true;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  let seenDot = false;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      digits++;
      if (seenDot) fraction++;
    } else if (c === DOT && !seenDot) {
      seenDot = true;
    } else {
      return slowNumber(text, start, end);
    }
  }
  if (digits === 0 || digits > 15 || fraction > 22) return slowNumber(text, start, end);
  const v = fraction === 0 ? mantissa : mantissa / POW10[fraction]!;
  return negative ? -v : v;
}

function slowNumber(text: string, start: number, end: number): number {
  const s = text.slice(start, end).trim();
  // Only finite decimals: an "inf" cell would poison the training statistics and JSON cannot hold it.
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number.NaN;
  const v = Number(s);
  return Number.isFinite(v) ? v : Number.NaN;
}

/** `dd-mm HH:MM:SS` (year from the header) or `dd/mm/yyyy HH:MM:SS`, as UTC milliseconds. */
class ClockParser {
  private cachedDay = "";
  private cachedDayMs = Number.NaN;

  constructor(
    private readonly year: number,
    private readonly headerMonth: number | undefined,
  ) {}

  parse(text: string, start: number, end: number): number {
    const space = text.indexOf(" ", start);
    if (space < 0 || space >= end) return Number.NaN;
    // Consecutive rows share their day: compare in place instead of slicing a string per row.
    if (!text.startsWith(this.cachedDay, start) || space - start !== this.cachedDay.length) {
      this.cachedDay = text.slice(start, space);
      this.cachedDayMs = this.dayMs(this.cachedDay);
    }
    const secs = clockSeconds(text, space + 1, end);
    return this.cachedDayMs + secs * 1000;
  }

  private dayMs(day: string): number {
    const dashed = /^(\d{1,2})-(\d{1,2})$/.exec(day);
    if (dashed) {
      const d = Number(dashed[1]);
      const m = Number(dashed[2]);
      // A recording that crosses New Year: months before the header's month belong to the next year.
      const y = this.headerMonth !== undefined && m < this.headerMonth ? this.year + 1 : this.year;
      return Date.UTC(y, m - 1, d);
    }
    const slashed = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(day);
    if (slashed) return Date.UTC(Number(slashed[3]), Number(slashed[2]) - 1, Number(slashed[1]));
    return Number.NaN;
  }
}

function clockSeconds(text: string, start: number, end: number): number {
  let total = 0;
  let part = 0;
  let parts = 0;
  let seenDigit = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= ZERO && c <= NINE) {
      part = part * 10 + (c - ZERO);
      seenDigit = true;
    } else if (c === COLON) {
      total = total * 60 + part;
      part = 0;
      parts++;
    } else {
      return Number.NaN;
    }
  }
  if (!seenDigit || parts !== 2) return Number.NaN;
  return total * 60 + part;
}
