// build-dataset resamples a trace while it is read (ResampleRows, a row sink of the dstat reader), so a long
// trace costs its bins, not its rows. The bins must be the very doubles resampleMean gives for the whole parse,
// on every fixture and interval; a trace out of time order (which pandas sorts first) is read again whole.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { DstatParseError, parseDstatCsv, readDstat } from "../src/io/dstat-csv.ts";
import { loadCachedRun } from "../src/pipeline/cache/cached-run.ts";
import { readResampled } from "../src/pipeline/cache/resampled-run.ts";
import { prepareTrace, type ExampleShape } from "../src/pipeline/dataset/example-vector.ts";
import { ResampleRows } from "../src/pipeline/dataset/resample-rows.ts";
import type { TraceColumns } from "../src/pipeline/dataset/resample.ts";
import { parseSampleInterval } from "../src/pipeline/dataset/sample-interval.ts";
import { Workspace } from "../src/io/workspace.ts";
import { uuidFor, writeCache } from "./dataset-cache.ts";
import { fixturePath } from "./fixtures.ts";

const dir = fixturePath("dstat");
const files = readdirSync(dir).filter((f) => !f.endsWith(".md") && f !== "index.csv");
const root = mkdtempSync(join(tmpdir(), "ciml-resample-rows-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function readText(name: string): string {
  const bytes = readFileSync(`${dir}/${name}`);
  return (name.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
}

const shapeOf = (columns: string[], alias: string): ExampleShape => ({
  columns,
  sample_interval: alias,
  aggregation_functions: [],
  normalized_length: 10,
});

/** Times and every column as bytes: equal means the same doubles, bit for bit. */
function bitsOf(trace: TraceColumns): number[][] {
  return [trace.times, ...trace.values].map((a) => Array.from(new Uint8Array(Float64Array.from(a).buffer)));
}

/** prepareTrace's answer, or its error's message. */
function outcome(run: () => TraceColumns): { bits?: number[][]; rows?: number; error?: string } {
  try {
    const trace = run();
    return { bits: bitsOf(trace), rows: trace.rows };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

async function streamed(text: string, columns: string[], alias: string) {
  const sink = new ResampleRows(columns, parseSampleInterval(alias).seconds);
  const table = await readDstat(new TextEncoder().encode(text), { year: 2021, columns, rows: sink });
  return { sink, table };
}

const ALIASES = ["1s", "7s", "1min", "5min", "1h"];

describe("resampled as read = resampleMean of the whole parse, on every fixture", () => {
  for (const file of files) {
    test(file, async () => {
      const text = readText(file);
      let full: ReturnType<typeof parseDstatCsv>;
      try {
        full = parseDstatCsv(text, { year: 2021 });
      } catch (err) {
        if (!(err instanceof DstatParseError)) throw err;
        return;
      }
      // Every column; every column but one (a dataset column the trace lacks: the same error either way).
      for (const columns of [full.columns, [...full.columns.slice(1), "no-such-column"]]) {
        const kept = columns.filter((c) => full.columns.includes(c));
        const whole = parseDstatCsv(text, { year: 2021, columns: kept });
        for (const alias of ALIASES) {
          const shape = shapeOf(columns, alias);
          const want = outcome(() => prepareTrace(whole, shape));
          const { sink, table } = await streamed(text, kept, alias);
          expect(outcome(() => prepareTrace(table, shape, sink))).toEqual(want);
        }
      }
    });
  }
});

describe("loading a cached run resampled as it is read", () => {
  const fixture = readText("standin-classic-0.7.2-vmstat-net-5s.csv");
  const lines = fixture.split("\n");
  const header = lines.findIndex((l) => l.startsWith('"time"')) + 1;
  const columns = ["usr", "sys", "idl"];
  const shape = shapeOf(columns, "1min");
  let n = 0;

  async function load(text: string) {
    const uuid = uuidFor(++n);
    const ws = await writeCache(join(root, `ws${n}`), "b", [{ uuid, trace: text }]);
    const loaded = await loadCachedRun(ws, uuid, { columns, resampleSeconds: 60 });
    if (typeof loaded === "string") throw new Error(loaded);
    return loaded;
  }

  test("a trace in time order is resampled while read: only its first row is stored", async () => {
    const loaded = await load(fixture);
    expect(loaded.resampled).toBeDefined();
    expect(loaded.table.rows).toBe(1);
    const whole = parseDstatCsv(fixture, { columns });
    expect(bitsOf(prepareTrace(loaded.table, shape, loaded.resampled))).toEqual(bitsOf(prepareTrace(whole, shape)));
  });

  // Two of its 40 rows swapped far apart (rows 5 s apart): the later one lands in an earlier bin, and rows in
  // order follow the swapped pair, so a sink that forgot it saw rows out of order would be found out.
  const swapped = [...lines];
  expect(swapped[header + 39]).toMatch(/^16-06 /);
  [swapped[header + 2], swapped[header + 30]] = [swapped[header + 30]!, swapped[header + 2]!];
  const stepsBack = swapped.join("\n");

  test("a trace whose clock steps back is read again and sorted, as pandas does", async () => {
    const loaded = await load(stepsBack);
    const whole = parseDstatCsv(stepsBack, { columns });
    expect(bitsOf(prepareTrace(loaded.table, shape, loaded.resampled))).toEqual(bitsOf(prepareTrace(whole, shape)));
    // and the swap mattered: resampled as they came, the sink saw it could not bin them
    const { sink } = await streamed(stepsBack, columns, "1min");
    expect(sink.outOfOrder).toBe(true);
    expect(sink.rows).toBe(whole.rows);
  });

  test("out of order, a few columns a read when every row's columns would hold more than the budget", async () => {
    const all = parseDstatCsv(stepsBack).columns;
    const uuid = uuidFor(++n);
    const ws = await writeCache(join(root, `ws${n}`), "b", [{ uuid, trace: stepsBack }]);
    const rows = parseDstatCsv(stepsBack).rows;
    const whole = parseDstatCsv(stepsBack, { columns: all });
    const want = bitsOf(prepareTrace(whole, shapeOf(all, "1min")));
    // 1, 2 and 5 columns a read (the times are held beside them): the same doubles as all at once.
    for (const perRead of [1, 2, 5]) {
      const read = await readResampled(ws, uuid, {
        year: undefined,
        columns: all,
        seconds: 60,
        signal: undefined,
        heldBytes: 8 * rows * (perRead + 1),
      });
      if (typeof read === "string") throw new Error(read);
      expect(bitsOf(prepareTrace(read.table, shapeOf(all, "1min"), read.resampled))).toEqual(want);
    }
  });

  test("reads of the trace: one in time order; out of order, one to find that and one per group of columns held", async () => {
    const uuid = uuidFor(++n);
    const at = join(root, `ws${n}`);
    await writeCache(at, "b", [{ uuid, trace: stepsBack }]);
    const inOrder = uuidFor(++n);
    await writeCache(at, "b", [{ uuid: inOrder, trace: fixture }]);
    // The workspace's own store, counting its reads (only traces are read here).
    const local = new Workspace(at).store;
    let reads = 0;
    const counting = new Proxy(local, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (key === "read") reads++;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const ws = new Workspace(counting);
    const all = parseDstatCsv(stepsBack).columns;
    const rows = parseDstatCsv(stepsBack).rows;
    expect(all.length).toBeGreaterThan(15);
    const readsOf = async (run: string, heldBytes?: number) => {
      reads = 0;
      const read = await readResampled(ws, run, { year: undefined, columns: all, seconds: 60, signal: undefined, heldBytes });
      if (typeof read === "string") throw new Error(read);
      return reads;
    };
    expect(await readsOf(inOrder)).toBe(1);
    // A short trace's rows fit the least budget (64 MiB) at once.
    expect(await readsOf(uuid)).toBe(2);
    expect(await readsOf(uuid, 8 * rows * 3)).toBe(1 + Math.ceil(all.length / 2));
    expect(await readsOf(uuid, 8 * rows * 3 - 1)).toBe(1 + all.length);
  });

  test("read again, the rows are dated in the run's year when the trace has no Date: line", async () => {
    const undated = stepsBack
      .split("\n")
      .filter((l) => !l.includes('"Date:"'))
      .join("\n");
    const uuid = uuidFor(++n);
    const ws = await writeCache(join(root, `ws${n}`), "b", [{ uuid, trace: undated, metadata: { run_at: "2017-06-16T11:00:00Z" } }]);
    const loaded = await loadCachedRun(ws, uuid, { columns, resampleSeconds: 60 });
    if (typeof loaded === "string") throw new Error(loaded);
    const trace = prepareTrace(loaded.table, shape, loaded.resampled);
    expect(new Date(trace.times[0]!).getUTCFullYear()).toBe(2017);
    expect(bitsOf(trace)).toEqual(bitsOf(prepareTrace(parseDstatCsv(undated, { year: 2017, columns }), shape)));
  });

  test("a run whose trace is not cached says so, resampled or not", async () => {
    const uuid = uuidFor(++n);
    const ws = await writeCache(join(root, `ws${n}`), "b", [{ uuid }]);
    expect(await loadCachedRun(ws, uuid, { columns, resampleSeconds: 60 })).toBe("no dstat file in the cache (.raw)");
  });

  test("read again and without any time: the dataset hears why, as it does from resampleMean", async () => {
    // Rows without a time are never out of order; a later Date: line sends them to be read again.
    const redated = `${fixture.trimEnd()}\n"Dstat 0.7.2 CSV output"\n"Cmdline:","dstat",,,,"Date:","01 Jan 2020 00:00:00 UTC"\n`;
    const noTime = redated
      .split("\n")
      .map((l) => (/^\d/.test(l) ? `x${l.slice(l.indexOf(","))}` : l))
      .join("\n");
    const loaded = await load(noTime);
    expect(() => prepareTrace(loaded.table, shape, loaded.resampled)).toThrow(
      "the trace has no time column, so it cannot be resampled; build the dataset without --sample-interval",
    );
  });

  test("a trace whose rows a later Date: line re-dates is read again", async () => {
    const text = `${fixture.trimEnd()}\n"Dstat 0.7.2 CSV output"\n"Cmdline:","dstat",,,,"Date:","01 Jan 2020 00:00:00 UTC"\n`;
    const loaded = await load(text);
    const whole = parseDstatCsv(text, { columns });
    expect(new Date(whole.times[0]!).getUTCFullYear()).toBe(2020);
    expect(bitsOf(prepareTrace(loaded.table, shape, loaded.resampled))).toEqual(bitsOf(prepareTrace(whole, shape)));
  });

  test("a trace that lacks a dataset column is excluded for it, as without resampling", async () => {
    const loaded = await load(stepsBack);
    const lacking = shapeOf([...columns, "no-such-column"], "1min");
    const read = await loadCachedRun(new Workspace(join(root, `ws${n}`)), uuidFor(n), {
      columns: [...columns, "no-such-column"],
      resampleSeconds: 60,
    });
    if (typeof read === "string") throw new Error(read);
    expect(() => prepareTrace(read.table, lacking, read.resampled)).toThrow("columns do not match the dataset: missing no-such-column");
    expect(loaded.resampled).toBeDefined();
  });

  test("a trace the reader refuses gives its reason, with or without resampling", async () => {
    const uuid = uuidFor(++n);
    const ws = await writeCache(join(root, `ws${n}`), "b", [{ uuid, trace: "<html>oops</html>" }]);
    expect(await loadCachedRun(ws, uuid, { columns, resampleSeconds: 60 })).toBe(await loadCachedRun(ws, uuid, { columns }));
  });
});
