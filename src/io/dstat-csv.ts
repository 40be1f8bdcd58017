// dstat `--output` CSV → columns of numbers. Handles every variant in tests/fixtures/dstat (dstat 0.7.0–0.7.4,
// pcp-dstat 5/6, appended blocks, headerless column rows) without a CSV library: parsing is the hot loop
// of build-dataset, so this walks the UTF-8 bytes once per row (every byte that matters is ASCII; a cell
// with other bytes is decoded as the whole text would have been). The text streams through in chunks and
// is never held: a trace costs the columns kept (DstatReadOptions.columns), not its text.
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
  /**
   * one per column, `rows` long; NaN for empty or non-numeric cells. Undefined for a column the reader was
   * told not to keep (DstatReadOptions.columns): it was parsed and checked, its values dropped.
   */
  values: (Float64Array | undefined)[];
  rows: number;
  /**
   * With DstatReadOptions.keepRows: the rows of the whole trace whose kept columns all hold numbers, stored
   * or not (what `rows` would have held once the incomplete ones were dropped)
   */
  completeRows?: number;
  /** the caller's year that `dd-mm` times were read with; absent when the header's Date: line (or the time format) said it */
  assumedYear?: number;
  /**
   * With DstatReadOptions.rows: a line below the trace's rows (a later preamble's Date: or pcp-dstat) changed
   * how they read, so the rows the sink got are not these; read the trace again without a sink
   */
  rowsStale?: true;
}

/**
 * Takes the trace's rows as they are parsed (DstatReadOptions.rows), for a caller that needs every row
 * but not all of them at once (resampling folds them into bins).
 */
export interface DstatRowSink {
  /**
   * A block's rows begin: the rows handed over before were an earlier block's, which is not the trace.
   * `columns` are the kept ones, in the order `row` hands over their values.
   */
  block(columns: readonly string[]): void;
  /**
   * One row the table would hold, with its values as the table would hold them: unix ms (NaN without a
   * time), NaN for an empty or non-numeric cell. `values` is the same array, refilled, for every row.
   */
  row(time: number, values: Float64Array): void;
}

export class DstatParseError extends CimlError {
  override name = "DstatParseError";
}

/**
 * Most bytes of dstat text one trace may hold. A CI job's dstat at one row a second is a few MB to a few
 * tens of MB; this cap bounds what one trace can cost (about its decoded size at most, see
 * docs/cache-data.md, "Memory") and stops a gzip bomb. Downloads are held to the same figure
 * (FetchPolicy.maxTextBytes).
 */
export const MAX_TRACE_BYTES = 256 * 1024 * 1024;

interface DstatReadOptions {
  /** year for `dd-mm` times when the header has no Date: line (e.g. the run's run_at year) */
  year?: number;
  /**
   * the columns whose values are kept (names as in DstatTable.columns; names the trace lacks are
   * ignored). Every other column is still parsed and checked, then dropped, so a caller that needs two
   * columns of thirty holds two. All columns when absent.
   */
  columns?: readonly string[];
  /** most bytes of text accepted; MAX_TRACE_BYTES when absent */
  maxBytes?: number;
  /**
   * about how many bytes of text are coming, when the source knows (a gzip file's trailer): the columns
   * are then sized once, from the first rows' length, instead of doubling (which holds up to twice the
   * rows, and briefly the old columns beside the new ones)
   */
  expectedBytes?: number;
  /**
   * store rows only until this many of them have every kept column a number (an unresampled example is
   * the first L such rows): later rows are still parsed, checked and counted (DstatTable.completeRows), so
   * a long trace costs L rows, not all of them. Every row when absent.
   */
  keepRows?: number;
  /** Ctrl-C: reading stops at the next chunk, throwing the signal's reason (a long trace parses for seconds) */
  signal?: AbortSignal;
  /**
   * every row of the trace's block goes to this sink as it is parsed, and (unless keepRows says otherwise)
   * the table stores only the rows up to the first complete one, for its checks: the rows cost what the
   * sink keeps. An error the sink throws ends the reading.
   */
  rows?: DstatRowSink;
}

/**
 * A trace of dstat text, whole or as chunks as they arrive (a download, a gunzip stream); the text is
 * never held, only the columns kept. Throws DstatParseError (DstatTooLargeError past the cap).
 */
