// A saved model is one unit: train-model killed at any rename of its save leaves the previous model
// loadable and predicting exactly as before (strace injects the SIGKILL into the real command); a weights
// file that does not match its model.json is refused, and model.json cannot make us read outside its folder.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readNpz } from "../src/io/npy.ts";
import { Workspace } from "../src/io/workspace.ts";
import { loadTrainedModel } from "../src/pipeline/model/trained-model.ts";
import { setupExperiment } from "../src/pipeline/setup-experiment.ts";
import { collect } from "./helpers/collect-events.ts";
import { DATASET, EXPERIMENT, trainedWorkspace } from "./helpers/trained-workspace.ts";
import { disk } from "./helpers/disk.ts";
import { MAIN } from "./helpers/run-ciml.ts";

const base = mkdtempSync(join(tmpdir(), "ciml-model-unit-"));
const root = join(base, "ws");
const ws = new Workspace(root);
const modelDir = ws.modelDir(DATASET, EXPERIMENT);
let before: Float32Array;
let beforeFiles: Record<string, Buffer>;

async function predictions(workspace = ws): Promise<Float32Array> {
  const testSet = (await readNpz(disk, workspace.datasetFile(DATASET, "test.npz"))).examples!;
  const model = await loadTrainedModel(workspace, DATASET, EXPERIMENT);
  return model.predict(testSet.data as Float32Array, testSet.shape[0]!);
}

function filesOf(dir: string): Record<string, Buffer> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f === "model.json" || f.endsWith(".bin") || f.endsWith(".json.gz"))
      .map((f) => [f, readFileSync(join(dir, f))]),
  );
}

