// The CLI as a newcomer meets it: help pages, usage mistakes (exit 2, one line, a hint), file-system
// trouble on the data path, and values that keep the type they were typed in. Through `bun src/main.ts`.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { COMMANDS } from "../src/cli/command-table.ts";

const MAIN = join(import.meta.dir, "../src/main.ts");
const work = mkdtempSync(join(tmpdir(), "ciml-cli-face-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs ciml in a fresh empty working directory of its own, with no CIML_* variables unless given. */
function ciml(args: string[], env: Record<string, string> = {}) {
  const cwd = mkdtempSync(join(work, "cwd-"));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CIML_")));
  const p = Bun.spawnSync([process.execPath, MAIN, ...args], { cwd, env: { ...clean, CI: "true", ...env } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString(), cwd };
}

const VERSION = `ciml ${pkg.version} (bun ${Bun.version}, ${process.platform}-${process.arch})`;

describe("top-level help", () => {
  const help = ciml(["--help"]);

  test("lists the exit codes, the environment, the alias and the ciml-<command> links", () => {
    expect(help.code).toBe(0);
    const lines = help.out.split("\n");
    for (const line of [
      "Exit codes:",
      "  0    done",
      "  1    failed; the message says why and what to do",
      "  2    usage error: unknown command or option, or a bad value",
      "  130  interrupted (Ctrl-C); nothing half-written is kept, run the command again to resume",
      "Environment:",
      "  CIML_DATA_PATH      workspace root when --data-path is not given (else ./data)",
      "  CIML_DB_URI         database URI when --db-uri is not given",
      "  CIML_MQTT_PASSWORD  mqtt-trainer's broker password when --password is not given (kept out of `ps`)",
      "  CIML_DEBUG=1        add the stack trace to error messages",
      "  ciml-<command> [options]        a link named ciml-<command> to the ciml executable runs that command",
      "  ciml help [command]             a command's options and examples (also: ciml <command> --help)",
      "  mqtt-trainer      Listen for finished CI runs on MQTT and publish a prediction for each (also: mqtt-predict)",
    ])
      expect(lines).toContain(line);
  });

  test("`ciml` alone and `ciml help` show the same page", () => {
    expect(ciml([]).out).toBe(help.out);
    expect(ciml(["help"]).out).toBe(help.out);
  });

  // main.ts answers these words itself, before the parser loads; with a face flag beside them they go
  // through run-cli.ts. Both ways must give the same page, so the quick path cannot drift.
  test("the quick answers are run-cli's answers", () => {
    for (const words of [["--help"], ["-h"], ["help"], []]) {
      const slow = ciml(["--no-tui", ...words]);
      expect(slow.code).toBe(0);
      expect(slow.out).toBe(help.out);
      expect(ciml(words).out).toBe(help.out);
    }
    expect(help.out.startsWith(`${VERSION}: `)).toBe(true);
    for (const words of [["--version"], ["-v"]]) {
      expect(ciml(words)).toMatchObject({ code: 0, out: `${VERSION}\n`, err: "" });
      expect(ciml(["--quiet", ...words])).toMatchObject({ code: 0, out: `${VERSION}\n`, err: "" });
    }
  });

  test("--no-tui does not claim a default, and every default is written `(default: …)`", () => {
    expect(help.out).toMatch(/^ +--no-tui +plain lines even on a terminal$/m);
    for (const c of COMMANDS) {
      const page = ciml([c.name, "--help"]).out;
      expect(page).not.toContain("(default: true)");
      expect(page).not.toContain("(default: false)");
      // "default" appears only as "(default: …)" or in "the four defaults".
      expect(page.match(/default(?!: |s\))/g) ?? []).toEqual([]);
    }
  }, 120_000);
});

describe("each command's help", () => {
  test.each(COMMANDS.map((c) => [c.name]))(
    "%s --help starts with what it does and gives 1–3 examples that name it",
    (name) => {
      const r = ciml([name, "--help"]);
      expect(r.code).toBe(0);
      const lines = r.out.split("\n");
      expect(lines[0]).toStartWith(`ciml ${name}: `);
      const examples = lines.slice(lines.indexOf("Examples:") + 1, lines.indexOf("", lines.indexOf("Examples:")));
      expect(examples.length).toBeGreaterThanOrEqual(1);
      expect(examples.length).toBeLessThanOrEqual(3);
      for (const e of examples) expect(e).toStartWith(`  ciml ${name}`);
    },
    60_000,
  );

  test("`ciml help <command>` is `ciml <command> --help`", () => {
    expect(ciml(["help", "build-dataset"]).out).toBe(ciml(["build-dataset", "--help"]).out);
  });

  test("the step's defaults are shown, written one way", () => {
    const out = ciml(["build-dataset", "--help"]).out;
    expect(out).toMatch(/^ +--tdt-split <t d s> +training, dev and test in tenths, summing to 10 \(default: 6 2 2\)$/m);
    expect(out).toContain("(default: $CIML_DATA_PATH, else ./data)");
  });

  test("quickstart --help lists only the options quickstart uses", () => {
    const out = ciml(["quickstart", "--help"]).out;
    const options = [...out.matchAll(/^\s+(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]);
    expect(options).toEqual(["--dir", "--runs", "--seed", "--force", "--json", "--quiet", "--no-tui", "--help", "--version"]);
  });

  test("mqtt-predict --help speaks of mqtt-predict", () => {
    const lines = ciml(["mqtt-predict", "--help"]).out.split("\n");
    expect(lines[0]).toBe("ciml mqtt-predict: Listen for finished CI runs on MQTT and publish a prediction for each (also: mqtt-trainer)");
    expect(lines).toContain("  ciml mqtt-predict [options]");
    expect(lines.filter((l) => l.includes("ciml mqtt-trainer"))).toEqual([]);
  });

  test("secrets in the environment are named in the help, never shown", () => {
    const r = ciml(["mqtt-trainer", "--help"], { CIML_MQTT_PASSWORD: "hunter2-secret", CIML_DB_URI: "mysql://u:dbsecret@h/db" });
    expect(r.out).toContain("(default: $CIML_MQTT_PASSWORD)");
    expect(r.out).not.toContain("hunter2-secret");
    expect(r.out).not.toContain("dbsecret");
  });
});

describe("usage mistakes: one line, a hint, exit 2", () => {
  test.each([
    [
      ["build-dataset", "--build-nmae", "x"],
      "error: unknown option --build-nmae; did you mean --build-name? See `ciml build-dataset --help` for the options",
    ],
    [["quickstart", "--data-path", "x"], "error: unknown option --data-path; see `ciml quickstart --help` for the options"],
    [
      ["build-dataset", "--features-regex", "("],
      'error: --features-regex "(" is not a valid regular expression (missing )); e.g. --features-regex "usr|sys", and \\( for a literal (',
    ],
    [
      ["build-dataset", "--tdt-split", "7", "0", "4"],
      "error: Training (7) + dev (0) + test (4) != 10; give tenths that sum to 10, e.g. --tdt-split 6 2 2",
    ],
    [["build-dataset", "--tdt-split", "7", "0"], "error: --tdt-split needs 3 values: --tdt-split t d s"],
    [["cache-data", "--limit", "1e3"], "error: --limit 1e3: give a whole number, e.g. 0"],
    [["simulate", "--failure-rate", "lots"], "error: --failure-rate lots: give a number, e.g. 0.1"],
    [["doctor", "--backend"], "error: --backend needs a value: --backend <name>"],
    [["doctor", "--force"], "error: unknown option --force; see `ciml doctor --help` for the options"],
    [["db-predict"], "error: missing <build_uuid>: ciml db-predict <build_uuid> [options]"],
    [["doctor", "extra"], 'error: unexpected argument "extra"; run `ciml doctor --help`'],
    [["cach-data"], 'error: unknown command "cach-data"; did you mean "cache-data"? Run `ciml --help` for the list'],
  ])("%p", (args, line) => {
    const r = ciml(args);
    expect(r.err).toBe(`${line}\n`);
    expect(r.out).toBe("");
    expect(r.code).toBe(2);
    expect(readdirSync(r.cwd)).toEqual([]);
  });

  test("--json: the same mistake is one JSON object on stdout", () => {
    const r = ciml(["cache-data", "--json", "--limit", "x"]);
    expect(r.code).toBe(2);
    expect(r.err).toBe("");
    const lines = r.out.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: "error", message: "--limit x: give a whole number, e.g. 0", exitCode: 2 });
  });

  test("CIML_DEBUG=1 adds the stack: after the line in plain mode, as a field in --json", () => {
    const plain = ciml(["cache-data", "--limit", "x"], { CIML_DEBUG: "1" });
    expect(plain.err.split("\n")[0]).toBe("error: --limit x: give a whole number, e.g. 0");
    expect(plain.err.split("\n")[1]).toStartWith("UsageError: --limit x");
    const json = JSON.parse(ciml(["cache-data", "--json", "--limit", "x"], { CIML_DEBUG: "1" }).out);
    expect(json.stack).toContain("flags.ts");
  });

  test("--version works after a command too", () => {
    for (const args of [["--version"], ["-v"], ["doctor", "--version"], ["build-dataset", "--dataset", "x", "-v"]]) {
      const r = ciml(args);
      expect(r.out).toBe(`${VERSION}\n`);
      expect(r.code).toBe(0);
    }
  });
});

describe("values keep the type they were typed in", () => {
  test("--data-path 2024 is a folder named 2024", () => {
    const r = ciml(["build-dataset", "--data-path", "2024"]);
    expect(r.err).toBe(
      `error: no cached runs for build name tempest-full in ${r.cwd}/2024/.raw; run cache-data --build-name tempest-full first\n`,
    );
    expect(r.code).toBe(1);
  });

  test("a build name of digits stays as typed (007, not 7)", () => {
    const r = ciml(["build-dataset", "--data-path", "d", "--build-name", "007"]);
    expect(r.err).toContain("no cached runs for build name 007 in");
  });
});

describe("file-system trouble on the data path", () => {
  const db = join(work, "empty.db");
  writeFileSync(join(work, "a-file"), "x");

  test("the data path is a file: one line naming it and the fix", () => {
    const r = ciml(["cache-data", "--data-path", join(work, "a-file"), "--db-uri", `sqlite:///${db}`]);
    expect(r.err).toBe(
      `error: ${work}/a-file is a file where a folder is needed (for ${work}/a-file/.raw/tempest-full.json.gz); move the file away or choose another folder\n`,
    );
    expect(r.code).toBe(1);
  });

  test("a parent that cannot be made: one line naming the path, no errno text", () => {
    const r = ciml(["setup-experiment", "--data-path", "/proc/ciml-nowhere/data"]);
    expect(r.err).toMatch(
      /^error: \/proc\/ciml-nowhere\/data\S*: no such file or folder, and it could not be created; check the path and that its parent folder exists\n$/,
    );
    expect(r.err).not.toContain("ENOENT");
    expect(r.err).not.toContain("unexpected");
    expect(r.code).toBe(1);
  });

  test("a failed command leaves no empty ./data behind", () => {
    const r = ciml(["cache-data", "--db-uri", "sqlite:///missing.db"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("missing.db does not exist");
    expect(existsSync(join(r.cwd, "data"))).toBe(false);
  });

  test("an existing data path is never removed, even empty", () => {
    const dir = join(work, "kept");
    mkdirSync(dir);
    const r = ciml(["cache-data", "--data-path", dir, "--db-uri", "sqlite:///missing.db"]);
    expect(r.code).toBe(1);
    expect(existsSync(dir)).toBe(true);
  });
});

describe("setup-experiment", () => {
  test("accepts --dataset as the original README writes it; experiments are shared by datasets", () => {
    const r = ciml(["setup-experiment", "--dataset", "d1", "--experiment", "svm", "--estimator", "tf.contrib.learn.SVM", "--no-tui"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(join(r.cwd, "data", "_experiments", "svm", "experiment.json.gz"))).toBe(true);
    expect(ciml(["setup-experiment", "--help"]).out).toContain(
      "An experiment belongs to no dataset: one experiment can be trained on every dataset (--dataset is accepted and not needed).",
    );
  });
});
