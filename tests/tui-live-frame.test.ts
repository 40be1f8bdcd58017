// The live region's layout, as pure functions of the state and the terminal size: it must fit the
// screen (or Ink clears the scrollback), keep each stage's most useful part, and never wrap.
import { describe, expect, test } from "bun:test";
import type { EpochEvent, HistogramEvent, PipelineEvent, ProgressEvent } from "../src/pipeline/events.ts";
import { emptyState, reduce, type ViewState } from "../src/tui/event-store.ts";
import { flowCells, type Line, lineWidth } from "../src/tui/line.ts";
import { liveFrame } from "../src/tui/live-frame.ts";
import { frameRowsAfterResize } from "../src/tui/resize.ts";
import { fitCommand } from "../src/tui/shell-command.ts";
import { downsample, sparkline } from "../src/tui/sparkline.ts";

const text = (l: Line) => l.map((s) => s.text).join("");
const fold = (events: PipelineEvent[]): ViewState => events.reduce(reduce, emptyState());

const cacheProgress: ProgressEvent = {
  type: "progress",
  stage: "2/5 cache-data · cache",
  done: 100,
  total: 300,
  unit: "runs",
  rate: 18.94,
  bytes: 41_700_000,
  counts: { cached: 98, already: 0, unavailable: 2, failed: 0 },
  current: ["http://logs.example/12/345/1/gate/tempest-full/abc/logs/dstat-csv_log.txt.gz"],
  etaSeconds: 11,
};

const lengths: HistogramEvent = {
  type: "histogram",
  name: "lengths",
  title: "Example length by class (samples after resampling)",
  series: ["0", "1"],
  bins: Array.from({ length: 11 }, (_, i) => ({ label: `${i * 10}–${i * 10 + 9}`, counts: [i * 3, 11 - i] })),
};
const balance: HistogramEvent = {
  type: "histogram",
  name: "balance",
  title: "Class balance",
  series: ["training", "dev", "test"],
  bins: [
    { label: "0", counts: [44, 11, 17] },
    { label: "1", counts: [12, 7, 3] },
  ],
};
const columnsHist: HistogramEvent = {
  type: "histogram",
  name: "columns",
  title: "Selected columns (traces with / without them)",
  series: ["present", "missing"],
  bins: [
    { label: "usr", counts: [94, 0] },
    { label: "1m", counts: [94, 0] },
  ],
};

function epochs(n: number): EpochEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: "epoch",
    epoch: i + 1,
    totalEpochs: n,
    step: (i + 1) * 4,
    metrics: {
      loss: 0.7 / (1 + i / 10),
      accuracy: 0.5 + (0.4 * i) / n,
      "dev/loss": 0.6,
      "dev/accuracy": 0.8,
      "dev/auc": 0.9,
      "test/loss": 0.5,
      "test/accuracy": 0.85,
      "test/auc": 0.95,
    },
    examplesPerSecond: 900,
    etaSeconds: 3,
  }));
}

const stages: Record<string, ViewState> = {
  "cache-data": fold([
    { type: "stage", stage: "2/5 cache-data · cache", state: "started", detail: "8 downloads at a time into /x/.raw" },
    cacheProgress,
  ]),
  "build-dataset": fold([
    { type: "stage", stage: "3/5 build-dataset · test", state: "started", detail: "20 runs" },
    { type: "progress", stage: "3/5 build-dataset · test", done: 20, total: 20, unit: "runs", counts: { excluded: 0 } },
    lengths,
    columnsHist,
    balance,
  ]),
  "train-model": fold([{ type: "stage", stage: "4/5 dnn · train", state: "started", detail: "DNN 10/10/10" }, ...epochs(300)]),
};

describe("the live region fits the terminal", () => {
  for (const [columns, rows] of [
    [80, 24],
    [60, 20],
    [120, 40],
  ] as const) {
    for (const [name, state] of Object.entries(stages)) {
      test(`${name} at ${columns}×${rows}: shorter than the screen, no line as wide as it`, () => {
        const frame = liveFrame(state, columns, rows);
        expect(frame.length).toBeLessThanOrEqual(rows - 2);
        for (const l of frame) expect(lineWidth(l)).toBeLessThan(columns);
      });
    }
  }

  test("cache-data at 80×24: the bar and the counts, apart", () => {
    const lines = liveFrame(stages["cache-data"]!, 80, 24).map(text);
    const bar = lines.find((l) => l.includes("█"))!;
    expect(bar).toMatch(/░ 100\/300 runs 33%/);
    expect(lines.some((l) => /cached 98 {2}already 0 {2}unavailable 2 {2}failed 0/.test(l))).toBe(true);
  });

  test("build-dataset at 80×24: the length histogram with every bin", () => {
    const lines = liveFrame(stages["build-dataset"]!, 80, 24).map(text);
    expect(lines.some((l) => l.startsWith("Example length by class") && l.includes("■ 0  ■ 1"))).toBe(true);
    for (const b of lengths.bins) expect(lines.some((l) => l.trimStart().startsWith(b.label))).toBe(true);
  });

  test("train-model at 80×24 and 60×20: the epoch line and a curve for every metric", () => {
    for (const [columns, rows] of [
      [80, 24],
      [60, 20],
    ]) {
      const lines = liveFrame(stages["train-model"]!, columns!, rows!).map(text);
      expect(lines.some((l) => l.startsWith("epoch 300/300"))).toBe(true);
      for (const k of ["loss", "accuracy", "dev/loss", "test/auc"]) expect(lines.some((l) => l.startsWith(`${k} `))).toBe(true);
    }
  });

  test("a screen too small for a histogram leaves it out whole rather than cut", () => {
    const lines = liveFrame(stages["build-dataset"]!, 80, 12).map(text);
    expect(lines.length).toBeLessThanOrEqual(10);
    expect(lines.some((l) => l.startsWith("Example length"))).toBe(false);
    expect(lines.some((l) => l.startsWith("Class balance"))).toBe(true);
  });
});

