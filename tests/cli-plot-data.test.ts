import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeJsonGz } from "../src/io/gzip-json.ts";
import { PNG_SIGNATURE } from "../src/io/png.ts";
import { disk } from "./helpers/disk.ts";

const MAIN = join(import.meta.dir, "../src/main.ts");
const root = mkdtempSync(join(tmpdir(), "ciml-plot-"));

function ciml(...args: string[]) {
  const p = Bun.spawnSync([process.execPath, MAIN, "plot-data", "--data-path", root, ...args], { env: { ...process.env, CI: "true" } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

beforeAll(async () => {
  const evals: [string, string, Record<string, number>][] = [
    ["usr-1min", "dnn-3x10", { accuracy: 0.9, loss: 40, auc: 0.95 }],
    ["usr-1min", "dnn-5x100", { accuracy: 0.96, loss: 20, auc: 0.99 }],
    ["usr-10s", "dnn-3x10", { accuracy: 0.8, loss: 60, auc: 0.9 }],
    ["usr-10s", "dnn-5x100", { accuracy: 0.75, loss: 70, auc: 0.85 }],
  ];
  for (const [d, e, m] of evals)
    await writeJsonGz(disk, join(root, d, e, `eval_${d}.json.gz`), {
      ...m,
      confusion_matrix: [
        [1, 0],
        [0, 1],
      ],
    });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function result(out: string) {
  return out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .find((e) => e.type === "result");
}

describe("plot-data", () => {
  test("bar chart of several keys, accuracy drawn as 1 − accuracy, PNG", () => {
    const output = join(root, "keys.png");
    const r = ciml(
      "--dataset-experiment-label",
      "usr-1min",
      "dnn-3x10",
      "small",
      "--dataset-experiment-label",
      "usr-1min",
      "dnn-5x100",
      "big",
      "-k",
      "accuracy",
      "-k",
      "auc",
      "--output",
      output,
      "--json",
    );
    expect(r.code).toBe(0);
    expect(readFileSync(output).subarray(0, 8)).toEqual(Buffer.from(PNG_SIGNATURE));
    const { summary } = result(r.out);
    expect(summary.small["1 - accuracy"]).toBeCloseTo(0.1, 12);
    expect(summary.big["1 - accuracy"]).toBeCloseTo(0.04, 12);
    expect(summary.big.auc).toBe(0.99);
  });

  test("a chart says what it shows: a default title, the value on each bar, and which way is better for each metric", () => {
    const output = join(root, "mixed.svg");
    const r = ciml(
      "--dataset-experiment-label",
      "usr-1min",
      "dnn-3x10",
      "small",
      "-k",
      "accuracy",
      "-k",
      "auc",
      "--output",
      output,
      "--json",
    );
    expect(r.code).toBe(0);
    const texts = [...readFileSync(output, "utf8").matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(texts).toContain("1 - accuracy and auc per dataset and experiment");
    expect(texts).toContain("1 - accuracy (lower is better)");
    expect(texts).toContain("auc (higher is better)");
    expect(texts).toContain("value (the legend says which way is better)");
    expect(texts).toContain("0.1");
    expect(texts).toContain("0.95");
    const single = join(root, "single.svg");
    ciml("--dataset-experiment-label", "usr-1min", "dnn-3x10", "small", "-k", "accuracy", "--output", single, "--title", "Mine");
    const singleTexts = [...readFileSync(single, "utf8").matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(singleTexts).toContain("Mine");
    expect(singleTexts).toContain("1 - accuracy (lower is better)");
  });

  test("comparison of two sets 1:1 as SVG, with the set names in the legend; a dataset may be given as a path", () => {
    const output = join(root, "comp.svg");
    const r = ciml(
      "--dataset-experiment-label",
      "usr-1min",
      "dnn-3x10",
      "3x10",
      "--dataset-experiment-label",
      join(root, "usr-1min"),
      "dnn-5x100",
      "5x100",
      "--dataset-experiment-comp",
      "usr-10s",
      "dnn-3x10",
      "--dataset-experiment-comp",
      "usr-10s",
      "dnn-5x100",
      "--experiment-sets-names",
      "1min",
      "10s",
      "-k",
      "loss",
      "--output",
      output,
      "--json",
    );
    expect(r.code).toBe(0);
    expect(result(r.out).summary["5x100"]).toEqual({ "1min": 20, "10s": 70 });
    const svg = readFileSync(output, "utf8");
    for (const text of [">1min<", ">10s<", ">3x10<", ">5x100<"]) expect(svg).toContain(text);
    // four bars (two groups of two) beside the two legend swatches of width 10
    const coloured = svg.match(/<rect [^>]*fill="#(0072B2|D55E00)"\/>/g) ?? [];
    expect(coloured.filter((r) => !r.includes('width="10"'))).toHaveLength(4);
  });

  test.each([
    [["-k", "loss", "--output", "x.png"], /give at least one --dataset-experiment-label/],
    [["--dataset-experiment-label", "usr-1min", "dnn-3x10", "a", "--output", "x.png"], /-k\/--data-keys/],
    [["--dataset-experiment-label", "usr-1min", "dnn-3x10", "a", "-k", "loss"], /--output is required/],
    [
      [
        "--dataset-experiment-label",
        "usr-1min",
        "dnn-3x10",
        "a",
        "--dataset-experiment-comp",
        "usr-10s",
        "dnn-3x10",
        "-k",
        "loss",
        "--output",
        "x.png",
      ],
      /needs --experiment-sets-names/,
    ],
    [
      [
        "--dataset-experiment-label",
        "usr-1min",
        "dnn-3x10",
        "a",
        "--dataset-experiment-comp",
        "usr-10s",
        "dnn-3x10",
        "--experiment-sets-names",
        "a",
        "b",
        "-k",
        "loss",
        "-k",
        "auc",
        "--output",
        "x.png",
      ],
      /exactly one -k/,
    ],
    [
      ["--dataset-experiment-label", "usr-1min", "dnn-3x10", "a", "-k", "f2", "--output", "x.png"],
      /--data-keys f2: not a metric .* use one of accuracy, loss, auc/,
    ],
  ])("usage mistakes are one line, exit 2: %p", (args, pattern) => {
    const r = ciml(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(pattern as RegExp);
  });

  test("a missing eval file is one line naming it and the command to run (a fix of the original), exit 1", () => {
    const r = ciml("--dataset-experiment-label", "usr-1min", "svm", "a", "-k", "loss", "--output", join(root, "y.png"));
    expect(r.code).toBe(1);
    expect(r.err.trim()).toMatch(
      /^error: no evaluation for dataset usr-1min and experiment svm \(.*eval_usr-1min\.json\.gz\); run `ciml train-model --dataset usr-1min --experiment svm` first$/,
    );
  });
});
