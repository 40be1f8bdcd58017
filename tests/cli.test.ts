import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { closest, commandFromLinkName } from "../src/cli/argv.ts";
import { quickAnswer } from "../src/cli/quick-answer.ts";

const MAIN = join(import.meta.dir, "../src/main.ts");

function ciml(...args: string[]) {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args], { env: { ...process.env, CI: "true" } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

const COMMANDS = [
  "cache-data",
  "simulate",
  "build-dataset",
  "setup-experiment",
  "train-model",
  "plot-data",
  "mqtt-trainer",
  "db-predict",
  "db-batch-predict",
  "quickstart",
  "doctor",
];

describe("ciml CLI", () => {
  test("--version names the version and the runtime", () => {
    const r = ciml("--version");
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(`ciml ${pkg.version} (bun ${Bun.version}, ${process.platform}-${process.arch})`);
  });

  test("--help lists every command of the spec", () => {
    const r = ciml("--help");
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.out).toContain(c);
  });

  test("each command has help with the original's options and the common flags", () => {
    const r = ciml("build-dataset", "--help");
    expect(r.code).toBe(0);
    for (const o of [
      "--dataset",
      "--build-name",
      "--slicer",
      "--sample-interval",
      "--features-regex",
      "--class-label",
      "--tdt-split",
      "--force",
      "--visualize",
      "--target-data-path",
      "--data-plots-folder",
      "--aggregation-functions",
      "--data-path",
      "--json",
      "--quiet",
      "--no-tui",
    ]) {
      expect(r.out).toContain(o);
    }
    expect(ciml("mqtt-predict", "--help").out).toContain("--mqtt-hostname");
  });

  test("an unknown command is one line with a hint, exit 2", () => {
    const r = ciml("cach-data");
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toEqual([
      'error: unknown command "cach-data"; did you mean "cache-data"? Run `ciml --help` for the list',
    ]);
  });

  test("an unknown option is echoed as typed, with the nearest option and the command's help, exit 2", () => {
    const r = ciml("build-dataset", "--build-nmae", "x");
    expect(r.code).toBe(2);
    expect(r.err).toBe("error: unknown option --build-nmae; did you mean --build-name? See `ciml build-dataset --help` for the options\n");
    expect(ciml("doctor", "--bogus").err).toBe("error: unknown option --bogus; see `ciml doctor --help` for the options\n");
  });

  test("S3 options need an s3:// data path; one without credentials is one line", () => {
    const local = ciml("build-dataset", "--s3-url", "https://s3.example");
    expect(local.code).toBe(2);
    expect(local.err).toMatch(/^error: --s3-url and --s3-profile need an s3:\/\/BUCKET\[\/PREFIX\] data path; .* is a local folder\n$/);
  });

  test("--json errors are JSON on stdout", () => {
    const r = ciml("doctor", "--backend", "gpu", "--json");
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out.trim())).toMatchObject({ type: "error", exitCode: 2 });
  });

  test("doctor trains a tiny model on wasm", () => {
    const r = ciml("doctor", "--no-tui");
    expect(r.code).toBe(0);
    expect(r.out).toContain("tfjs 4.22.0 on wasm (simd)");
    expect(r.out).toMatch(/doctor done: backend=wasm wasm=simd tfjs=4\.22\.0 accuracy=0\.9\d+/);
  }, 60_000);
});

describe("argument shapes from the original", () => {
  test("a link named ciml-<command> acts as that command", () => {
    expect(commandFromLinkName("/usr/local/bin/ciml-cache-data", COMMANDS)).toBe("cache-data");
    expect(commandFromLinkName("C:\\bin\\ciml-train-model.exe", COMMANDS)).toBe("train-model");
    expect(commandFromLinkName("/usr/local/bin/ciml", COMMANDS)).toBeNull();
    expect(commandFromLinkName("/usr/local/bin/ciml-unknown", COMMANDS)).toBeNull();
  });

  test("the quick path answers only the bare help and version words, never through a ciml-<command> link", () => {
    const plain = ["/usr/local/bin/bun", "/opt/ciml/src/main.ts"];
    expect(quickAnswer([], plain)).toBe("help");
    for (const w of ["--help", "-h", "help"]) expect(quickAnswer([w], plain)).toBe("help");
    for (const w of ["--version", "-v"]) expect(quickAnswer([w], plain)).toBe("version");
    for (const words of [["doctor"], ["help", "doctor"], ["--json", "--help"], ["--version", "--help"], ["--bogus"]])
      expect(quickAnswer(words, plain)).toBeNull();
    expect(quickAnswer(["--help"], ["/usr/local/bin/ciml-doctor", undefined])).toBeNull();
    expect(quickAnswer([], ["C:\\bin\\ciml-doctor.exe", undefined])).toBeNull();
  });

  test("hints pick the nearest command", () => {
    expect(closest("trian-model", COMMANDS)).toBe("train-model");
    expect(closest("zzzzzzzzzzzz", COMMANDS)).toBeNull();
  });
});
