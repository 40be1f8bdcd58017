// The synthetic traces: real dstat 0.7.2 files (our parser and pandas read them), reproducible from a seed,
// and passing/failing runs that differ on average without being separable by one threshold.
import { describe, expect, test } from "bun:test";
import { parseDstatCsv } from "../src/io/dstat-csv.ts";
import { generateTrace, Rng, type FailureKind } from "../src/pipeline/simulate/trace-generator.ts";

const DEVSTACK_COLUMNS = [
  "usr",
  "sys",
  "idl",
  "wai",
  "hiq",
  "siq",
  "used",
  "buff",
  "cach",
  "free",
  "recv",
  "send",
  "read",
  "writ",
  "read.1",
  "writ.1",
  "int",
  "csw",
  "1m",
  "5m",
  "15m",
  "run",
  "blk",
  "new",
  "in",
  "out",
  "lis",
  "act",
  "syn",
  "tim",
  "clo",
];
const START = Date.UTC(2019, 2, 9, 17, 33, 7);
const spec = (failure: FailureKind, intervalSeconds = 1) => ({
  failure,
  startMs: START,
  host: "ubuntu-bionic-rax-dfw-0001",
  intervalSeconds,
  nodeSpeed: 1,
});

function mean(xs: Float64Array | number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

describe("generateTrace", () => {
  test("classic dstat 0.7.2 preamble (7 lines, blank 5th) and the devstack column set", () => {
    const trace = generateTrace(spec("none"), 1);
    const lines = trace.csv.split("\n");
    expect(lines[0]).toBe('"Dstat 0.7.2 CSV output"');
    expect(lines[3]).toContain('"Cmdline:","dstat -tcmndrylpg --tcp --output /opt/stack/logs/dstat-csv.log"');
    expect(lines[3]).toContain('"Date:","09 Mar 2019 17:33:07 UTC"');
    expect(lines[4]).toBe("");
    expect(lines[7]!.startsWith("09-03 17:33:07,")).toBe(true);
    const table = parseDstatCsv(trace.csv);
    expect(table.columns).toEqual(DEVSTACK_COLUMNS);
    expect(table.rows).toBe(trace.rows);
    expect(table.times[0]).toBe(START);
    expect(table.times[1]! - table.times[0]!).toBe(1000);
  }, 60_000);

  test("values stay physical: CPU shares sum to 100, memory adds up to the 8 GiB node, no NaN", () => {
    const t = parseDstatCsv(generateTrace(spec("timeout", 5), 7).csv);
    const col = (name: string) => t.values[t.columns.indexOf(name)]!;
    for (let i = 0; i < t.rows; i++) {
      const cpu = ["usr", "sys", "idl", "wai", "hiq", "siq"].reduce((a, c) => a + col(c)[i]!, 0);
      expect(Math.abs(cpu - 100)).toBeLessThan(0.01);
      const mem = ["used", "buff", "cach", "free"].reduce((a, c) => a + col(c)[i]!, 0);
      expect(mem / 2 ** 30).toBeGreaterThan(7.9);
      expect(mem / 2 ** 30).toBeLessThan(8.2);
      for (const v of t.values) expect(Number.isFinite(v![i]!)).toBe(true);
    }
  }, 60_000);

  test("the same seed gives the same bytes; another seed does not", () => {
    expect(generateTrace(spec("none", 10), 42).csv).toBe(generateTrace(spec("none", 10), 42).csv);
    expect(generateTrace(spec("none", 10), 43).csv).not.toBe(generateTrace(spec("none", 10), 42).csv);
  }, 60_000);

  test("the interval sets the row spacing, not the run's length", () => {
    const one = generateTrace(spec("none", 1), 5);
    const ten = generateTrace(spec("none", 10), 5);
    expect(Math.abs(one.durationSeconds - ten.durationSeconds)).toBeLessThan(60);
    expect(Math.abs(ten.rows * 10 - one.rows)).toBeLessThan(60);
  }, 60_000);

  test("failures are shorter and busier on average, yet overlap passes", () => {
    const rng = new Rng(3);
    const stats = (failure: FailureKind) =>
      Array.from({ length: 40 }, () => {
        const t = parseDstatCsv(generateTrace(spec(failure, 30), rng.int(0, 2 ** 31)).csv);
        return { seconds: t.rows * 30, load: Math.max(...t.values[t.columns.indexOf("1m")]!) };
      });
    const pass = stats("none");
    const fail = [...stats("devstack"), ...stats("tests"), ...stats("timeout")];
    expect(mean(fail.map((s) => s.seconds))).toBeLessThan(0.85 * mean(pass.map((s) => s.seconds)));
    expect(mean(stats("timeout").map((s) => s.load))).toBeGreaterThan(mean(pass.map((s) => s.load)) + 1);
    // Not trivially separable: some failures run longer than the shortest pass.
    const shortestPass = Math.min(...pass.map((s) => s.seconds));
    expect(fail.filter((s) => s.seconds > shortestPass).length).toBeGreaterThan(5);
    // A flaky failure leaves no resource signature: its trace is drawn like a pass's.
    expect(generateTrace(spec("flaky", 30), 9).csv).toBe(generateTrace(spec("none", 30), 9).csv);
  }, 60_000);
});
