// Each command's normaliser: every option of its table reaches the step, environment variables are
// used only where no flag was typed, and nothing changes type by its look.
import { describe, expect, test } from "bun:test";
import { COMMANDS, findCommand } from "../src/cli/command-table.ts";
import { Flags } from "../src/cli/flags.ts";
import { parseArgv } from "../src/cli/parse-argv.ts";

async function normalise(command: string, words: string[], env: Record<string, string> = {}) {
  const spec = findCommand(command)!;
  const { given, positionals } = parseArgv(words, spec.options, `ciml ${command}`);
  const flags = new Flags(given, positionals, env);
  return { options: (await spec.load()).normalise(flags), flags };
}

describe("normalisers", () => {
  test.each(COMMANDS.map((c) => [c.name]))(
    "%s reads every option of its table",
    async (name) => {
      const spec = findCommand(name)!;
      const { flags } = await normalise(name, spec.argument ? ["b1"] : []);
      expect([...flags.read].sort()).toEqual(spec.options.map((o) => o.name).sort());
    },
    60_000,
  );

  test("the MQTT password comes from --password, else $CIML_MQTT_PASSWORD", async () => {
    const env = { CIML_MQTT_PASSWORD: "from-env" };
    expect((await normalise("mqtt-trainer", [], env)).options).toMatchObject({ broker: { password: "from-env" } });
    expect((await normalise("mqtt-trainer", ["--password", "typed"], env)).options).toMatchObject({ broker: { password: "typed" } });
    expect((await normalise("mqtt-trainer", [])).options).toMatchObject({ broker: { password: undefined } });
  });

  test("the database URI and data path come from the flag, else the environment, else the step's default", async () => {
    const env = { CIML_DB_URI: "sqlite:///env.db", CIML_DATA_PATH: "/srv/env" };
    // Untyped, the database is only the fallback source, so --zuul-url or --runs-file alone is one source.
    const untyped = (await normalise("cache-data", [], env)).options;
    expect(untyped).toMatchObject({ defaultDbUri: "sqlite:///env.db", dataPath: "/srv/env" });
    expect((untyped as { dbUri?: string }).dbUri).toBeUndefined();
    expect((await normalise("cache-data", ["--db-uri", "sqlite:///typed.db", "--data-path", "typed"], env)).options).toMatchObject({
      dbUri: "sqlite:///typed.db",
      dataPath: "typed",
    });
    expect((await normalise("cache-data", [])).options).toMatchObject({
      defaultDbUri: "mysql+pymysql://query:query@logstash.openstack.org/subunit2sql",
      dataPath: "./data",
      limit: 0,
      parallel: 8,
    });
  });

  test("string options stay strings whatever they look like; numbers are numbers", async () => {
    const { options } = await normalise("build-dataset", [
      "--data-path",
      "2024",
      "--build-name",
      "007",
      "--dataset",
      "1e3",
      "--slicer",
      "0x10",
      "--seed",
      "7",
      "--tdt-split",
      "7",
      "0",
      "3",
    ]);
    expect(options).toMatchObject({
      dataPath: "2024",
      buildName: "007",
      dataset: "1e3",
      slicer: "0x10",
      seed: 7,
      tdtSplit: ["7", "0", "3"],
    });
  });

  test("repeatable options keep each occurrence; plot-data's triples stay grouped", async () => {
    const { options } = await normalise("plot-data", [
      "--dataset-experiment-label",
      "d1",
      "e1",
      "one",
      "--dataset-experiment-label=d2,e2,two",
      "-k",
      "accuracy",
      "--data-keys",
      "loss",
    ]);
    expect(options).toMatchObject({
      labels: [
        ["d1", "e1", "one"],
        ["d2", "e2", "two"],
      ],
      keys: ["accuracy", "loss"],
    });
  });
});
