import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import {
  DstatParseError,
  DstatTooLargeError,
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
      // A line (even the byte-order mark, or a UTF-8 sequence) split anywhere: 1-byte chunks on small files.
      for (const size of bytes.length < 40_000 ? [1, 3, 64, 4099] : [3, 64, 4099, 65_536])
        expect(await outcome(() => readDstat(pieces(bytes, size), { year: 2016 }))).toEqual(whole);
    });
  }

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
    const file = `${dir}/standin-classic-0.7.2-vmstat-net-5s.csv`;
    const py = Bun.spawnSync([
      "/usr/bin/python3",
      "-c",
      "import pandas as pd,sys,json; d=pd.read_csv(sys.argv[1],skiprows=6); print(json.dumps({'cols':list(d.columns),'v':d.drop(columns=['time']).values.tolist()}))",
      file,
    ]);
    expect(py.exitCode).toBe(0);
    const want = JSON.parse(py.stdout.toString()) as { cols: string[]; v: number[][] };
    const t = parseDstatCsv(readFileSync(file, "utf8"));
    expect(t.columns).toEqual(want.cols.filter((c) => c !== "time"));
    for (let r = 0; r < t.rows; r++) {
      for (let c = 0; c < t.columns.length; c++) expect(t.values[c]![r]).toBe(want.v[r]![c]!);
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
  const names = ["read", "writ", "read", "writ", "read", "read.1", "usr", "usr"];
  const py = Bun.spawnSync([
    "/usr/bin/python3",
    "-c",
    "import pandas as pd,io,sys,json; print(json.dumps(list(pd.read_csv(io.StringIO(sys.argv[1]+'\\n'+','.join(['1']*8))).columns)))",
    names.join(","),
  ]);
  expect(py.exitCode).toBe(0);
  expect(pandasDedupe(names)).toEqual(JSON.parse(py.stdout.toString()));
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