export async function readDstat(source: Uint8Array | AsyncIterable<Uint8Array>, options: DstatReadOptions = {}): Promise<DstatTable> {
  const reader = new DstatReader(options);
  if (source instanceof Uint8Array) reader.push(source);
  else
    for await (const chunk of source) {
      options.signal?.throwIfAborted();
      reader.push(chunk);
    }
  return reader.finish();
}

/** The same as readDstat, for text already in a string. */
export function parseDstatCsv(text: string, options: DstatReadOptions = {}): DstatTable {
  const reader = new DstatReader(options);
  reader.push(new TextEncoder().encode(text));
  return reader.finish();
}

/** The trace holds more text than the cap; the message says so and what to do. */
export class DstatTooLargeError extends DstatParseError {
  override name = "DstatTooLargeError";
}

/** The cap as people say it: "256 MiB", else bytes. */
export function formatByteCap(bytes: number): string {
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

const MIB = 1024 * 1024;

const QUOTE = 34;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const COLON = 58;
const SPACE = 32;
const CR = 13;
const LF = 10;
const TAB = 9;

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
/** The junk check looks at the first 4096 characters; 3 bytes of UTF-8 make at most one, plus a cut sequence. */
const HEAD_CHARS = 4096;
const HEAD_BYTES = HEAD_CHARS * 3 + 4;
/** Rows the columns start with; they double as the trace grows. */
const FIRST_CAPACITY = 1024;

// ignoreBOM: a byte-order mark inside the text is a character like any other (only the file's first go).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Text of bytes [start, end), decoded as the whole file would have been (invalid UTF-8 → U+FFFD). */
function textOf(bytes: Uint8Array, start: number, end: number): string {
  return decoder.decode(bytes.subarray(start, end));
}

interface Header {
  /** number of fields a complete data row has */
  fields: number;
  /** field index → output column index, -1 for time fields */
  target: Int32Array;
  columns: string[];
  timeField: number;
  timeKind: "clock" | "epoch" | "none";
  /** per output column: whether pcp-dstat writes it in KiB (scaled to bytes once the whole file is read) */
  kib: boolean[];
}

/**
 * One block: a header (group row, column row) and the data lines up to the next preamble or header.
 * The file's last block with a data line is the trace; the rows of a block are parsed as they arrive.
 */
interface Block {
  /** the header, or the reason it cannot be one (thrown only if this block ends up the trace) */
  header: Header | string;
  /** non-blank lines below the header, complete or not, and their bytes */
  dataLines: number;
  dataBytes: number;
  /** per output column, kept ones only: values of the stored rows so far */
  values: (Float64Array | undefined)[];
  /** per row: unix ms (epoch), seconds of the day (clock, resolved at the end), NaN */
  times: Float64Array;
  capacity: number;
  rows: number;
  /** rows whose kept columns all hold numbers, stored or not */
  complete: number;
  cells: number;
  badCells: number;
  /** clock times: rows from dayRuns[2k] on are of day dayRuns[2k+1] (an index into days, -1 = no day) */
  dayRuns: number[];
  /** with a row sink: how its rows were read (year, month, pcp), to compare with how the whole file says */
  sinkReading?: string;
}

/**
 * dstat text in, pushed in chunks of any size (a line may span chunks), a table out. Lines are parsed
 * as they complete and only the kept columns of the current block are stored, so the peak is those
 * columns, not the text. Same results as one pass over the whole text: what depends on lines further
 * down (the Date: line's year, pcp-dstat's KiB scaling, which block is the last with data) is settled
 * in finish().
 */
class DstatReader {
  private readonly keep: Set<string> | null;
  private readonly maxBytes: number;
  private readonly keepRows: number;
  private bytes = 0;
  /** bytes of the lines handed to line() so far */
  private parsed = 0;
  /** the first bytes, held until the junk check has seen the first HEAD_CHARS characters */
  private head: Uint8Array | null = new Uint8Array(0);
  /** the start of a line whose end has not arrived yet */
  private carry = new Uint8Array(256);
  private carried = 0;
  private nonBlank = false;
  private sawHeader = false;
  private pcp = false;
  private dateYear: number | undefined;
  private dateMonth: number | undefined;
  private pendingHeader: string | null = null;
  private current: Block | null = null;
  private chosen: Block | null = null;
  private readonly days: string[] = [];
  private readonly dayIds = new Map<string, number>();
  private lastDay: Uint8Array = new Uint8Array(0);
  private lastDayId = -1;
  // With a row sink: the kept columns' output indices, the row handed over, and unix ms of each day id.
  private sinkColumns: number[] = [];
  private sinkRow = new Float64Array(0);
  private sinkDayMs: number[] = [];

  constructor(private readonly options: DstatReadOptions) {
    this.keep = options.columns ? new Set(options.columns) : null;
    this.maxBytes = options.maxBytes ?? MAX_TRACE_BYTES;
    this.keepRows = options.keepRows ?? (options.rows ? 1 : Number.POSITIVE_INFINITY);
  }

  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes)
      throw new DstatTooLargeError(
        `dstat trace larger than ${formatByteCap(this.maxBytes)} of text (the cap on one trace, which bounds memory); not a usable recording: cut it or record at a longer interval`,
      );
    if (this.head !== null) {
      this.head = concat(this.head, chunk);
      if (this.head.length < HEAD_BYTES) return;
      chunk = this.releaseHead();
    }
    this.lines(chunk);
  }

  finish(): DstatTable {
    if (this.head !== null) this.lines(this.releaseHead(true));
    if (this.carried > 0) {
      this.line(this.carry, 0, this.carried);
      this.carried = 0;
    }
    if (!this.nonBlank) throw new DstatParseError("empty file, not a dstat CSV");
    this.closeBlock();
    const block = this.chosen;
    if (!block) {
      if (this.sawHeader) throw new DstatParseError("dstat CSV has a header but no data rows");
      throw new DstatParseError('not a dstat CSV: no row of column names (expected e.g. "time","usr",...)');
    }
    if (typeof block.header === "string") throw new DstatParseError(block.header);
    const header = block.header;
    if (block.rows === 0) throw new DstatParseError("dstat CSV has no complete data rows");
    if (block.badCells * 2 > block.cells) throw new DstatParseError("not a dstat CSV: most data cells are not numbers");
    const rows = block.rows;
    const year = this.year();
    const stale = block.sinkReading !== undefined && block.sinkReading !== this.reading(year);
    if (header.timeKind === "clock") this.resolveDays(block, year);
    header.kib.forEach((kib, c) => {
      const column = block.values[c];
      if (kib && this.pcp && column) for (let r = 0; r < rows; r++) column[r] = column[r]! * 1024;
    });
    // Views, not copies: a copy would briefly hold every kept column twice.
    const trim = (a: Float64Array) => (a.length === rows ? a : a.subarray(0, rows));
    const table: DstatTable = {
      columns: header.columns,
      times: trim(block.times),
      values: block.values.map((v) => (v ? trim(v) : undefined)),
      rows,
    };
    if (this.options.keepRows !== undefined) table.completeRows = block.complete;
    // Clock times may borrow the year; a reader with another year in mind must parse again.
    if (this.dateYear === undefined && header.timeKind === "clock") table.assumedYear = year;
    if (stale) table.rowsStale = true;
    return table;
  }

  /** The year of `dd-mm` times: the last Date: line's, else the caller's, else this one. */
  private year(): number {
    return this.dateYear ?? this.options.year ?? new Date().getUTCFullYear();
  }

  /** What the times and values of a block's rows depend on beyond the row itself. */
  private reading(year: number): string {
    return `${year} ${this.dateMonth} ${this.pcp}`;
  }

  /** The junk check on the first characters, then the held bytes go on as lines. */
  private releaseHead(final = false): Uint8Array {
    let bytes = this.head!;
    this.head = null;
    // A byte-order mark (files saved by Windows editors) would hide the first preamble line. Up to two
    // go, as when the text was decoded (which drops one) and then checked for one.
    for (let i = 0; i < 2 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf; i++) bytes = bytes.subarray(3);
    // Only the first HEAD_BYTES: decoding the whole first chunk (a megabyte from gunzip) to look at 4096
    // characters cost a fifth of a parse. Streamed, they decode to at least HEAD_CHARS characters, the
    // same ones the whole text starts with (a cut sequence at their end is held back, not replaced).
    const head = new TextDecoder("utf-8", { ignoreBOM: true })
      .decode(bytes.subarray(0, HEAD_BYTES), { stream: !final })
      .slice(0, HEAD_CHARS);
    if (head.includes("\u0000") || head.includes("\ufffd")) throw new DstatParseError("binary data, not a dstat CSV");
    const start = head.trimStart().slice(0, 200).toLowerCase();
    if (start.startsWith("<") || start.includes("<html") || start.includes("<!doctype")) {
      throw new DstatParseError("an HTML page, not a dstat CSV (an error page from the log server?)");
    }
    return bytes;
  }

  private lines(chunk: Uint8Array): void {
    let pos = 0;
    const n = chunk.length;
    if (this.carried > 0) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.addCarry(chunk, 0, n);
        return;
      }
      this.addCarry(chunk, 0, nl);
      this.line(this.carry, 0, this.carried);
      this.carried = 0;
      pos = nl + 1;
    }
    while (pos < n) {
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) {
        this.addCarry(chunk, pos, n);
        return;
      }
      this.line(chunk, pos, nl);
      pos = nl + 1;
    }
  }

  private addCarry(chunk: Uint8Array, start: number, end: number): void {
    const need = this.carried + end - start;
    if (need > this.carry.length) {
      const grown = new Uint8Array(Math.max(need, this.carry.length * 2));
      grown.set(this.carry.subarray(0, this.carried));
      this.carry = grown;
    }
    this.carry.set(chunk.subarray(start, end), this.carried);
    this.carried = need;
  }

  /**
   * One line, bytes [pos, nl) without its "\n". Looks at its first character: quote → preamble or header,
   * letter → maybe an unquoted header, anything else → data or blank.
   */
  private line(text: Uint8Array, pos: number, nl: number): void {
    this.parsed += nl - pos + 1;
    if (!this.nonBlank) this.nonBlank = hasNonSpace(text, pos, nl);
    const first = pos < nl ? text[pos]! : -1;
    const blank = isBlankLine(text, pos, nl);
    if (first === QUOTE || isLetter(first)) {
      const line = stripCr(textOf(text, pos, nl));
      if (first === QUOTE && PREAMBLE.test(line)) {
        if (line.startsWith('"pcp-dstat ')) this.pcp = true;
        const date = /"Date:","(\d{1,2}) ([A-Za-z]{3})[a-z]* (\d{4})/.exec(line);
        if (date) {
          this.dateYear = Number(date[3]);
          this.dateMonth = MONTHS[date[2]!.toLowerCase()];
        }
        this.closeBlock();
        this.pendingHeader = null;
      } else if (first === QUOTE || isUnquotedHeader(line)) {
        this.closeBlock();
        // Two header rows in a row: the first was the group row (its block, without data, is dropped).
        const groupRow = this.pendingHeader;
        this.pendingHeader = line;
        this.sawHeader = true;
        this.current = this.openBlock(groupRow, line);
        return;
      } else if (this.current) {
        this.dataLine(this.current, text, pos, nl);
      }
    } else if (this.current && !blank) {
      this.dataLine(this.current, text, pos, nl);
    }
    if (!blank) this.pendingHeader = null;
  }

  private openBlock(groupRow: string | null, columnRow: string): Block {
    let header: Header | string;
    try {
      header = readHeader(groupRow, columnRow);
    } catch (err) {
      if (!(err instanceof DstatParseError)) throw err;
      header = err.message;
    }
    return {
      header,
      dataLines: 0,
      dataBytes: 0,
      values: [],
      times: new Float64Array(0),
      capacity: 0,
      rows: 0,
      complete: 0,
      cells: 0,
      badCells: 0,
      dayRuns: [],
    };
  }

  /** The block that ends here is the trace so far if it had a data line. */
  private closeBlock(): void {
    if (this.current && this.current.dataLines > 0) this.chosen = this.current;
    this.current = null;
  }

  private dataLine(block: Block, text: Uint8Array, pos: number, nl: number): void {
    block.dataBytes += nl - pos + 1;
    if (block.dataLines++ === 0) {
      // This block will be the trace rather than any before it: their rows can go.
      this.chosen = null;
      if (typeof block.header !== "string") this.allocate(block, block.header);
    }
    if (typeof block.header === "string") return;
    this.row(block, block.header, text, pos, nl);
  }

  private allocate(block: Block, header: Header): void {
    block.capacity = FIRST_CAPACITY;
    block.times = new Float64Array(FIRST_CAPACITY);
    block.values = header.columns.map((name) => (this.keep === null || this.keep.has(name) ? new Float64Array(FIRST_CAPACITY) : undefined));
    const sink = this.options.rows;
    if (sink) {
      // Preamble lines end a block, so the year, month and producer stay what they are now for all its rows.
      block.sinkReading = this.reading(this.year());
      this.sinkColumns = header.columns.flatMap((_, c) => (block.values[c] ? [c] : []));
      this.sinkRow = new Float64Array(this.sinkColumns.length);
      this.sinkDayMs = [];
      sink.block(this.sinkColumns.map((c) => header.columns[c]!));
    }
  }

  private grow(block: Block): void {
    const capacity = this.nextCapacity(block);
    const grown = (a: Float64Array) => {
      const b = new Float64Array(capacity);
      b.set(a);
      return b;
    };
    block.times = grown(block.times);
    // Column by column, so each old column is garbage as soon as its copy exists.
    for (let c = 0; c < block.values.length; c++) {
      const column = block.values[c];
      if (column) block.values[c] = grown(column);
    }
    block.capacity = capacity;
  }

  /** Double, or when the size of the text is known: the rows still to come at this block's bytes per row, 5 % to spare. */
  private nextCapacity(block: Block): number {
    const remaining = (this.options.expectedBytes ?? 0) - this.parsed;
    const wanted =
      remaining <= 0 || block.rows === 0
        ? block.capacity * 2
        : Math.max(
            block.rows + Math.ceil((remaining / (block.dataBytes / block.rows)) * 1.05) + 64,
            block.capacity + (block.capacity >> 3),
          );
    // With keepRows, at least this many more rows are stored, plus the slot the rows past it are parsed into.
    return Math.min(wanted, block.rows + this.keepRows - block.complete + 1);
  }

  /** One data line: its cells go straight into row `rows`; an incomplete row is overwritten by the next one. */
  private row(block: Block, header: Header, text: Uint8Array, pos: number, nl: number): void {
    let lineEnd = nl;
    if (lineEnd > pos && text[lineEnd - 1] === CR) lineEnd--;
    if (isBlankLine(text, pos, lineEnd)) return;
    if (block.rows === block.capacity) this.grow(block);
    const rows = block.rows;
    const { target, fields: nfields, timeField } = header;
    const values = block.values;
    let field = 0;
    let time = Number.NaN;
    let day = -1;
    let start = pos;
    let rowBad = 0;
    let rowComplete = true;
    while (start <= lineEnd && field < nfields) {
      const col = target[field]!;
      if (field !== timeField && col >= 0 && !(start < lineEnd && text[start] === QUOTE)) {
        // The common cell, a number: one pass finds its end and its value (scanNumber).
        const column = values[col];
        if (start === lineEnd || text[start] === COMMA) {
          if (column) {
            column[rows] = Number.NaN;
            rowComplete = false;
          }
          start++;
        } else {
          if (column) {
            const v = scanNumber(text, start, lineEnd);
            if (v !== v) {
              rowBad++;
              rowComplete = false;
            }
            column[rows] = v;
          } else if (!isNumberCell(text, start, lineEnd)) rowBad++;
          start = cellEnd + 1;
        }
        field++;
        continue;
      }
      let stop: number;
      let quoted = false;
      if (start < lineEnd && text[start] === QUOTE) {
        stop = indexIn(text, QUOTE, start + 1, lineEnd);
        quoted = true;
      } else {
        stop = indexIn(text, COMMA, start, lineEnd);
      }
      if (field === timeField) {
        if (header.timeKind === "epoch") time = parseNumber(text, start, stop) * 1000;
        else if (header.timeKind === "clock") {
          const space = indexIn(text, SPACE, start, stop);
          if (space < stop) {
            day = this.dayId(text, start, space);
            time = clockSeconds(text, space + 1, stop);
          } else {
            day = -1;
          }
        }
      } else if (quoted && col >= 0) {
        const column = values[col];
        if (column) {
          column[rows] = Number.NaN;
          rowComplete = false;
        }
        rowBad++;
      }
      // else a second clock: its value is already in `times`
      field++;
      start = quoted ? indexIn(text, COMMA, stop, lineEnd) + 1 : stop + 1;
    }
    if (field === nfields) {
      // Past keepRows complete rows, the row stays in slot `rows`, to be overwritten by the next.
      if (block.complete < this.keepRows) {
        block.times[rows] = time;
        if (header.timeKind === "clock") {
          const runs = block.dayRuns;
          if (runs.length === 0 || runs[runs.length - 1] !== day) runs.push(rows, day);
        }
        block.rows++;
      }
      if (rowComplete) block.complete++;
      block.cells += header.columns.length;
      block.badCells += rowBad;
      if (this.options.rows) this.sinkRowOf(header, values, rows, time, day);
    }
  }

  /** Row `slot` to the sink, with the time and the KiB scaling that finish() gives the stored rows. */
  private sinkRowOf(header: Header, values: (Float64Array | undefined)[], slot: number, time: number, day: number): void {
    if (header.timeKind === "clock") {
      if (day < 0) time = Number.NaN;
      else {
        let ms = this.sinkDayMs[day];
        if (ms === undefined) {
          ms = clockDayMs(this.days[day]!, this.year(), this.dateMonth);
          this.sinkDayMs[day] = ms;
        }
        time = ms + time * 1000;
      }
    }
    const out = this.sinkRow;
    for (let k = 0; k < out.length; k++) {
      const c = this.sinkColumns[k]!;
      const v = values[c]![slot]!;
      out[k] = header.kib[c] && this.pcp ? v * 1024 : v;
    }
    this.options.rows!.row(time, out);
  }

  /** The index of a `dd-mm` / `dd/mm/yyyy` day text; consecutive rows share their day, so compare bytes first. */
  private dayId(text: Uint8Array, start: number, end: number): number {
    const last = this.lastDay;
    if (end - start === last.length) {
      let same = true;
      for (let i = 0; i < last.length && same; i++) same = text[start + i] === last[i];
      if (same) return this.lastDayId;
    }
    const day = textOf(text, start, end);
    let id = this.dayIds.get(day);
    if (id === undefined) {
      id = this.days.length;
      this.days.push(day);
      this.dayIds.set(day, id);
    }
    this.lastDay = text.slice(start, end);
    this.lastDayId = id;
    return id;
  }

  /** Clock rows hold seconds of the day until now, when the year (the last Date: line's) is known. */
  private resolveDays(block: Block, year: number): void {
    const dayMs = this.days.map((day) => clockDayMs(day, year, this.dateMonth));
    const runs = block.dayRuns;
    for (let k = 0; k < runs.length; k += 2) {
      const from = runs[k]!;
      const to = k + 2 < runs.length ? runs[k + 2]! : block.rows;
      const day = runs[k + 1]!;
      const ms = day < 0 ? Number.NaN : dayMs[day]!;
      for (let r = from; r < to; r++) block.times[r] = day < 0 ? Number.NaN : ms + block.times[r]! * 1000;
    }
  }
}

