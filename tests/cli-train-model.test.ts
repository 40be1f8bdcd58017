// The user's view of setup-experiment and train-model: the real CLI in a subprocess, exit codes and one-line errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeJsonGz, readJsonGz } from "../src/io/gzip-json.ts";
import { readNpz, writeNpz } from "../src/io/npy.ts";
import { writePlantedDataset } from "./helpers/planted-dataset.ts";
import { disk } from "./helpers/disk.ts";

const MAIN = join(import.meta.dir, "../src/main.ts");
const root = mkdtempSync(join(tmpdir(), "ciml-cli-train-"));

function ciml(...args: string[]) {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args, "--data-path", root], { env: { ...process.env, CI: "true" } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

function expectOneLineError(r: ReturnType<typeof ciml>, code: number, pattern: RegExp) {
  expect(r.code).toBe(code);
  const lines = r.err.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
}

beforeAll(async () => {
  for (const name of ["ok", "corrupt", "narrow", "fewer-features"])
    await writePlantedDataset(root, name, { seed: 3, sizes: { training: 120, dev: 30, test: 40 } });
  await writePlantedDataset(root, "fewer-features", { seed: 3, features: 18, sizes: { training: 120, dev: 30, test: 40 } });
  await writePlantedDataset(root, "providers", {
    seed: 4,
    classes: [
      { name: "ovh", share: 0.5 },
      { name: "rax", share: 0.5 },
    ],
    sizes: { training: 120, dev: 30, test: 40 },
  });
  writeFileSync(join(root, "corrupt", "test.npz"), "PK\u0003\u0004 this is not really a zip archive");
  const narrow = await readNpz(disk, join(root, "narrow", "test.npz"));
  const ex = narrow.examples!;
  const cut = new Float32Array(40 * 23);
  for (let i = 0; i < 40; i++) cut.set((ex.data as Float32Array).subarray(i * 24, i * 24 + 23), i * 23);
  await writeNpz(disk, join(root, "narrow", "test.npz"), { ...narrow, examples: { dtype: "<f4", shape: [40, 23], data: cut } });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("setup-experiment", () => {
  test("writes the original's JSON shape with string batch_size/epochs; short names expand", async () => {
    const r = ciml(
      "setup-experiment",
      "--experiment",
      "e1",
      "--estimator",
      "dnn",
      "--hidden-layers",
      "100/100/100",
      "--steps",
      "1900",
      "--batch-size",
      "128",
      "--epochs",
      "100",
      "--no-tui",
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain("Experiment e1 saved successfully.");
    expect(await readJsonGz(disk, join(root, "_experiments", "e1", "experiment.json.gz"))).toEqual({
      estimator: "tf.estimator.DNNClassifier",
      params: {},
      hyper_params: {
        steps: 1900,
        batch_size: "128",
        epochs: "100",
        hidden_units: [100, 100, 100],
        optimizer: "Adagrad",
        learning_rate: 0.05,
      },
    });
  });

  test("extra hyper-parameters are stored only when given", async () => {
    expect(
      ciml(
        "setup-experiment",
        "--experiment",
        "e2",
        "--estimator",
        "svm",
        "--optimizer",
        "ftrl",
        "--dropout",
        "0.1",
        "--l2",
        "0.5",
        "--class-weights",
        "0=1,1=4",
        "--patience",
        "3",
        "--seed",
        "7",
      ).code,
    ).toBe(0);
    const e = (await readJsonGz(disk, join(root, "_experiments", "e2", "experiment.json.gz"))) as {
      estimator: string;
      hyper_params: Record<string, unknown>;
    };
    expect(e.estimator).toBe("tf.contrib.learn.SVM");
    expect(e.hyper_params).toMatchObject({
      optimizer: "Ftrl",
      dropout: 0.1,
      l2: 0.5,
      class_weights: { "0": 1, "1": 4 },
      patience: 3,
      seed: 7,
    });
  });

  test("an existing experiment needs --force", () => {
    expectOneLineError(ciml("setup-experiment", "--experiment", "e1"), 1, /Experiment e1 already configured; use --force/);
    expect(ciml("setup-experiment", "--experiment", "e1", "--force").code).toBe(0);
  });

  test.each([
    [["--estimator", "tf.estimator.LinearClassifier"], /--estimator .*unknown estimator/],
    [["--optimizer", "Adadelta"], /--optimizer Adadelta: unknown optimizer; use one of Adagrad, Adam, Ftrl, RMSProp, SGD, ProximalAdagrad/],
    [["--hidden-layers", "10/x/10"], /--hidden-layers 10\/x\/10/],
    [["--hidden-layers", "10//10"], /--hidden-layers/],
    [["--steps", "0"], /--steps 0: give a whole number of at least 1/],
    [["--batch-size=-5"], /--batch-size -5: give a whole number of at least 1/],
    [["--epochs", "1.5"], /--epochs 1.5/],
    [["--learning-rate", "0"], /--learning-rate 0: must be a positive number/],
    [["--dropout", "1"], /--dropout 1/],
    [["--class-weights", "0=x"], /--class-weights/],
  ])("bad value %p is a usage error (exit 2, one line)", (args, pattern) => {
    expectOneLineError(ciml("setup-experiment", "--experiment", "bad", ...(args as string[])), 2, pattern as RegExp);
  });

  test("an experiment written by the original tool trains here (numbers as strings, no extras)", () => {
    const original = {
      estimator: "tf.estimator.DNNClassifier",
      params: {},
      hyper_params: { steps: 40, batch_size: "32", epochs: "2", hidden_units: [10, 10], optimizer: "Adagrad", learning_rate: 0.05 },
    };
    writeFileSync(join(root, "_experiments", "e1", "experiment.json.gz"), encodeJsonGz(original));
    const r = ciml("train-model", "--dataset", "ok", "--experiment", "e1", "--json");
    expect(r.code).toBe(0);
    const result = r.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((e) => e.type === "result");
    expect(result.summary).toMatchObject({ steps: 8, epochs: 2 });
  });
});

describe("train-model errors are one line, exit 1", () => {
  beforeAll(() => {
    ciml("setup-experiment", "--experiment", "small", "--batch-size", "32", "--epochs", "1");
  });

  test("unknown dataset", () => {
    expectOneLineError(ciml("train-model", "--dataset", "nope", "--experiment", "small"), 1, /Dataset nope not found/);
  });

  test("unknown experiment", () => {
    expectOneLineError(ciml("train-model", "--dataset", "ok", "--experiment", "nope"), 1, /Experiment nope not found/);
  });

  test("unknown eval dataset", () => {
    expectOneLineError(
      ciml("train-model", "--dataset", "ok", "--experiment", "small", "--eval-dataset", "missing"),
      1,
      /Dataset missing not found/,
    );
  });

  test("an eval dataset with another class label", () => {
    expectOneLineError(
      ciml("train-model", "--dataset", "ok", "--experiment", "small", "--eval-dataset", "providers"),
      1,
      /eval dataset providers has class label "node_provider" but the model's dataset ok has "status"/,
    );
  });

  test("an eval dataset with other features", () => {
    expectOneLineError(
      ciml("train-model", "--dataset", "ok", "--experiment", "small", "--eval-dataset", "fewer-features"),
      1,
      /eval dataset fewer-features has 18 features that differ from the 24 the model takes/,
    );
  });

  test("class weights naming a class the dataset does not have", () => {
    ciml("setup-experiment", "--experiment", "weights", "--class-weights", "failed=3");
    expectOneLineError(
      ciml("train-model", "--dataset", "ok", "--experiment", "weights"),
      1,
      /class_weights names class "failed", which is not one of 0, 1/,
    );
  });

  test("a corrupt npz", () => {
    expectOneLineError(
      ciml("train-model", "--dataset", "corrupt", "--experiment", "small"),
      1,
      /dataset corrupt: test\.npz cannot be read .*rebuild it with `ciml build-dataset --dataset corrupt --force`/,
    );
  });

  test("an npz whose examples have the wrong shape for the dataset", () => {
    expectOneLineError(
      ciml("train-model", "--dataset", "narrow", "--experiment", "small"),
      1,
      /dataset narrow: test\.npz holds examples of shape \(40, 23\) but the dataset has 24 features/,
    );
  });

  test("an unknown backend is a usage error", () => {
    expectOneLineError(
      ciml("train-model", "--dataset", "ok", "--experiment", "small", "--backend", "gpu"),
      2,
      /--backend gpu: unknown backend/,
    );
  });

  test("the tensorflow backend without tfjs-node installed says how to get it", () => {
    expectOneLineError(
      ciml("train-model", "--dataset", "ok", "--experiment", "small", "--backend", "tensorflow"),
      1,
      /backend "tensorflow" needs @tensorflow\/tfjs-node, which is not installed/,
    );
  });

  test("the cpu backend trains too", () => {
    const r = ciml("train-model", "--dataset", "ok", "--experiment", "small", "--backend", "cpu", "--no-tui");
    expect(r.code).toBe(0);
    expect(r.out).toContain("tfjs 4.22.0 on cpu");
    expect(r.out).toMatch(/rows = actual, columns = predicted/);
  });
});
