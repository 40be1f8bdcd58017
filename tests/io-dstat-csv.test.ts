import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import {
  DstatParseError,
  DstatTooLargeError,
  formatByteCap,
  MAX_TRACE_BYTES,
  parseDstatCsv,
  pandasDedupe,
  parseNumber,
  readDstat,
} from "../src/io/dstat-csv.ts";
import { CimlError } from "../src/io/ciml-error.ts";
import { fixturePath } from "./fixtures.ts";

const dir = fixturePath("dstat");

function readText(name: string): string {
  const bytes = readFileSync(`${dir}/${name}`);
  return (name.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
}

/** index.csv says how many columns and data rows each file has (its own count, header columns incl. time). */
function indexRows(): Record<string, string>[] {
  const [head, ...lines] = readFileSync(`${dir}/index.csv`, "utf8").trim().split("\n");
  const keys = head!.split(",");
  return lines.map((line) => Object.fromEntries(line.split(",").map((v, i) => [keys[i], v])));
}

/** Repeated names for the dedupe comparison with pandas. */
const REPEATED = ["read", "writ", "read", "writ", "read", "read.1", "usr", "usr"];
const CLASSIC = `${dir}/standin-classic-0.7.2-vmstat-net-5s.csv`;

/**
 * What pandas reads, from ONE python run per test file run, made by the first test that asks (importing
 * pandas costs a second or more, and mutation testing runs this file once per mutant, most of them
 * failing before any test asks): the classic file's columns and values, and the column names read_csv
 * gives REPEATED.
 */
let pandasRead: { cols: string[]; v: number[][]; deduped: string[] } | undefined;
function pandas(): { cols: string[]; v: number[][]; deduped: string[] } {
  if (pandasRead) return pandasRead;
  const py = Bun.spawnSync([
    "/usr/bin/python3",
    "-c",
    `import pandas as pd,io,sys,json
d=pd.read_csv(sys.argv[1],skiprows=6)
dd=list(pd.read_csv(io.StringIO(sys.argv[2]+'\\n'+','.join(['1']*8))).columns)
print(json.dumps({'cols':list(d.columns),'v':d.drop(columns=['time']).values.tolist(),'deduped':dd}))`,
    CLASSIC,
    REPEATED.join(","),
  ]);
  if (py.exitCode !== 0) throw new Error(py.stderr.toString());
  pandasRead = JSON.parse(py.stdout.toString());
  return pandasRead!;
}

describe("parseDstatCsv on every file in tests/fixtures/dstat", () => {
  const files = readdirSync(dir).filter((f) => !f.endsWith(".md") && f !== "index.csv");
  const index = new Map(indexRows().map((r) => [r.file!, r]));

  test("the folder holds the files we expect to cover", () => {
    expect(files.length).toBeGreaterThanOrEqual(23);
  });

  for (const file of files) {
    const meta = index.get(file);
    if (file.includes("NOT-CSV")) {
      test(`${file} is rejected`, () => {
        expect(() => parseDstatCsv(readText(file))).toThrow(DstatParseError);
      });
      continue;
    }
    test(`${file} parses into numeric columns`, () => {
      const table = parseDstatCsv(readText(file));
      expect(table.rows).toBeGreaterThan(0);
      expect(table.values.length).toBe(table.columns.length);
      for (const column of table.values) expect(column!.length).toBe(table.rows);
      expect(table.times.length).toBe(table.rows);
      expect(new Set(table.columns).size).toBe(table.columns.length);
      // Every column but free-text ones (the --top-io-adv process name) carries numbers.
      const numeric = table.values.filter((v) => v!.some((x) => Number.isFinite(x)));
      expect(numeric.length).toBeGreaterThanOrEqual(table.columns.length - 1);
      if (meta && meta.preamble_blocks === "1") {
        // One block: every data row is kept except a pcp-dstat short first row.
        const expected = Number(meta.data_rows);
        const shortFirst = (meta.producer_version ?? "").startsWith("pcp-dstat") ? 1 : 0;
        expect(table.rows).toBe(expected - shortFirst);
        const timed = meta.time_column !== "";
        expect(Number.isNaN(table.times[0]!)).toBe(!timed);
      }
    });
  }
});

/** The table as plain arrays, NaN and -0 spelled out, to compare two reads exactly. */
function plainTable(t: {
  columns: string[];
  times: Float64Array;
  values: (Float64Array | undefined)[];
  rows: number;
  assumedYear?: number;
}) {
  const exact = (a: Float64Array) => Array.from(a, (x) => (Object.is(x, -0) ? "-0" : String(x)));
  return {
    columns: t.columns,
    rows: t.rows,
    assumedYear: t.assumedYear,
    times: exact(t.times),
    values: t.values.map((v) => v && exact(v)),
  };
}

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** The outcome of a read: the table, or the error's message. */
async function outcome(read: () => Promise<unknown> | unknown) {
  try {
    return plainTable((await read()) as Parameters<typeof plainTable>[0]);
  } catch (err) {
    return (err as Error).message;
  }
}

describe("streaming: chunks of any size give what the whole text gives", () => {
  const files = readdirSync(dir).filter((f) => !f.endsWith(".md"));
  for (const file of files) {
    test(file, async () => {
      const text = readText(file);
      const bytes = new TextEncoder().encode(text);
      const whole = await outcome(() => parseDstatCsv(text, { year: 2016 }));
      // A line split anywhere: 1- and 3-byte chunks on the smallest files (the reader joins each chunk onto
      // the first bytes it holds back, costly on bigger files; the text below covers the byte-order mark and UTF-8).
      for (const size of bytes.length < 4_000 ? [1, 3, 64, 4099] : [64, 4099, 65_536])
        expect(await outcome(() => readDstat(pieces(bytes, size), { year: 2016 }))).toEqual(whole);
    });
  }

  test("a byte-order mark, CRLF, a UTF-8 cell and a pcp-dstat preamble split at every byte", async () => {
    const text =
      '\ufeff"pcp-dstat 5.0.3 CSV Output"\r\n"Cmdline:","pcp dstat",,,,"Date:","21 Oct 2021 21:58:39 UTC"\r\n' +
      '"system","memory usage",,"x"\r\n' +
      '"time","used","free","name"\r\n21-10 21:58:40,1.5,2,é\r\n21-10 21:58:41,3,4.25,"ünï"\r\n';
    const whole = await outcome(() => parseDstatCsv(text));
    // pcp-dstat's KiB → bytes; a text cell is NaN, quoted or not.
    expect(whole).toEqual({
      columns: ["used", "free", "name"],
      rows: 2,
      assumedYear: undefined,
      times: [String(Date.UTC(2021, 9, 21, 21, 58, 40)), String(Date.UTC(2021, 9, 21, 21, 58, 41))],
      values: [
        ["1536", "3072"],
        ["2048", "4352"],
        ["NaN", "NaN"],
      ],
    });
    const bytes = new TextEncoder().encode(text);
    for (const size of [1, 2, 5]) expect(await outcome(() => readDstat(pieces(bytes, size)))).toEqual(whole);
  });

  test("a Date: line below the data still sets the year of its dd-mm times", async () => {
    const text = '"time","usr"\n31-12 23:59:59,1\n01-01 00:00:01,2\n"Cmdline:","dstat",,,,"Date:","31 Dec 2018 23:59:58 UTC"\n';
    for (const size of [1, 5, text.length]) {
      const t = await readDstat(pieces(new TextEncoder().encode(text), size), { year: 2017 });
      expect([...t.times]).toEqual([Date.UTC(2018, 11, 31, 23, 59, 59), Date.UTC(2019, 0, 1, 0, 0, 1)]);
      expect(t.assumedYear).toBeUndefined();
    }
  });

  test("a pcp-dstat preamble anywhere scales the memory columns, as when the whole text was read", () => {
    const block = '"memory usage",\n"used","free"\n100,200\n';
    expect([...parseDstatCsv(block).values[0]!]).toEqual([100]);
    expect([...parseDstatCsv(`${block}"pcp-dstat 5.0.3 CSV Output"\n`).values[0]!]).toEqual([100 * 1024]);
  });

  test("columns: only the named ones keep values, identical to a full read; the others are still checked", async () => {
    const text = readText("openstack-devstack-focal-rax-dfw-20211021.csv");
    const full = parseDstatCsv(text);
    const some = parseDstatCsv(text, { columns: ["usr", "1m", "no-such-column"] });
    expect(some.columns).toEqual(full.columns);
    expect([...some.times]).toEqual([...full.times]);
    full.columns.forEach((name, c) => {
      if (name === "usr" || name === "1m") expect([...some.values[c]!]).toEqual([...full.values[c]!]);
      else expect(some.values[c]).toBeUndefined();
    });
    expect(parseDstatCsv(text, { columns: [] }).values.every((v) => v === undefined)).toBe(true);
    // Junk in a column nobody keeps still makes the trace junk.
    const junk = '"time","usr","x","y"\n01-01 00:00:00,1,"a",b\n01-01 00:00:01,2,"c",d\n';
    expect(() => parseDstatCsv(junk, { columns: ["usr"] })).toThrow("most data cells are not numbers");
  });

  test("expectedBytes sizes the columns once; a wrong hint changes nothing but the spare room", async () => {
    // One block of 8 × 533 rows: the fixture's rows over and over below its header.
    const [head, rows] = readText("openstack-devstack-focal-rax-dfw-20211021.csv").split(/(?<="clo"\n)/);
    const text = head! + rows!.repeat(8);
    const bytes = new TextEncoder().encode(text);
    const whole = await outcome(() => parseDstatCsv(text));
    for (const hint of [bytes.length, 10, bytes.length * 3])
      expect(await outcome(() => readDstat(pieces(bytes, 999), { expectedBytes: hint }))).toEqual(whole);
    // Room for the rows (and 5 % more), where doubling from 1,024 rows would make room for 8,192.
    const sized = await readDstat(pieces(bytes, 999), { expectedBytes: bytes.length, columns: ["usr"] });
    const room = sized.values[0]!.buffer.byteLength / 8;
    expect(room).toBeGreaterThanOrEqual(sized.rows);
    expect(room).toBeLessThan(sized.rows * 1.1);
  });

  test("an aborted signal stops the reading at the next chunk", async () => {
    const controller = new AbortController();
    const bytes = new TextEncoder().encode(readText("openstack-devstack-focal-rax-dfw-20211021.csv"));
    async function* abortAfterFirst() {
      yield bytes.subarray(0, 1000);
      controller.abort();
      yield bytes.subarray(1000);
    }
    expect(readDstat(abortAfterFirst(), { signal: controller.signal })).rejects.toThrow(/abort/i);
    expect((await readDstat(pieces(bytes, 1000), { signal: new AbortController().signal })).rows).toBe(533);
  });

  test("more text than the cap is refused with one line that says what to do", async () => {
    expect(MAX_TRACE_BYTES).toBe(256 * 1024 * 1024);
    const bytes = new TextEncoder().encode(readText("openstack-devstack-focal-rax-dfw-20211021.csv"));
    const read = readDstat(pieces(bytes, 4096), { maxBytes: 64 * 1024 });
    expect(read).rejects.toThrow(DstatTooLargeError);
    expect(read).rejects.toThrow("dstat trace larger than 64 KiB of text (the cap on one trace, which bounds memory)");
    expect((await readDstat(bytes, { maxBytes: bytes.length })).rows).toBe(533);
  });
});

describe("header variants", () => {
  test("pcp-dstat (OpenStack devstack 2021): classic names, short first row dropped, KiB memory → bytes, year from Date:", () => {
    const t = parseDstatCsv(readText("openstack-devstack-focal-rax-dfw-20211021.csv"));
    expect(t.columns).toEqual(
      "usr sys idl wai stl used free buf cach recv send read writ read.1 writ.1 int csw 1m 5m 15m run blk new in out lis act syn tim clo".split(
        " ",
      ),
    );
    expect(t.rows).toBe(533);
    // line 8 of the file: 21-10 21:58:40,8.368,7.619,81.431,0.125,0.125,738924,...
    expect(t.times[0]).toBe(Date.UTC(2021, 9, 21, 21, 58, 40));
    expect(t.values[0]![0]).toBe(8.368);
    expect(t.values[5]![0]).toBe(738924 * 1024);
    expect(t.values[t.columns.indexOf("1m")]![0]).toBe(0.96);
    expect(t.values[t.columns.indexOf("read.1")]![0]).toBe(0);
    expect(t.values[t.columns.indexOf("writ.1")]![0]).toBe(48.959);
  });

  test("pcp-dstat with time as the last column and a 'missed ticks' trailing field", () => {
    const last = parseDstatCsv(readText("standin-pcp-dstat-6.2.0-time-last.csv"));
    expect(last.columns).not.toContain("time");
    expect(last.times[0]).toBe(Date.UTC(2025, 5, 20, 2, 7, 19));
    const first = parseDstatCsv(readText("standin-pcp-dstat-6.2.0-time-first.csv"));
    const missed = first.times.indexOf(Date.UTC(2025, 5, 20, 1, 42, 56));
    expect(first.values[0]![missed]).toBe(0.091);
  });

  test("0.7.0 date/time column and epoch columns become the time index", () => {
    const old = parseDstatCsv(readText("octu0-cpu-mem-disk-io-net-int-sys-tcp-0.7.0.csv"));
    expect(old.columns).not.toContain("date/time");
    expect(old.times[0]).toBe(Date.UTC(2020, 11, 9, 15, 12, 54));
    const epoch = parseDstatCsv(readText("standin-0.7.2-epoch-mem-swap-percpu.csv"));
    expect(epoch.times[0]).toBeCloseTo(1436528507220, 0);
    expect(epoch.columns.slice(0, 6)).toEqual(["used", "buff", "cach", "free", "used.1", "free.1"]);
    // --time --epoch: the clock is the index and the epoch column is no feature either
    const both = parseDstatCsv(readText("shaoguangleo-time-epoch-cpu-disk-net-sys-0.7.2.csv"));
    expect(both.columns[0]).toBe("usr");
    expect(both.columns).not.toContain("epoch");
    expect(both.times[0]).toBe(Date.UTC(2020, 9, 2, 9, 1, 17));
  });

  test("appended file: the last block with its own column set is used", () => {
    const t = parseDstatCsv(readText("standin-0.7.3-two-runs-appended.csv"));
    expect(t.columns).toContain("cpu0 usage:usr");
    expect(t.rows).toBe(69);
  });

  test("no time column: times are NaN; no preamble at all still parses", () => {
    const t = parseDstatCsv(readText("standin-column-row-only-EDGE.csv"));
    expect(t.columns.at(-2)).toBe("used.1");
    expect(t.times.every((x) => Number.isNaN(x))).toBe(true);
    expect(t.values[0]![0]).toBe(26.52);
  });

  test("options.year is used only when the header has no Date:", () => {
    const body = '"time","usr"\n31-12 23:59:59,1\n';
    expect(parseDstatCsv(body, { year: 2017 }).times[0]).toBe(Date.UTC(2017, 11, 31, 23, 59, 59));
    const dated = `"Cmdline:","dstat",,,,"Date:","31 Dec 2018 23:59:58 UTC"\n${body}01-01 00:00:01,2\n`;
    const t = parseDstatCsv(dated, { year: 2017 });
    expect(t.times[0]).toBe(Date.UTC(2018, 11, 31, 23, 59, 59));
    // crossing New Year moves to the next year
    expect(t.times[1]).toBe(Date.UTC(2019, 0, 1, 0, 0, 1));
  });

  test("CRLF line ends and a byte-order mark change nothing", () => {
    const text = readText("standin-0.7.2-tam.csv");
    const plain = parseDstatCsv(text);
    const windows = parseDstatCsv(`\ufeff${text.replace(/\n/g, "\r\n")}`);
    expect(windows.columns).toEqual(plain.columns);
    expect(windows.rows).toBe(plain.rows);
    expect([...windows.times]).toEqual([...plain.times]);
    expect(windows.values.map((v) => [...v!])).toEqual(plain.values.map((v) => [...v!]));
  });

  test("numbers match the values pandas reads from the same classic file", () => {
    const t = parseDstatCsv(readFileSync(CLASSIC, "utf8"));
    const { cols, v } = pandas();
    expect(t.columns).toEqual(cols.filter((c) => c !== "time"));
    expect(t.rows).toBe(v.length);
    for (let r = 0; r < t.rows; r++) {
      for (let c = 0; c < t.columns.length; c++) expect(t.values[c]![r]).toBe(v[r]![c]!);
    }
  });
});

describe("junk is rejected with a reason", () => {
  const cases: [string, string, RegExp][] = [
    ["empty", "", /empty/],
    ["whitespace", "  \n\n", /empty/],
    ["HTML error page", "<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", /HTML/],
    ["binary", "\u0000\u0001\u0002gzip?", /binary/],
    ["header only", '"Dstat 0.7.2 CSV output"\n"time","usr","sys"\n', /no data rows/],
    ["plain prose", "hello world, this is not dstat\nnor is this\n", /no complete data rows/],
    ["words under a header", '"time","usr"\nfoo,bar\nbaz,qux\n', /no data rows/],
    ["text cells under a header", '"time","usr","sys"\n01-01 00:00:00,x1,y2\n', /most data cells are not numbers/],
  ];
  for (const [name, text, reason] of cases) {
    test(name, () => {
      let error: unknown;
      try {
        parseDstatCsv(text);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(DstatParseError);
      expect(error).toBeInstanceOf(CimlError);
      expect((error as Error).message).toMatch(reason);
      expect((error as Error).message).not.toContain("\n");
    });
  }

  test("dstat screen output saved as .txt", () => {
    expect(() => parseDstatCsv(readText("standin-NOT-CSV-terminal-output.txt"))).toThrow(/not a dstat CSV/);
  });
});

test("pandasDedupe renames repeats exactly as pandas.read_csv does", () => {
  expect(pandasDedupe(REPEATED)).toEqual(pandas().deduped);
});

test("parseNumber gives exactly the double Number() gives for dstat's decimals, NaN for the rest", () => {
  const samples = [
    "0",
    "0.0",
    "1",
    "-0.5",
    "8.368",
    "738924",
    "1101619200.0",
    "2.05011812352e+11",
    "1e-3",
    "123456789012345",
    "1234567890123456789",
    "0.1234567890123456789",
    ".5",
    "5.",
  ];
  let seed = 7;
  const rnd = () => {
    seed = (seed * 48271) % 2147483647;
    return seed / 2147483647;
  };
  for (let i = 0; i < 5000; i++) {
    const digits = Math.floor(rnd() * 15) + 1;
    const whole = String(Math.floor(rnd() * 10 ** digits));
    const frac = Math.floor(rnd() * 7);
    samples.push(frac === 0 ? whole : `${whole.slice(0, Math.max(1, whole.length - frac))}.${whole.slice(-frac).padStart(frac, "0")}`);
  }
  const bytes = (s: string) => new TextEncoder().encode(s);
  for (const s of samples) expect(parseNumber(bytes(s), 0, s.length)).toBe(Number(s));
  for (const junk of ["inf", "-inf", "nan", "abc", "1.2.3", "1e", "--1", "0x10", "Top: conky"])
    expect(parseNumber(bytes(junk), 0, junk.length)).toBeNaN();
});

/** What a read gives, as plain arrays (NaN spelled out), or the error's message. */
function read(text: string, options: Parameters<typeof parseDstatCsv>[1] = {}) {
  try {
    const t = parseDstatCsv(text, options);
    return { columns: t.columns, rows: t.rows, times: [...t.times], values: t.values.map((v) => v && [...v]), assumedYear: t.assumedYear };
  } catch (err) {
    return (err as Error).message;
  }
}

describe("the numbers and errors a user gets from small traces", () => {
  const HEAD = '"Dstat 0.7.2 CSV output"\n"Cmdline:","dstat",,,,"Date:","05 Mar 2020 10:00:00 UTC"\n';
  const at = (h: number, m: number, s: number, day = 5, month = 2, year = 2020) => Date.UTC(year, month, day, h, m, s);

  test("cells: numbers, empty (NaN, not junk), quoted text (NaN), signs and exponents; extra trailing fields ignored", () => {
    const t = read(
      `${HEAD}"time","a","b","c"\n05-03 10:00:00,-1.5,,"x",extra\n05-03 10:00:01,+2e3, 7 ,.5\n05-03 10:00:02,1e999,inf,5.\n05-03 10:00:03,12.5e3,.55e1,.5e1\n`,
    );
    expect(t).toEqual({
      columns: ["a", "b", "c"],
      rows: 4,
      times: [at(10, 0, 0), at(10, 0, 1), at(10, 0, 2), at(10, 0, 3)],
      values: [
        [-1.5, 2000, Number.NaN, 12500],
        [Number.NaN, 7, Number.NaN, 5.5],
        [Number.NaN, 0.5, 5, 5],
      ],
      assumedYear: undefined,
    });
  });

  test("a row with fewer fields than the header is dropped; blank and comma-only lines are skipped", () => {
    const t = read(`${HEAD}"time","a","b"\n05-03 10:00:00,1\n\n,,\r\n05-03 10:00:01,2,3\n   \n05-03 10:00:02,4,5\n05-03 10:00:03,6`);
    expect(t).toMatchObject({
      rows: 2,
      times: [at(10, 0, 1), at(10, 0, 2)],
      values: [
        [2, 4],
        [3, 5],
      ],
    });
  });

  test("days: dd/mm/yyyy, a day change mid-trace, and times that are no clock give NaN", () => {
    const t = read(
      `"time","a"\n31/12/2019 23:59:59,1\n01/01/2020 00:00:00,2\n01/01/2020 00:00:01,3\n9999 12:00:00,4\n02-01 12:30,5\n02-01 1:2:3,6\n2-1 00:00:09,7\n02-01 00:0x:00,8\n102-01 00:00:00,9\n02-013 00:00:00,10\n101/01/2020 00:00:00,11\n01/01/20201 00:00:00,12\n02-01 ::,13\n02-01 00:00:0/,14\n02-01 00.00.01,15\n`,
      { year: 2024 },
    );
    expect(t).toMatchObject({
      rows: 15,
      times: [
        Date.UTC(2019, 11, 31, 23, 59, 59),
        Date.UTC(2020, 0, 1, 0, 0, 0),
        Date.UTC(2020, 0, 1, 0, 0, 1),
        Number.NaN,
        Number.NaN,
        Date.UTC(2024, 0, 2, 1, 2, 3),
        Date.UTC(2024, 0, 2, 0, 0, 9),
        ...Array(8).fill(Number.NaN),
      ],
    });
  });

  test("every month name of the Date: line sets the month that decides New Year", () => {
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    months.forEach((name, m) => {
      // A row in the header's month stays in its year; one in the month before moves to the next year.
      const before = String(((m + 11) % 12) + 1).padStart(2, "0");
      const text = `"Cmdline:","dstat",,,,"Date:","15 ${name}uary 2020 10:00:00 UTC"\n"time","a"\n15-${String(m + 1).padStart(2, "0")} 10:00:00,1\n15-${before} 10:00:00,2\n`;
      const t = parseDstatCsv(text);
      expect([...t.times]).toEqual([Date.UTC(2020, m, 15, 10), Date.UTC(m === 0 ? 2020 : 2021, (m + 11) % 12, 15, 10)]);
    });
  });

  test("the year a dd-mm trace was read with is told only when the file did not say it", () => {
    const body = '"time","a"\n01-01 00:00:00,1\n';
    expect(read(body, { year: 2024 })).toMatchObject({ times: [Date.UTC(2024, 0, 1)], assumedYear: 2024 });
    expect(read(`"Cmdline:","dstat",,,,"Date:","01 Jan 2020 00:00:00 UTC"\n${body}`, { year: 2024 })).toMatchObject({
      assumedYear: undefined,
    });
    expect(read('"epoch","a"\n0,1\n', { year: 2024 })).toMatchObject({ assumedYear: undefined });
    expect(read('"a","b"\n0,1\n', { year: 2024 })).toMatchObject({ assumedYear: undefined });
  });

  test("CRLF line ends: the time may be the last field", () => {
    expect(read('"a","time"\r\n1,01-01 00:00:09\r\n', { year: 2024 })).toMatchObject({
      times: [Date.UTC(2024, 0, 1, 0, 0, 9)],
      values: [[1]],
    });
  });

  test("the last line needs no line end; a blank last line does not make the file empty", () => {
    expect(read('"time","a"\n01-01 00:00:00,1', { year: 2024 })).toMatchObject({ rows: 1, values: [[1]] });
    expect(read('"time","a"\n01-01 00:00:00,1\n   \n', { year: 2024 })).toMatchObject({ rows: 1, values: [[1]] });
  });

  test("epoch times are unix seconds; no time column gives NaN times", () => {
    expect(read('"epoch","a"\n1583402400.5,1\n')).toMatchObject({ times: [1583402400500], values: [[1]] });
    expect(read('"a","b"\n1,2\n')).toMatchObject({ times: [Number.NaN], values: [[1], [2]] });
  });

  test("header rows: trailing commas, unquoted names, an unclosed quote, total and per-device groups", () => {
    const t = read(
      '"system","total cpu usage",,"dsk/sda",,"net/total",,\n"time","total cpu usage:usr","total cpu usage:sys","dsk/sda:read","dsk/sda:writ","recv","send",\n01-01 00:00:00,1,2,3,4,5,6\n',
    );
    expect(t).toMatchObject({
      columns: ["usr", "sys", "dsk/sda:read", "dsk/sda:writ", "recv", "send"],
      values: [[1], [2], [3], [4], [5], [6]],
    });
    // A group "x/total" is a total group too; an empty group strips nothing.
    expect(read('"x/total",\n"x/total:a","b"\n1,2\n')).toMatchObject({ columns: ["a", "b"] });
    expect(read("time,usr ,sys\n01-01 00:00:00,1,2\n")).toMatchObject({ columns: ["usr", "sys"], values: [[1], [2]] });
    expect(read('"time","usr","sys\n01-01 00:00:00,1,2\n')).toMatchObject({ columns: ["usr", "sys"] });
    // An unquoted column row may start with any ASCII letter, upper or lower case.
    for (const first of ["A", "Z", "a", "z"]) expect(read(`${first},b\n1,2\n`)).toMatchObject({ columns: [first, "b"] });
  });

  test("memory and swap are KiB → bytes only in pcp-dstat traces, other groups never", () => {
    const body = '"memory usage",,"swap",,"dsk/total"\n"used","free","used","free","read"\n1,2,3,4,5\n';
    expect(read(body)).toMatchObject({ values: [[1], [2], [3], [4], [5]] });
    expect(read(`"pcp-dstat 5.0.3 CSV Output"\n${body}`)).toMatchObject({ values: [[1024], [2048], [3072], [4096], [5]] });
    expect(read(`"Dstat 0.7.2 CSV output"\n${body}`)).toMatchObject({ values: [[1], [2], [3], [4], [5]] });
    // The group row is the row right above the column row, blank lines between them aside; a data row between
    // two column rows means the second has no group row.
    const pcp = '"pcp-dstat 5.0.3 CSV Output"\n';
    expect(read(`${pcp}"memory usage"\n\n"used"\n1\n`)).toMatchObject({ values: [[1024]] });
    expect(read(`${pcp}"time","memory usage"\n01-01 00:00:00,1\n"time","used"\n01-01 00:00:01,2\n`)).toMatchObject({ values: [[2]] });
  });

  test("the last block with data is the trace; a block without data after it does not replace it", () => {
    const first = '"Dstat 0.7.3 CSV output"\n"time","a"\n01-01 00:00:00,1\n01-01 00:00:01,2\n';
    const second = '"Dstat 0.7.3 CSV output"\n"time","b","c"\n01-01 00:00:02,3,4\n';
    expect(read(first + second)).toMatchObject({ columns: ["b", "c"], rows: 1, values: [[3], [4]] });
    expect(read(second + first)).toMatchObject({ columns: ["a"], rows: 2, values: [[1, 2]] });
    expect(read(`${first}"Dstat 0.7.3 CSV output"\n"time","b"\n`)).toMatchObject({ columns: ["a"], rows: 2 });
    // A block whose header is broken is an error only when it is the trace.
    expect(read(`"time"\n1\n${first}`)).toMatchObject({ columns: ["a"] });
    expect(read(`${first}"time","epoch"\n1,2\n`)).toBe("dstat CSV has no data columns besides the time");
  });

  test("each kind of junk names itself", () => {
    expect(read("\u00a0\u2003\n\t\v\f\r\n")).toBe("empty file, not a dstat CSV");
    expect(read("1,2,3\n4,5,6\n")).toBe('not a dstat CSV: no row of column names (expected e.g. "time","usr",...)');
    expect(read('"time","a"\n')).toBe("dstat CSV has a header but no data rows");
    expect(read('"time","a","b"\n01-01 00:00:00,1\n')).toBe("dstat CSV has no complete data rows");
    expect(read('"time","a","b"\n01-01 00:00:00,1,x\n01-01 00:00:01,y,z\n')).toBe("not a dstat CSV: most data cells are not numbers");
    // Half the cells bad is still a trace (a text column beside a numeric one).
    expect(read('"time","a","b"\n01-01 00:00:00,1,x\n')).toMatchObject({ rows: 1 });
    expect(read("Error 502\n<html><body>Bad Gateway</body></html>\n")).toBe(
      "an HTML page, not a dstat CSV (an error page from the log server?)",
    );
    expect(read("Proxy says:<!DOCTYPE html>\n")).toBe("an HTML page, not a dstat CSV (an error page from the log server?)");
    expect(read("\n  <error>bad gateway</error>\n")).toBe("an HTML page, not a dstat CSV (an error page from the log server?)");
    // Unquoted names hold only letters, digits and _./: %-; anything else is no header.
    expect(read("a=b,c\n1,2\n")).toBe('not a dstat CSV: no row of column names (expected e.g. "time","usr",...)');
    // The junk check reads the first 4,096 characters, not only the first few hundred.
    expect(read(`"time","a"\n${"01-01 00:00:00,1\n".repeat(150)}\u0000\n`)).toBe("binary data, not a dstat CSV");
    const cutAtEnd = new Uint8Array([...new TextEncoder().encode('"time","a"\n01-01 00:00:00,1\n'), 0xe2]);
    expect(readDstat(cutAtEnd)).rejects.toThrow("binary data, not a dstat CSV");
    expect(read(`${"x".repeat(200)}<html>\n`)).toBe('not a dstat CSV: no row of column names (expected e.g. "time","usr",...)');
    const invalidUtf8 = new Uint8Array([0x22, 0x74, 0x22, 0x2c, 0x22, 0x61, 0x22, 0x0a, 0xff, 0x0a]);
    expect(readDstat(invalidUtf8)).rejects.toThrow("binary data, not a dstat CSV");
  });

  test("up to two byte-order marks go, as when the text was decoded and then checked", () => {
    const text = '"time","a"\n01-01 00:00:00,1\n';
    expect(read(`\ufeff\ufeff${text}`)).toEqual(read(text));
    // A third stays, and hides the column row as a byte-order mark hides it from any CSV reader.
    expect(read(`\ufeff\ufeff\ufeff${text}`)).toBe('not a dstat CSV: no row of column names (expected e.g. "time","usr",...)');
  });

  test("repeated names are renamed as pandas does, skipping names the file already has", () => {
    // The rule the pandas comparison above checks: the 2nd "a" would be "a.1", which the file has, so it
    // is "a.2"; the 3rd "a" goes on from there to "a.3"; "b" repeats once.
    expect(pandasDedupe(["a", "a", "a.1", "b", "a", "b"])).toEqual(["a", "a.2", "a.1", "b", "a.3", "b.1"]);
    expect(read('"time","a","a","a.1"\n01-01 00:00:00,1,2,3\n')).toMatchObject({ columns: ["a", "a.2", "a.1"], values: [[1], [2], [3]] });
  });

  test("a cell is a number or junk alike whether its column is kept or only checked", () => {
    // One row of two cells, the second junk: the trace is refused ("most data cells are not numbers") exactly
    // when the first cell is junk too. A kept column's cells are parsed for their value, a dropped one's
    // only checked, by another loop (the hot one of cache-data, which keeps none).
    const numbers = ["0", "-1.5", "5.", ".5", "-0", "1e5", "+2e3", " 7 ", "", "1".repeat(30), `${"0".repeat(300)}1`];
    const junk = ["-", ".", "-.", "1.2.3", "--1", "1-2", "a5", "inf", "nan", "abc", "1e999", "9".repeat(400), '"x"', '1"2', "é"];
    for (const cell of [...numbers, ...junk]) {
      const text = `"time","a","b"\n01-01 00:00:00,${cell},x\n`;
      const verdict = (columns?: string[]) => (typeof read(text, { columns }) === "string" ? "junk" : "number");
      expect([cell, verdict(), verdict(["a"]), verdict([])]).toEqual([cell, ...Array(3).fill(numbers.includes(cell) ? "number" : "junk")]);
    }
    // A quoted cell is one cell, commas and all, kept or not.
    const quoted = '"time","a","b"\n01-01 00:00:00,"x,y",5\n';
    expect(read(quoted)).toMatchObject({ rows: 1, values: [[Number.NaN], [5]] });
    expect(read(quoted, { columns: ["b"] })).toMatchObject({ rows: 1, values: [undefined, [5]] });
    expect(read(quoted, { columns: [] })).toMatchObject({ rows: 1, values: [undefined, undefined] });
  });

  test("columns: only the named ones keep values; the rest are still parsed and checked", () => {
    const text = '"time","a","b","c"\n01-01 00:00:00,1,2,3\n01-01 00:00:01,4,5,6\n';
    expect(read(text, { columns: ["c", "a", "zz"] })).toMatchObject({ columns: ["a", "b", "c"], values: [[1, 4], undefined, [3, 6]] });
    expect(read('"time","a","b","c"\n01-01 00:00:00,1,x,y\n', { columns: ["a"] })).toBe("not a dstat CSV: most data cells are not numbers");
  });

  // 1,500 rows of "dd-mm HH:MM:SS,i,-i" (about 39 KB): past the first 1,024 rows the columns grow, and past
  // the first 12 KB the reader stops holding bytes back for the junk check.
  // Every row 26 bytes (values padded with zeros), but row 700's first value has 300 more leading zeros (still
  // 700): a line longer than the 256 bytes the reader first keeps for a line split across chunks.
  const many = Array.from(
    { length: 1500 },
    (_, i) =>
      `02-01 ${String(Math.floor(i / 60) % 24).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}:00,${i === 700 ? "0".repeat(300) : ""}${String(i).padStart(4, "0")},-${String(i).padStart(4, "0")}`,
  );
  const long = `"time","up","down"\n${many.join("\n")}\n`;
  const longBytes = new TextEncoder().encode(long);

  test("a trace longer than the first columns grows them, with or without the size hint, in chunks or whole", async () => {
    const expectValues = (t: Awaited<ReturnType<typeof readDstat>>) => {
      expect(t.rows).toBe(1500);
      expect([...t.values[0]!]).toEqual(many.map((_, i) => i));
      expect([...t.values[1]!]).toEqual(many.map((_, i) => (i === 0 ? -0 : -i)));
      // row 1499: hour floor(1499 / 60) % 24 = 0, minute 1499 % 60 = 59
      expect(t.times[1499]).toBe(Date.UTC(2024, 0, 2, 0, 59));
      expect(t.times[61]).toBe(Date.UTC(2024, 0, 2, 1, 1));
    };
    expectValues(await readDstat(longBytes, { year: 2024 }));
    expectValues(await readDstat(pieces(longBytes, 700), { year: 2024 }));
    // 7-byte chunks: many hold no line end, so a line is pieced together across several.
    expectValues(await readDstat(pieces(longBytes, 7), { year: 2024 }));
    // The hint sizes the columns from the first rows' bytes: room for the rows and 5 % more (+64), not 2,048.
    const hinted = await readDstat(pieces(longBytes, 700), { year: 2024, expectedBytes: longBytes.length });
    expectValues(hinted);
    const room = hinted.values[0]!.buffer.byteLength / 8;
    expect(room).toBeGreaterThanOrEqual(1500);
    // At row 1,024 (26.3 bytes a row so far), 476 rows of 26 bytes remain: 1,024 + ⌈476 × 26 / 26.3 × 1.05⌉ + 64
    // = 1,583. Growing by an eighth from 1,024 would give 1,640.
    expect(room).toBeLessThan(1600);
    // A hint smaller than what has been read already doubles instead.
    const small = await readDstat(pieces(longBytes, 700), { year: 2024, expectedBytes: 100 });
    expectValues(small);
    expect(small.values[0]!.buffer.byteLength / 8).toBe(2048);
  });

  test("an aborted signal stops the reading at the next chunk, with the signal's reason", async () => {
    const controller = new AbortController();
    async function* abortAfterFirst() {
      yield longBytes.subarray(0, 100);
      controller.abort(new Error("stopped by Ctrl-C"));
      yield longBytes.subarray(100);
    }
    expect(readDstat(abortAfterFirst(), { signal: controller.signal })).rejects.toThrow("stopped by Ctrl-C");
  });

  test("the cap on one trace is said in MiB, KiB or bytes", async () => {
    expect(formatByteCap(MAX_TRACE_BYTES)).toBe("256 MiB");
    expect(formatByteCap(3 * 1024 * 1024 + 1024)).toBe("3073 KiB");
    expect(formatByteCap(1024)).toBe("1 KiB");
    expect(formatByteCap(1536)).toBe("1536 bytes");
    expect(formatByteCap(1023)).toBe("1023 bytes");
    expect(formatByteCap(1024 * 1024)).toBe("1 MiB");
    expect(formatByteCap(0)).toBe("0 bytes");
    const text = new TextEncoder().encode('"time","a"\n01-01 00:00:00,1\n');
    expect(readDstat(text, { maxBytes: text.length - 1 })).rejects.toThrow(`larger than ${text.length - 1} bytes of text`);
    expect((await readDstat(text, { maxBytes: text.length })).rows).toBe(1);
  });
});
