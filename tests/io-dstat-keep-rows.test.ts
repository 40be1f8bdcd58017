// DstatReadOptions.keepRows: an unresampled example needs only a trace's first complete rows, so the reader
// stores those and counts the rest. Whatever is stored must be exactly what the whole parse holds there,
// and the example built from it exactly the one built from the whole trace (docs/cache-data.md, "Memory").
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { DstatParseError, parseDstatCsv, readDstat, type DstatTable } from "../src/io/dstat-csv.ts";
import { prepareTrace, rawExampleInto, rowsUsed, type ExampleShape } from "../src/pipeline/dataset/example-vector.ts";
import { fixturePath } from "./fixtures.ts";

const dir = fixturePath("dstat");
const files = readdirSync(dir).filter((f) => !f.endsWith(".md") && f !== "index.csv" && !f.includes("NOT-CSV") && !f.includes("EDGE"));

function readText(name: string): string {
  const bytes = readFileSync(`${dir}/${name}`);
  return (name.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
}

function tryParse(text: string, options: Parameters<typeof parseDstatCsv>[1]): DstatTable | undefined {
  try {
    return parseDstatCsv(text, options);
  } catch (err) {
    if (err instanceof DstatParseError) return undefined;
    throw err;
  }
}

/** Rows of `table` whose `columns` all hold numbers. */
function completeRows(table: DstatTable): number {
  let n = 0;
  for (let r = 0; r < table.rows; r++) if (table.values.every((v) => v === undefined || v[r] === v[r])) n++;
  return n;
}

const shapeOf = (columns: string[], length: number): ExampleShape => ({
  columns,
  sample_interval: null,
  aggregation_functions: [],
  normalized_length: length,
});

describe("keepRows on every fixture", () => {
  test("covers the fixtures that parse", () => {
    expect(files.filter((f) => tryParse(readText(f), {}) !== undefined).length).toBeGreaterThanOrEqual(20);
  });

  for (const file of files) {
    test(`${file}: the stored rows are the whole parse's first rows, and the example is the same`, () => {
      const text = readText(file);
      const whole = tryParse(text, { year: 2021 });
      if (!whole) {
        // A file the reader refuses is refused with keepRows too, for the same reason.
        expect(() => parseDstatCsv(text, { year: 2021, keepRows: 3 })).toThrow(DstatParseError);
        return;
      }
      const columns = whole.columns.slice(0, 6);
      const full = parseDstatCsv(text, { year: 2021, columns });
      for (const keep of [1, 3, 40]) {
        const capped = parseDstatCsv(text, { year: 2021, columns, keepRows: keep });
        expect(capped.columns).toEqual(full.columns);
        expect(capped.completeRows).toBe(completeRows(full));
        expect(completeRows(capped)).toBe(Math.min(keep, completeRows(full)));
        expect(capped.rows).toBeLessThanOrEqual(full.rows);
        expect(Array.from(capped.times)).toEqual(Array.from(full.times.subarray(0, capped.rows)));
        capped.values.forEach((v, c) =>
          expect(v && Array.from(v)).toEqual(full.values[c] && Array.from(full.values[c]!.subarray(0, capped.rows))),
        );
        const shape = shapeOf(columns, keep);
        expect(rowsUsed(shape)).toBe(keep);
        const a = new Float64Array(columns.length * keep);
        const b = new Float64Array(columns.length * keep);
        let fullLength: number | undefined;
        try {
          fullLength = rawExampleInto(full, shape, a);
        } catch {
          // No complete sample in these columns: the capped trace says so too.
          expect(() => rawExampleInto(capped, shape, b)).toThrow();
          continue;
        }
        rawExampleInto(capped, shape, b);
        expect(b).toEqual(a);
        expect(capped.completeRows).toBe(fullLength);
      }
    });
  }
});

describe("keepRows", () => {
  const text = readText("openstack-devstack-focal-rax-dfw-20211021.csv");
  const full = parseDstatCsv(text, { columns: ["usr", "used"] });

  test("an incomplete row before the cap is stored and not counted among the kept complete ones", () => {
    // The second data row's usr emptied: dropna drops it, so the example's second sample is the third row.
    const lines = text.split("\n");
    const cells = lines[8]!.split(",");
    cells[1] = "";
    lines[8] = cells.join(",");
    const holed = lines.join("\n");
    const whole = parseDstatCsv(holed, { columns: ["usr", "used"] });
    const capped = parseDstatCsv(holed, { columns: ["usr", "used"], keepRows: 2 });
    expect(Number.isNaN(whole.values[whole.columns.indexOf("usr")]![1]!)).toBe(true);
    expect(capped.rows).toBe(3);
    expect(capped.completeRows).toBe(whole.rows - 1);
    const shape = shapeOf(["usr", "used"], 2);
    expect(prepareTrace(capped, shape).values).toEqual(prepareTrace(whole, shape).values.map((v) => v.subarray(0, 2)));
  });

  test("without keepRows the table has no completeRows", () => {
    expect(full.completeRows).toBeUndefined();
  });

  test("a long trace whose size is known is not sized for all its rows: the columns hold about keepRows", async () => {
    const lines = text.split("\n");
    const header = lines.slice(0, 6).join("\n");
    const body = lines
      .slice(6)
      .filter((l) => l !== "")
      .join("\n");
    const long = new TextEncoder().encode(`${header}\n${Array.from({ length: 20 }, () => body).join("\n")}\n`);
    const chunks = async function* () {
      for (let i = 0; i < long.length; i += 65536) yield long.subarray(i, i + 65536);
    };
    const keepRows = 3000;
    const table = await readDstat(chunks(), { columns: ["usr"], keepRows, expectedBytes: long.length });
    expect(table.completeRows).toBeGreaterThan(20 * (full.rows - 1));
    // The stored rows, the incomplete ones among them, and the slot later rows are parsed into.
    const bound = (table.rows + 2) * 8;
    expect(table.times.buffer.byteLength).toBeLessThanOrEqual(bound);
    expect(table.values[table.columns.indexOf("usr")]!.buffer.byteLength).toBeLessThanOrEqual(bound);
    const whole = await readDstat(chunks(), { columns: ["usr"], expectedBytes: long.length });
    const shape = shapeOf(["usr"], keepRows);
    expect(Array.from(prepareTrace(table, shape).values[0]!.subarray(0, keepRows))).toEqual(
      Array.from(prepareTrace(whole, shape).values[0]!.subarray(0, keepRows)),
    );
  });

  test("a resampled or aggregated example uses every row", () => {
    expect(rowsUsed({ ...shapeOf(["usr"], 10), sample_interval: "1min" })).toBeUndefined();
    expect(rowsUsed({ ...shapeOf(["usr"], 1), aggregation_functions: ["mean"] })).toBeUndefined();
  });
});
