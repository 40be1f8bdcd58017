import { expect, test } from "bun:test";
import { classOf, classVocabulary } from "../src/pipeline/dataset/class-label.ts";
import { lengthHistogram } from "../src/pipeline/dataset/dataset-histograms.ts";
import type { RunMetadata } from "../src/io/raw-cache.ts";

const meta = (extra: Record<string, string | number | null>): RunMetadata => ({ status: 0, artifact: null, ...extra }) as RunMetadata;

test("status: 0 or 'Success' is passed (0), anything else failed (1), as the original", () => {
  expect(classOf(meta({ status: 0 }), "status")).toBe("0");
  expect(classOf(meta({ status: "Success" }), "status")).toBe("0");
  expect(classOf(meta({ status: 1 }), "status")).toBe("1");
  expect(classOf(meta({ status: "Failure" }), "status")).toBe("1");
  expect(classVocabulary("status", ["1"])).toEqual(["0", "1"]);
});

test("node_provider groups rax/ovh/vexxhost; other keys give the raw value; a missing key is an error", () => {
  expect(classOf(meta({ node_provider: "rax-iad" }), "node_provider")).toBe("rax");
  expect(classOf(meta({ node_provider: "ovh-bhs1" }), "node_provider")).toBe("ovh");
  expect(classOf(meta({ node_provider: "vexxhost-ca-ymq-1" }), "node_provider")).toBe("vexxhost");
  expect(classOf(meta({ node_provider: "inap-mtl01" }), "node_provider")).toBe("inap-mtl01");
  expect(classOf(meta({ node_provider: "rax-iad" }), "node_provider_all")).toBe("rax-iad");
  expect(classOf(meta({ build_queue: "gate" }), "build_queue")).toBe("gate");
  expect(() => classOf(meta({}), "node_provider")).toThrow(/no node_provider/);
  expect(classVocabulary("node_provider", ["rax", "ovh", "inap-mtl01", "rax"])).toEqual(["inap-mtl01", "ovh", "rax"]);
});

test("a vocabulary of numbers sorts numerically, so class 10 comes after class 9", () => {
  expect(classVocabulary("build_number", ["10", "9", "2", "9"])).toEqual(["2", "9", "10"]);
  expect(classVocabulary("build_queue", ["10", "gate", "9"])).toEqual(["10", "9", "gate"]);
});

test("the length histogram counts every example once, in its class's series", () => {
  const lengths = [0, 5, 91, 92, 150, 3000];
  const classes = ["0", "1", "0", "0", "1", "0"];
  const h = lengthHistogram(lengths, classes, ["0", "1"], 92);
  const totals = h.bins.reduce((acc, b) => acc.map((v, i) => v + b.counts[i]!), [0, 0]);
  expect(totals).toEqual([4, 2]);
  expect(h.bins.at(-1)!.counts[0]).toBe(1);
});
