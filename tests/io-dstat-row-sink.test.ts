// DstatReadOptions.rows: every row the table would hold goes to a sink as it is parsed (build-dataset resamples
// them into bins there instead of holding the trace). The sink must see exactly the rows, times and values of
// the whole parse (KiB scaling and the header's year included), and only the last block's.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { DstatParseError, parseDstatCsv, readDstat, type DstatRowSink, type DstatTable } from "../src/io/dstat-csv.ts";
import { fixturePath } from "./fixtures.ts";

const dir = fixturePath("dstat");
const files = readdirSync(dir).filter((f) => !f.endsWith(".md") && f !== "index.csv");

function readText(name: string): string {
  const bytes = readFileSync(`${dir}/${name}`);
  return (name.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
}

/** A sink that keeps what it is handed: the last block's columns and rows, and how many blocks began. */
class RecordingSink implements DstatRowSink {
  blocks = 0;
  columns: readonly string[] = [];
  times: number[] = [];
  rows: number[][] = [];
  block(columns: readonly string[]): void {
    this.blocks++;
    this.columns = columns;
    this.times = [];
    this.rows = [];
  }
  row(time: number, values: Float64Array): void {
    this.times.push(time);
    this.rows.push(Array.from(values));
  }
}

/** The bytes of doubles: equal bits, NaN and -0 included. */
const bits = (values: ArrayLike<number>) => new Uint8Array(Float64Array.from(values).buffer);

/** The full parse's kept columns as rows, to compare with what a sink got. */
function rowsOf(table: DstatTable): { columns: string[]; times: number[]; rows: number[][] } {
  const kept = table.columns.flatMap((name, c) => (table.values[c] ? [{ name, c }] : []));
  return {
    columns: kept.map((k) => k.name),
    times: Array.from(table.times),
    rows: Array.from({ length: table.rows }, (_, r) => kept.map((k) => table.values[k.c]![r]!)),
  };
}

async function readWithSink(text: string, chunk: number, options: Parameters<typeof readDstat>[1] = {}) {
  const bytes = new TextEncoder().encode(text);
  const chunks = async function* () {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  };
  const sink = new RecordingSink();
  const table = await readDstat(chunks(), { ...options, rows: sink });
  return { sink, table };
}

describe("every fixture through a row sink", () => {
  for (const file of files) {
    test(`${file}: the sink gets the whole parse's rows, bit for bit, and the table keeps only the first`, async () => {
      const text = readText(file);
      let full: DstatTable;
      try {
        full = parseDstatCsv(text, { year: 2021 });
      } catch (err) {
        if (!(err instanceof DstatParseError)) throw err;
        // A file the reader refuses is refused with a sink too, for the same reason.
        await expect(readWithSink(text, 4096, { year: 2021 })).rejects.toThrow(err.message);
        return;
      }
      const want = rowsOf(full);
      const some = full.columns.filter((_, i) => i % 3 !== 1);
      const wantSome = rowsOf(parseDstatCsv(text, { year: 2021, columns: some }));
      for (const chunk of [7, 4096, 1 << 20]) {
        const { sink, table } = await readWithSink(text, chunk, { year: 2021 });
        expect(sink.columns).toEqual(want.columns);
        expect(bits(sink.times)).toEqual(bits(want.times));
        expect(sink.rows.length).toBe(want.rows.length);
        sink.rows.forEach((row, r) => expect(bits(row)).toEqual(bits(want.rows[r]!)));
        expect(table.columns).toEqual(full.columns);
        expect(table.rowsStale).toBeUndefined();
        expect(table.completeRows).toBeUndefined();
        // Rows are stored up to the first complete one, for the table's checks; never the rest.
        const firstComplete = want.rows.findIndex((row) => row.every((v) => v === v));
        expect(table.rows).toBe(firstComplete < 0 ? full.rows : firstComplete + 1);
        const picked = await readWithSink(text, chunk, { year: 2021, columns: some });
        expect(picked.sink.columns).toEqual(wantSome.columns);
        expect(picked.sink.rows.map((row) => Array.from(bits(row)))).toEqual(wantSome.rows.map((row) => Array.from(bits(row))));
      }
    });
  }

  test("the fixtures exercise KiB scaling, clock, epoch and appended blocks", async () => {
    const pcp = await readWithSink(readText("openstack-devstack-focal-rax-dfw-20211021.csv"), 4096);
    const used = pcp.sink.columns.indexOf("used");
    // pcp-dstat writes KiB; the sink gets bytes, as the table does
    expect(pcp.sink.rows[1]![used]! % 1024).toBe(0);
    const appended = await readWithSink(readText("standin-0.7.3-two-runs-appended.csv"), 4096);
    expect(appended.sink.blocks).toBe(2);
    const epoch = await readWithSink(readText("standin-0.7.2-epoch-mem-swap-percpu.csv"), 4096);
    expect(epoch.sink.times[0]).toBeGreaterThan(Date.UTC(2000, 0, 1));
  });
});

describe("row sink, small traces", () => {
  const classic = readText("standin-classic-0.7.2-tcp-60s.csv");

  test("a preamble below the rows that changes their year marks the table's rows stale", async () => {
    const later = `${classic}"Dstat 0.7.2 CSV output"\n"Cmdline:","dstat",,,,"Date:","01 Jan 2020 00:00:00 UTC"\n`;
    const { sink, table } = await readWithSink(later, 4096);
    expect(table.rowsStale).toBe(true);
    // The whole parse reads the rows in the later Date:'s year; the sink got them in the first one's.
    const full = parseDstatCsv(later);
    expect(new Date(full.times[0]!).getUTCFullYear()).toBe(2020);
    expect(new Date(sink.times[0]!).getUTCFullYear()).toBe(2019);
    // The same Date: again changes nothing.
    const same = `${classic}"Dstat 0.7.2 CSV output"\n"Cmdline:","dstat",,,,"Date:","31 Jan 2019 14:44:21 EST"\n`;
    expect((await readWithSink(same, 4096)).table.rowsStale).toBeUndefined();
  });

  test("a pcp-dstat preamble below the rows (their memory is then KiB) marks them stale", async () => {
    const later = `${classic}"pcp-dstat 5.0.3 CSV Output"\n`;
    expect((await readWithSink(later, 4096)).table.rowsStale).toBe(true);
  });

  test("rows past New Year are dated in the next year, as in the table (the header's month says so)", async () => {
    const lines = classic.split("\n");
    const header = lines.findIndex((l) => l.startsWith('"time"')) + 1;
    const crossing = lines
      .map((l) => l.replace('"Date:","31 Jan 2019 14:44:21 EST"', '"Date:","31 Dec 2019 23:59:58 EST"'))
      .map((l, i) => (i >= header && l !== "" ? `${i - header < 2 ? "31-12" : "01-01"}${l.slice(5)}` : l))
      .join("\n");
    const { sink } = await readWithSink(crossing, 4096);
    const full = parseDstatCsv(crossing);
    expect(new Date(sink.times[2]!).getUTCFullYear()).toBe(2020);
    expect(bits(sink.times)).toEqual(bits(full.times));
  });

  test("without a Date: line the caller's year dates the rows, as in the table", async () => {
    const lines = classic.split("\n").filter((l) => !l.includes('"Date:"'));
    const { sink } = await readWithSink(lines.join("\n"), 4096, { year: 2017 });
    expect(sink.times[0]).toBe(parseDstatCsv(lines.join("\n"), { year: 2017 }).times[0]!);
    expect(new Date(sink.times[0]!).getUTCFullYear()).toBe(2017);
  });

  test("an error the sink throws ends the reading", async () => {
    let rows = 0;
    const stop = new Error("enough");
    const sink: DstatRowSink = {
      block: () => undefined,
      row: () => {
        if (++rows === 3) throw stop;
      },
    };
    await expect(readDstat(new TextEncoder().encode(classic), { rows: sink })).rejects.toBe(stop);
    expect(rows).toBe(3);
  });
});
