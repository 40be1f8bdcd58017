// A stand-in pipeline step for testing the faces: it writes `count` files atomically, one per tick,
// emitting every kind of event on the way, and stops cleanly when aborted.
import { join } from "node:path";
import { writeJsonGz } from "../../src/io/gzip-json.ts";
import { throwIfAborted } from "../../src/pipeline/errors.ts";
import type { Step } from "../../src/pipeline/events.ts";
import { disk } from "./disk.ts";

export interface FakeOptions {
  dir: string;
  count: number;
  tickMs: number;
}

export const fakeStep: Step<FakeOptions, { written: number }> = async ({ dir, count, tickMs }, { emit, signal }) => {
  emit({ type: "stage", stage: "write", state: "started", detail: `${count} files` });
  emit({ type: "info", message: `Obtained ${count} runs named fake from the DB` });
  for (let i = 0; i < count; i++) {
    await new Promise((r) => setTimeout(r, tickMs));
    throwIfAborted(signal);
    // A large body, so that a kill mid-write would leave a partial file if writes were not atomic.
    await writeJsonGz(disk, join(dir, `run-${i}.json.gz`), { i, payload: "x".repeat(200_000) });
    emit({
      type: "progress",
      stage: "write",
      done: i + 1,
      total: count,
      unit: "runs",
      rate: 10,
      counts: { cached: i + 1, unavailable: 0 },
      etaSeconds: count - i - 1,
    });
  }
  emit({ type: "warning", message: "run r-7 has no dstat file" });
  emit({
    type: "histogram",
    name: "sizes",
    title: "example length by class",
    series: ["passed", "failed"],
    bins: [
      { label: "0-1000", counts: [1, 4] },
      { label: "1000-2000", counts: [6, 2] },
    ],
  });
  emit({ type: "epoch", epoch: 1, totalEpochs: 2, step: 10, metrics: { loss: 0.69, accuracy: 0.5 } });
  emit({ type: "epoch", epoch: 2, totalEpochs: 2, step: 20, metrics: { loss: 0.35, accuracy: 0.875 }, examplesPerSecond: 1234 });
  emit({ type: "prediction", runUuid: "r-1", predictedClass: "1", probabilities: { "0": 0.1, "1": 0.9 }, actualClass: "1" });
  emit({ type: "stage", stage: "write", state: "finished" });
  emit({ type: "result", stage: "fake", summary: { written: count, seconds: 0.5 }, lines: [`Stored ${count} run IDs`] });
  return { written: count };
};