/** train-model as a user runs it, under strace; `killAt` is the 1-based rename that gets a SIGKILL instead. */
function trainUnderStrace(dataPath: string, killAt?: number): { code: number | null; renames: string[] } {
  const log = join(base, `strace-${Math.random().toString(36).slice(2)}.txt`);
  const inject = killAt === undefined ? [] : ["-e", `inject=rename:signal=SIGKILL:when=${killAt}`];
  const p = Bun.spawnSync(
    [
      "strace",
      "-f",
      "-qq",
      "-e",
      "trace=rename",
      ...inject,
      "-o",
      log,
      process.execPath,
      MAIN,
      "train-model",
      "--dataset",
      DATASET,
      "--experiment",
      EXPERIMENT,
      "--data-path",
      dataPath,
    ],
    { env: { ...process.env, CI: "true" } },
  );
  // With several threads, strace splits a call another thread interrupts into `rename("a", "b" <unfinished ...>`
  // and a later `<... rename resumed>`; a thread killed inside its rename leaves only the first half.
  const renames = readFileSync(log, "utf8")
    .split("\n")
    .map((l) => /rename\("[^"]*", "([^"]*)"(?:\)| <unfinished)/.exec(l)?.[1])
    .filter((t): t is string => t !== undefined);
  return { code: p.exitCode, renames };
}

beforeAll(async () => {
  await trainedWorkspace(root);
  before = await predictions();
  // The next training differs (other seed, wider layer), so its weights are larger than the old topology needs.
  await collect(setupExperiment, {
    dataPath: root,
    experiment: EXPERIMENT,
    estimator: "dnn",
    hiddenLayers: "24",
    steps: 100000,
    batchSize: 16,
    epochs: 5,
    optimizer: "Adam",
    learningRate: 0.01,
    seed: 11,
    force: true,
  });
  beforeFiles = filesOf(modelDir);
}, 120_000);
afterAll(() => rmSync(base, { recursive: true, force: true }));

/**
 * A fresh copy of the workspace whose train-model was killed at its `killAt`-th rename, which must be the one
 * `isTarget` names. The store's renames run on worker threads, so other files' renames can fall in another
 * order than in the dry run; a kill that landed on another rename is tried again on another fresh copy.
 */
function killedAt(killAt: number, isTarget: (target: string) => boolean): string {
  for (let attempt = 1; ; attempt++) {
    const copy = join(base, `killed-${killAt}-${attempt}`);
    cpSync(root, copy, { recursive: true });
    const killed = trainUnderStrace(copy, killAt);
    expect(killed.code).not.toBe(0);
    if (isTarget(killed.renames.at(-1) ?? "")) return copy;
    if (attempt === 5) throw new Error(`five kills at rename ${killAt} hit ${killed.renames.at(-1)}, not the save's`);
  }
}

describe("train-model killed while it saves", () => {
  test("at the weights rename or the model.json rename: the previous model and its evaluation stay as they were", async () => {
    // Where the renames of a save fall in a full run, from a run on a copy of the workspace.
    const copy = join(base, "copy");
    cpSync(root, copy, { recursive: true });
    const dry = trainUnderStrace(copy);
    expect(dry.code).toBe(0);
    const weightsRename = dry.renames.findIndex((t) => /\/weights-[0-9a-f]{16}\.bin$/.test(t)) + 1;
    const modelRename = dry.renames.findIndex((t) => t.endsWith("/model.json")) + 1;
    expect(weightsRename).toBeGreaterThan(0);
    expect(modelRename).toBe(weightsRename + 1);
    const after = await predictions(new Workspace(copy));
    expect([...after]).not.toEqual([...before]);

    for (const [killAt, isTarget] of [
      [weightsRename, (t: string) => /\/weights-[0-9a-f]{16}\.bin$/.test(t)],
      [modelRename, (t: string) => t.endsWith("/model.json")],
    ] as const) {
      const killedWs = killedAt(killAt, isTarget);
      expect([...(await predictions(new Workspace(killedWs)))]).toEqual([...before]);
      const killedDir = new Workspace(killedWs).modelDir(DATASET, EXPERIMENT);
      const now = filesOf(killedDir);
      for (const [name, bytes] of Object.entries(beforeFiles)) expect(now[name]?.equals(bytes)).toBe(true);
      // The next save completes and removes the weights the crashed save left behind.
      expect(trainUnderStrace(killedWs).code).toBe(0);
      expect([...(await predictions(new Workspace(killedWs)))]).toEqual([...after]);
      expect(readdirSync(killedDir).filter((f) => f.endsWith(".bin"))).toHaveLength(1);
    }
  }, 300_000);
});

describe("weights that do not belong to their model.json are refused", () => {
  const broken = (name: string) => {
    const dir = join(base, `broken-${name}`);
    cpSync(root, dir, { recursive: true });
    const w = new Workspace(dir);
    const mdir = w.modelDir(DATASET, EXPERIMENT);
    const json = JSON.parse(readFileSync(join(mdir, "model.json"), "utf8"));
    const weights = json.weightsManifest[0].paths[0] as string;
    return { w, mdir, json, weights };
  };
  const failure = async (w: Workspace) => {
    try {
      await loadTrainedModel(w, DATASET, EXPERIMENT);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error("the model loaded");
  };

  test("a weights file with one byte changed (same size): its sha256 differs", async () => {
    const { w, mdir, weights } = broken("flip");
    const bytes = readFileSync(join(mdir, weights));
    bytes[10]! ^= 1;
    writeFileSync(join(mdir, weights), bytes);
    expect(await failure(w)).toBe(
      `${join(mdir, weights)} is not the weights model.json was saved with (size or sha256 differs); train the model again with \`ciml train-model\``,
    );
  });

  test("a model.json without checksums (as saved before) beside a weights file larger than its topology needs", async () => {
    const { w, mdir, json, weights } = broken("legacy");
    const bytes = readFileSync(join(mdir, weights));
    delete json.weightsChecksums;
    json.weightsManifest[0].paths = ["weights.bin"];
    writeFileSync(join(mdir, "model.json"), JSON.stringify(json));
    writeFileSync(join(mdir, "weights.bin"), Buffer.concat([bytes, Buffer.alloc(400)]));
    expect(await failure(w)).toBe(
      `${join(mdir, "weights.bin")} holds ${bytes.length + 400} bytes of weights but the topology in model.json needs ${bytes.length}; train the model again with \`ciml train-model\``,
    );
  });

  test("weight paths that leave the model's folder are never read", async () => {
    const { w, mdir, json, weights } = broken("escape");
    // A perfectly good weights file, but outside the model folder.
    const outside = join(w.root, "x");
    mkdirSync(outside);
    cpSync(join(mdir, weights), join(outside, "weights.bin"));
    delete json.weightsChecksums;
    for (const path of ["../../x/weights.bin", join(outside, "weights.bin"), ".."]) {
      json.weightsManifest[0].paths = [path];
      writeFileSync(join(mdir, "model.json"), JSON.stringify(json));
      expect(await failure(w)).toMatch(
        new RegExp(`^${join(mdir, "model.json")}: field weightsManifest\\.0\\.paths\\.0: must be a file name in the model's folder; `),
      );
    }
  });
});