describe("pieces of the layout", () => {
  test("tallies wrap between cells, never inside one (mqtt-trainer's counters at 60 columns)", () => {
    const counts = { matched: 1, predictions: 3, skipped: 12, duplicates: 0, irrelevant: 40231, malformed: 0, inFlight: 1, queued: 0 };
    const lines = flowCells(
      Object.entries(counts).map(([k, v]) => [{ text: `${k} ${v}` }]),
      60,
    ).map(text);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    const cells = lines.flatMap((l) => l.trim().split(/ {2}/));
    expect(cells).toEqual(Object.entries(counts).map(([k, v]) => `${k} ${v}`));
  });

  test("the sparkline shows the whole run, averaged into the columns there are", () => {
    expect(downsample([1, 2, 3, 4, 5, 6], 3)).toEqual([1.5, 3.5, 5.5]);
    const rising = Array.from({ length: 300 }, (_, i) => i);
    const s = sparkline("loss", rising, 40);
    expect(s.text).toHaveLength(40);
    expect(s.text[0]).toBe("▁");
    expect(s.text.at(-1)).toBe("█");
  });

  test("accuracy is drawn on 0–1, so 0.896 → 0.899 looks as flat as it is", () => {
    const s = sparkline("dev/accuracy", [0.896, 0.897, 0.898, 0.899], 40);
    expect(new Set(s.text).size).toBe(1);
    expect([s.low, s.high]).toEqual([0, 1]);
    const lines = liveFrame(fold([{ type: "stage", stage: "train", state: "started" }, ...epochs(50)]), 80, 24).map(text);
    expect(lines.find((l) => l.startsWith("accuracy "))).toMatch(/ 0–1$/);
    expect(lines.find((l) => l.startsWith("loss "))).toMatch(/ 0–0\.7000$/);
  });

  test("a command too long for the terminal is continued with backslashes, whole words only", () => {
    const command =
      "ciml build-dataset --data-path /tmp/q/data --dataset usr_1m-10s-status --features-regex '(usr|1m)' --sample-interval 10s --slicer :94";
    const lines = fitCommand(command, 60);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    expect(lines.slice(0, -1).every((l) => l.endsWith(" \\"))).toBe(true);
    expect(lines.map((l) => l.replace(/ \\$/, "").trim()).join(" ")).toBe(command);
  });

  test("rows a frame takes after the terminal narrows", () => {
    expect(frameRowsAfterResize([79, 40, 0], 60)).toBe(2 + 1 + 1);
    expect(frameRowsAfterResize([79, 40, 0], 80)).toBe(3);
  });
});

describe("what goes to the scrollback", () => {
  test("every prediction, charts once when the step ends, the curves when training ends", () => {
    const events: PipelineEvent[] = [
      { type: "stage", stage: "predict", state: "started" },
      ...Array.from(
        { length: 89 },
        (_, i): PipelineEvent => ({ type: "prediction", runUuid: `r-${i}`, predictedClass: "0", probabilities: { "0": 0.9, "1": 0.1 } }),
      ),
      { type: "stage", stage: "predict", state: "finished" },
      { type: "stage", stage: "train", state: "started", training: true },
      ...epochs(3),
      { type: "stage", stage: "train", state: "finished", detail: "12 steps" },
      lengths,
      lengths,
      { type: "result", stage: "x", summary: { n: 1 } },
    ];
    const s = fold(events);
    const kinds = s.log.map((e) => e.item.kind);
    expect(kinds.filter((k) => k === "prediction")).toHaveLength(89);
    expect(kinds.slice(89)).toEqual(["stage", "stage", "curves", "histogram", "result"]);
    expect(s.epochs).toEqual([]);
    expect(s.histograms.size).toBe(0);
    expect(liveFrame(s, 80, 24)).toEqual([]);
  });
});