/** Where `byte` first occurs in [from, end), else `end`. */
function indexIn(text: Uint8Array, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (text[i] === byte) return i;
  return end;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isUnquotedHeader(line: string): boolean {
  const fields = line.split(",");
  return fields.length >= 2 && fields.every((f) => UNQUOTED_HEADER_FIELD.test(f)) && Number.isNaN(Number(fields[0]));
}

function isBlankLine(text: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text[i];
    if (c !== COMMA && c !== CR && c !== SPACE) return false;
  }
  return true;
}

/** Whether the line holds more than whitespace (as String.prototype.trim sees it, Unicode spaces too). */
function hasNonSpace(text: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text[i]!;
    if (c >= 0x80) return /\S/.test(textOf(text, start, end));
    if (c !== SPACE && c !== TAB && c !== CR && (c < 11 || c > 12)) return true;
  }
  return false;
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

function readHeader(groupRow: string | null, columnRow: string): Header {
  const names = splitHeaderRow(columnRow);
  const groups = groupRow === null ? names.map(() => "") : fillGroups(splitHeaderRow(groupRow), names.length);
  const plain = names.map((name, i) => stripTotalPrefix(name, groups[i]!));
  const deduped = pandasDedupe(plain);
  let timeField = -1;
  for (const candidate of TIME_COLUMNS) {
    timeField = deduped.indexOf(candidate);
    if (timeField >= 0) break;
  }
  const target = new Int32Array(names.length);
  const columns: string[] = [];
  const kib: boolean[] = [];
  for (let i = 0; i < names.length; i++) {
    // A second clock (`--time --epoch`) is a timestamp too, not a resource measurement: never a feature.
    if (TIME_COLUMNS.includes(deduped[i]!)) {
      target[i] = -1;
      continue;
    }
    target[i] = columns.length;
    columns.push(deduped[i]!);
    kib.push(KIB_GROUPS.has(groups[i]!));
  }
  if (columns.length === 0) throw new DstatParseError("dstat CSV has no data columns besides the time");
  const timeKind = timeField < 0 ? "none" : deduped[timeField] === "epoch" ? "epoch" : "clock";
  return { fields: names.length, target, columns, timeField, timeKind, kib };
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

// Exact for the plain decimals dstat writes: an integer mantissa below 2^53 divided by a power of ten
// at most 1e22 is one correctly rounded IEEE division, the same double strtod gives. Anything else
// (exponents, long mantissas, junk) goes to Number().
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** The number in bytes [start, end) of dstat text; NaN unless it is a finite decimal. */
export function parseNumber(text: Uint8Array, start: number, end: number): number {
  const v = scanNumber(text, start, end);
  // A comma is no part of a number.
  return cellEnd === end ? v : Number.NaN;
}

/** Where the last scanNumber stopped: the comma that ends its cell, else its `end`. */
let cellEnd = 0;

/**
 * The number of the cell that starts at `start` and ends at the first comma before `end` (left in
 * cellEnd): the cell's end and its value in one pass over its bytes, where finding the comma first and
 * then parsing walked them twice. NaN unless it is a finite decimal.
 */
function scanNumber(text: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (i < end && text[i] === MINUS) {
    negative = true;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  let seenDot = false;
  for (; i < end; i++) {
    const c = text[i]!;
    if (c >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      digits++;
      if (seenDot) fraction++;
    } else if (c === COMMA) {
      break;
    } else if (c === DOT && !seenDot) {
      seenDot = true;
    } else {
      cellEnd = indexIn(text, COMMA, i + 1, end);
      return slowNumber(text, start, cellEnd);
    }
  }
  cellEnd = i;
  if (digits === 0 || digits > 15 || fraction > 22) return slowNumber(text, start, i);
  const v = fraction === 0 ? mantissa : mantissa / POW10[fraction]!;
  return negative ? -v : v;
}

/**
 * Whether the cell at `start` (up to the first comma before `end`, left in cellEnd) holds a number, as
 * scanNumber would find: for the columns not kept, whose value is only checked. Without the value's
 * arithmetic, this is the hot loop of a trace whose columns are mostly dropped (all, for cache-data).
 */
function isNumberCell(text: Uint8Array, start: number, end: number): boolean {
  let i = start;
  if (i < end && text[i] === MINUS) i++;
  const first = i;
  let dot = -1;
  for (; i < end; i++) {
    const c = text[i]!;
    if (c === COMMA) break;
    if ((c < ZERO || c > NINE) && (c !== DOT || dot >= 0)) {
      const v = scanNumber(text, start, end);
      return v === v;
    }
    if (c === DOT) dot = i;
  }
  cellEnd = i;
  const digits = i - first - (dot < 0 ? 0 : 1);
  if (digits > 0 && digits <= 15) return true;
  const v = scanNumber(text, start, end);
  return v === v;
}

function slowNumber(text: Uint8Array, start: number, end: number): number {
  const s = textOf(text, start, end).trim();
  // Only finite decimals: an "inf" cell would poison the training statistics and JSON cannot hold it.
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number.NaN;
  const v = Number(s);
  return Number.isFinite(v) ? v : Number.NaN;
}

/** UTC midnight of a `dd-mm` (year from the header) or `dd/mm/yyyy` day; NaN for anything else. */
function clockDayMs(day: string, year: number, headerMonth: number | undefined): number {
  const dashed = /^(\d{1,2})-(\d{1,2})$/.exec(day);
  if (dashed) {
    const d = Number(dashed[1]);
    const m = Number(dashed[2]);
    // A recording that crosses New Year: months before the header's month belong to the next year.
    const y = headerMonth !== undefined && m < headerMonth ? year + 1 : year;
    return Date.UTC(y, m - 1, d);
  }
  const slashed = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(day);
  if (slashed) return Date.UTC(Number(slashed[3]), Number(slashed[2]) - 1, Number(slashed[1]));
  return Number.NaN;
}

/** `HH:MM:SS` as seconds; NaN for anything else. */
function clockSeconds(text: Uint8Array, start: number, end: number): number {
  let total = 0;
  let part = 0;
  let parts = 0;
  let seenDigit = false;
  for (let i = start; i < end; i++) {
    const c = text[i]!;
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
