// Values from the database printed in plain mode: escaped, so they cannot forge a line or drive the
// terminal, and shortened, so a huge one stays readable. --json keeps them whole (JSON escapes them).
import { describe, expect, test } from "bun:test";
import { JsonReporter } from "../src/tui/json-reporter.ts";
import { PlainReporter } from "../src/tui/plain-reporter.ts";

function plain() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, reporter: new PlainReporter({ write: (l) => out.push(l) }, { write: (l) => err.push(l) }) };
}

describe("plain output of outside values", () => {
  test("a run id with a newline and an escape sequence stays on one line, escaped", () => {
    const { out, reporter } = plain();
    reporter.event({ type: "prediction", runUuid: "abc\nerror: forged line\u001b[2J", predictedClass: "0", probabilities: { "0": 0.9 } });
    expect(out).toEqual(["abc\\nerror: forged line\\u001b[2J: predicted 0 (p=0.900)"]);
  });

  test("a 10,000-character run id is shortened to 200 characters and says how much was left out", () => {
    const { out, reporter } = plain();
    reporter.event({ type: "prediction", runUuid: "x".repeat(10_000), predictedClass: "1", probabilities: { "1": 0.6 } });
    expect(out).toEqual([`${"x".repeat(199)}… (9801 more characters): predicted 1 (p=0.600)`]);
  });

  test("messages and errors that carry such values are escaped and shortened too", () => {
    const { out, err, reporter } = plain();
    reporter.event({ type: "warning", message: `run ${"y".repeat(300)} has\r\nfake: no dstat file` });
    reporter.event({ type: "info", message: "build\u0007 ok" });
    reporter.error(`bad run a\nb`, 1);
    expect(err).toEqual([`warning: run ${"y".repeat(199)}… (101 more characters) has\\r\\nfake: no dstat file`, "error: bad run a\\nb"]);
    expect(out).toEqual(["build\\u0007 ok"]);
  });

  test("--json keeps the value whole, escaped by JSON", () => {
    const lines: string[] = [];
    new JsonReporter({ write: (l) => lines.push(l) }).event({
      type: "prediction",
      runUuid: `a\n${"z".repeat(300)}`,
      predictedClass: "0",
      probabilities: { "0": 1 },
    });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).runUuid).toBe(`a\n${"z".repeat(300)}`);
  });
});
