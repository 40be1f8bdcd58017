import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32c, EventFileWriter } from "../src/io/tensorboard.ts";
import { readEventFile } from "./helpers/tfevents-reader.ts";
import { disk } from "./helpers/disk.ts";

const dir = mkdtempSync(join(tmpdir(), "ciml-tb-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("TensorBoard event files", () => {
  test("CRC-32C matches the standard check value", () => {
    // RFC 3720 / iSCSI check value of "123456789"
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
  });

  test("events parse back with correct CRCs, steps, tags and values", () => {
    const w = new EventFileWriter(disk, join(dir, "run"), 1_700_000_000_000);
    w.scalars(19, { loss: Math.LN2, accuracy: 0.5 }, 1_700_000_001_000);
    w.scalars(38, { loss: 0.25, accuracy: 0.875, auc: Number.NaN }, 1_700_000_002_500);
    w.scalars(2 ** 40, { "dev/loss": 1e-7 });
    w.close();
    expect(w.path).toMatch(/events\.out\.tfevents\.1700000000\./);
    const events = readEventFile(w.path);
    expect(events[0]).toMatchObject({ fileVersion: "brain.Event:2", wallTime: 1_700_000_000 });
    expect(events[1]).toMatchObject({ step: 19, wallTime: 1_700_000_001 });
    expect(Object.keys(events[1]!.scalars).sort()).toEqual(["accuracy", "loss"]);
    expect(events[1]!.scalars.loss).toBeCloseTo(Math.LN2, 6);
    expect(events[1]!.scalars.accuracy).toBe(0.5);
    // NaN is left out rather than written: TensorBoard draws it as a gap anyway
    expect(events[2]).toMatchObject({ step: 38, wallTime: 1_700_000_002.5 });
    expect(events[2]!.scalars).toEqual({ loss: 0.25, accuracy: 0.875 });
    expect(events[3]!.step).toBe(2 ** 40);
    expect(events[3]!.scalars["dev/loss"]).toBeCloseTo(1e-7, 12);
    expect(events).toHaveLength(4);
  });

  test("a flipped byte is caught by the reader's CRC check", () => {
    const w = new EventFileWriter(disk, join(dir, "corrupt"));
    w.scalars(1, { loss: 1 });
    w.close();
    const bytes = readFileSync(w.path);
    bytes[bytes.length - 6]! ^= 0xff;
    writeFileSync(w.path, bytes);
    expect(() => readEventFile(w.path)).toThrow(/bad data CRC/);
  });
});
