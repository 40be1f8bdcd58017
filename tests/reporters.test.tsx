import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { render } from "ink-testing-library";
import type { PipelineEvent } from "../src/pipeline/events.ts";
import { emptyState, reduce } from "../src/tui/event-store.ts";
import { JsonReporter } from "../src/tui/json-reporter.ts";
import { PlainReporter } from "../src/tui/plain-reporter.ts";
import type { Reporter } from "../src/tui/reporter.ts";
import { readJsonGz } from "../src/io/gzip-json.ts";
import { runWithReporter } from "../src/cli/run-step.ts";
import { StepView } from "../src/tui/views.tsx";
import { fakeStep } from "./helpers/fake-step.ts";
import { disk } from "./helpers/disk.ts";

const root = mkdtempSync(join(tmpdir(), "ciml-faces-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function collect(): { lines: string[]; write: (l: string) => void } {
  const lines: string[] = [];
  return { lines, write: (l) => void lines.push(l) };
}

async function eventsOf(count: number): Promise<PipelineEvent[]> {
  const events: PipelineEvent[] = [];
  const dir = mkdtempSync(join(root, "ev-"));
  await fakeStep({ dir, count, tickMs: 0 }, { emit: (e) => events.push(e), signal: new AbortController().signal });
  return events;
}

const ESC = /\u001b/;

describe("the live view's training curves", () => {
  const epoch = (n: number): PipelineEvent => ({ type: "epoch", epoch: n, totalEpochs: 2, step: n, metrics: { loss: 1 / n } });
  test("a stage that says it trains starts fresh curves; the stage's name plays no part", () => {
    const before = [epoch(1), epoch(2)].reduce(reduce, emptyState());
    expect(before.epochs.length).toBe(2);
    const named = reduce(before, { type: "stage", stage: "dnn train", state: "started" });
    expect(named.epochs.length).toBe(2);
    const training = reduce(before, { type: "stage", stage: "fit", state: "started", training: true });
    expect(training.epochs).toEqual([]);
  });
});

describe("one step, three faces", () => {
  test("Ink renders progress, histogram, epochs, predictions and the result", async () => {
    const state = (await eventsOf(3)).reduce(reduce, emptyState());
    const { lastFrame } = render(<StepView state={state} />);
    const frame = lastFrame() ?? "";
    expect(frame).toContain("3/3 runs");
    expect(frame).toContain("cached 3");
    expect(frame).toContain("example length by class");
    expect(frame).toContain("epoch 2/2");
    expect(frame).toContain("r-1: predicted 1 (p=0.900) actual 1");
    expect(frame).toContain("⚠ run r-7 has no dstat file");
    expect(frame).toContain("✔ fake");
    expect(frame).toContain("Stored 3 run IDs");
  });

  test("plain lines carry the same facts and no escape codes", async () => {
    const out = collect();
    const err = collect();
    const reporter = new PlainReporter(out, err, false, 0);
    const { code } = await runWithReporter(fakeStep, { dir: mkdtempSync(join(root, "plain-")), count: 3, tickMs: 0 }, reporter);
    expect(code).toBe(0);
    for (const l of [...out.lines, ...err.lines]) expect(l).not.toMatch(ESC);
    expect(out.lines).toContain("Obtained 3 runs named fake from the DB");
    expect(out.lines).toContain("write: 3/3 runs (100%) 10 runs/s cached=3 unavailable=0");
    expect(out.lines).toContain("epoch 2/2 step 20 loss=0.3500 accuracy=0.8750 1234 ex/s");
    expect(out.lines.at(-1)).toBe("fake done: written=3 seconds=0.5000");
    expect(err.lines).toEqual(["warning: run r-7 has no dstat file"]);
  });

  test("plain progress is throttled but the last update of a stage always shows", async () => {
    const out = collect();
    const reporter = new PlainReporter(out, collect(), false, 60_000);
    await runWithReporter(fakeStep, { dir: mkdtempSync(join(root, "thr-")), count: 5, tickMs: 0 }, reporter);
    expect(out.lines.filter((l) => l.startsWith("write: ")).map((l) => l.split(" ")[1])).toEqual(["1/5", "5/5"]);
  });

  test("JSON lines each parse, and say the same as the events", async () => {
    const out = collect();
    const { code } = await runWithReporter(
      fakeStep,
      { dir: mkdtempSync(join(root, "json-")), count: 2, tickMs: 0 },
      new JsonReporter(out, 0),
    );
    expect(code).toBe(0);
    const parsed = out.lines.map((l) => JSON.parse(l));
    expect(parsed.map((e) => e.type)).toEqual([
      "stage",
      "info",
      "progress",
      "progress",
      "warning",
      "histogram",
      "epoch",
      "epoch",
      "prediction",
      "stage",
      "result",
    ]);
    expect(parsed.at(-1)).toMatchObject({ type: "result", stage: "fake", summary: { written: 2 } });
    expect(typeof parsed[0].time).toBe("string");
  });

  test("a failure is one line with the exit code", async () => {
    const out = collect();
    const failing = async () => {
      const { CimlError } = await import("../src/pipeline/errors.ts");
      throw new CimlError("Dataset x not found: run build-dataset first");
    };
    const { code } = await runWithReporter(failing, {}, new JsonReporter(out));
    expect(code).toBe(1);
    expect(JSON.parse(out.lines[0]!)).toMatchObject({
      type: "error",
      message: "Dataset x not found: run build-dataset first",
      exitCode: 1,
    });
  });
});

describe("Ctrl-C", () => {
  test("aborting mid-step leaves only whole files and exits 130", async () => {
    const dir = mkdtempSync(join(root, "abort-"));
    const controller = new AbortController();
    const out = collect();
    const plain = new PlainReporter(out, collect(), false, 0);
    // Interrupt on the step's own word that three files are written, not after a guessed delay.
    const reporter: Reporter = {
      event: (e) => {
        plain.event(e);
        if (e.type === "progress" && e.done === 3) controller.abort();
      },
      error: (message, exitCode) => plain.error(message, exitCode),
      close: () => plain.close(),
    };
    const { code } = await runWithReporter(fakeStep, { dir, count: 1000, tickMs: 5 }, reporter, controller);
    expect(code).toBe(130);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(["run-0.json.gz", "run-1.json.gz", "run-2.json.gz"]);
    // Every file that is there decodes whole.
    for (const [i, f] of files.entries()) expect(await readJsonGz(disk, join(dir, f))).toEqual({ i, payload: "x".repeat(200_000) });
  });

  test("SIGINT to the real process stops it cleanly with exit 130", async () => {
    const dir = mkdtempSync(join(root, "sigint-"));
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, "helpers/run-fake-step.ts"), dir, "100000", "2", "--no-tui"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    // Wait until files are being written, then interrupt (a deadline, so a step that writes nothing fails fast).
    const deadline = Date.now() + 30_000;
    while (readdirSync(dir).filter((f) => f.startsWith("run-")).length < 3) {
      if (Date.now() > deadline) throw new Error("the step wrote no files within 30 s");
      await Bun.sleep(20);
    }
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(130);
    expect(await new Response(proc.stderr).text()).toContain("error: interrupted; nothing half-written was kept");
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});

describe("the live view's scrollback", () => {
  test("a long run's lines are each printed once, also after the printed ones are forgotten", async () => {
    const { LiveView } = await import("../src/tui/views.tsx");
    const { EventStore } = await import("../src/tui/event-store.ts");
    const store = new EventStore();
    const { lastFrame, unmount } = render(<LiveView store={store} frame={{ widths: [] }} />);
    for (let i = 0; i < 450; i++) {
      store.push({ type: "prediction", runUuid: `run-${i}`, predictedClass: "0", probabilities: { "0": 1 } });
      // Let React commit now and then, as the terminal does, so batches of printed lines are dropped.
      if (i % 50 === 49) await Bun.sleep(0);
    }
    await Bun.sleep(0);
    const frame = lastFrame() ?? "";
    for (let i = 0; i < 450; i++) expect(frame.split(`run-${i}: predicted 0`).length - 1).toBe(1);
    expect(store.get().log.length).toBeLessThan(450);
    unmount();
  });
});
