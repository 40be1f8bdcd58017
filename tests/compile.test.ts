// The download-and-run binary: built with scripts/compile.ts, copied alone into an empty directory,
// and run with the repository's node_modules hidden, so nothing can be picked up from the checkout.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { syntheticDstat, uuidFor, writeCache } from "./dataset-cache.ts";
import { interruptWhen } from "./helpers/interrupt.ts";
import { writePlantedDataset } from "./helpers/planted-dataset.ts";
import { modelFiles } from "./helpers/model-files.ts";
import { startS3Server } from "./helpers/s3-server.ts";

const repo = resolve(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "ciml-binary-"));
const bin = join(work, "run", "ciml");
const empty = join(work, "empty");

// A private mount namespace hides node_modules from the binary only (root on Linux); elsewhere the
// binary still runs from a directory with no node_modules.
const canHide = process.platform === "linux" && Bun.spawnSync(["unshare", "-m", "true"]).exitCode === 0;

function runBinary(args: string[], name = "ciml", env: Record<string, string> = {}) {
  const exe = join(work, "run", name);
  const argv = canHide
    ? ["unshare", "-m", "sh", "-c", `mount --bind "${empty}" "${join(repo, "node_modules")}" && exec "$0" "$@"`, exe, ...args]
    : [exe, ...args];
  const p = Bun.spawnSync(argv, { cwd: join(work, "run"), env: { PATH: "/usr/bin:/bin", HOME: work, CI: "true", ...env } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

beforeAll(() => {
  mkdirSync(join(work, "run"), { recursive: true });
  mkdirSync(empty);
  const build = Bun.spawnSync([process.execPath, join(repo, "scripts/compile.ts"), "--outdir", join(work, "dist")]);
  if (build.exitCode !== 0) throw new Error(`compile failed: ${build.stderr}`);
  copyFileSync(join(work, "dist", "ciml"), bin);
  symlinkSync("ciml", join(work, "run", "ciml-doctor"));
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("compiled binary, alone in an empty directory", () => {
  test("--help and --version", () => {
    const help = runBinary(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("cache-data");
    expect(help.out).toContain("\nExit codes:\n");
    const version = runBinary(["--version"]);
    expect(version.code).toBe(0);
    expect(version.out).toMatch(/^ciml \d+\.\d+\.\d+ \(bun /);
  });

  test("doctor trains a tiny model on the embedded wasm backend", () => {
    const r = runBinary(["doctor", "--no-tui"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("on wasm (simd)");
    expect(r.out).toContain("ciml runtime OK");
  });

  test("a command's help loads that command's module from the bytecode bundle", () => {
    const r = runBinary(["--help"], "ciml-doctor");
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[0]).toBe("ciml doctor: Check this build's runtime: train a tiny model on the chosen tfjs backend");
    expect(r.out).toMatch(/^ +--backend <name> +wasm, cpu or tensorflow \(default: wasm\)$/m);
    expect(runBinary(["train-model", "--data-path", "2024", "--dataset", "x"]).err).toBe(
      `error: Experiment experiment not found in ${join(work, "run", "2024")}; create it with \`ciml setup-experiment --experiment experiment\`\n`,
    );
  });

  test("a link named ciml-doctor acts as `ciml doctor`", () => {
    const r = runBinary(["--json"], "ciml-doctor");
    expect(r.code).toBe(0);
    const last = JSON.parse(r.out.trim().split("\n").at(-1)!);
    expect(last).toMatchObject({ type: "result", stage: "doctor", summary: { backend: "wasm" } });
  });

  test("build-dataset --visualize draws its PNG with the embedded resvg wasm and font", async () => {
    const data = join(work, "run", "data");
    await writeCache(
      data,
      "tempest-full",
      Array.from({ length: 10 }, (_, i) => ({
        uuid: uuidFor(i),
        trace: syntheticDstat(400 + 60 * i, i + 1),
        status: (i % 3 === 0 ? 1 : 0) as 0 | 1,
      })),
    );
    const r = runBinary([
      "build-dataset",
      "--data-path",
      data,
      "--sample-interval",
      "1min",
      "--features-regex",
      "usr",
      "--visualize",
      "--data-plots-folder",
      join(work, "run", "plots"),
      "--no-tui",
    ]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const png = readFileSync(join(work, "run", "plots", "sizes_by_result.png"));
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(png.length).toBeGreaterThan(5000);
  });

  test("Ctrl-C mid-training: exit 130, the model saved before untouched, no temp file", async () => {
    const data = join(work, "run", "interrupt");
    await writePlantedDataset(data, "big", { seed: 5, sizes: { training: 3000, dev: 200, test: 200 } });
    const setup = ["setup-experiment", "--data-path", data, "--experiment", "long", "--batch-size", "8"];
    expect(runBinary([...setup, "--epochs", "2"]).code).toBe(0);
    expect(runBinary(["train-model", "--data-path", data, "--dataset", "big", "--experiment", "long", "--no-tui"]).code).toBe(0);
    const modelDir = join(data, "big", "long");
    const before = modelFiles(modelDir);
    expect(before).toHaveLength(2);
    expect(runBinary([...setup, "--force", "--epochs", "5000", "--steps", "100000000"]).code).toBe(0);
    const r = await interruptWhen(
      [bin, "train-model", "--json", "--data-path", data, "--dataset", "big", "--experiment", "long"],
      join(work, "run"),
      (e) => e.type === "epoch",
    );
    console.log(`compiled train-model ended ${r.ms.toFixed(0)} ms after SIGINT`);
    expect(r.code).toBe(130);
    expect(modelFiles(modelDir)).toEqual(before);
    expect((readdirSync(modelDir, { recursive: true }) as string[]).filter((n) => n.includes(".tmp-"))).toEqual([]);
  }, 300_000);

  test("does the workflow on an S3 bucket (s3rver on loopback)", async () => {
    const s3 = await startS3Server();
    try {
      const db = `sqlite:///${join(work, "run", "s3-ci.db")}`;
      const logs = join(work, "run", "s3-logs");
      expect(runBinary(["simulate", "--runs", "60", "--seed", "4", "--db-uri", db, "--log-root", logs, "--no-tui"]).code).toBe(0);
      const flags = ["--data-path", `s3://${s3.bucket}/bin`, "--s3-url", s3.url, "--no-tui"];
      for (const args of [
        ["cache-data", "--db-uri", db],
        ["build-dataset", "--dataset", "ds", "--features-regex", "usr", "--sample-interval", "1min", "--slicer", ":30"],
        ["setup-experiment", "--experiment", "e", "--epochs", "2", "--batch-size", "8"],
        ["train-model", "--dataset", "ds", "--experiment", "e"],
        ["db-batch-predict", "--db-uri", db, "--dataset", "ds", "--experiment", "e"],
      ]) {
        const r = runBinary([...args, ...flags], "ciml", s3.env);
        // Runs simulate left without a dstat file are warned about; nothing else may be said there.
        expect(r.err.split("\n").filter((line) => line && !line.startsWith("warning: "))).toEqual([]);
        expect(r.code).toBe(0);
      }
      const bucket = new Bun.S3Client({ ...s3.client, bucket: s3.bucket });
      expect(await bucket.exists("bin/ds/e/model.json")).toBe(true);
      expect(await bucket.exists("bin/ds/training.npz")).toBe(true);
    } finally {
      s3.stop();
    }
  }, 300_000);

  test("completes quickstart with no server, no network and no node_modules", () => {
    const r = runBinary(["quickstart", "--runs", "100", "--no-tui"]);
    expect(r.code).toBe(0);
    const dataset = join(work, "run", "ciml-quickstart", "data", "usr_1m-1min-status");
    for (const f of ["training.npz", "dnn-3x10/model.json", "svm/eval_usr_1m-1min-status.json.gz"])
      expect(existsSync(join(dataset, f))).toBe(true);
    expect(existsSync(join(work, "run", "ciml-quickstart", "plots", "sizes_by_result.png"))).toBe(true);
    expect(r.out).toContain("quickstart done:");
  }, 300_000);
});
