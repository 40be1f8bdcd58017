// `ciml quickstart`: its help and the normaliser from flags to the step's options.
import type { CommandSpec } from "../command-spec.ts";
import { stepCommand } from "../command-spec.ts";
import { option } from "../option-spec.ts";

export const quickstartCommand: CommandSpec = {
  name: "quickstart",
  summary: "Run the whole pipeline on a simulated CI history (no server, no network)",
  notes: ["Simulates a CI history, caches it, builds a dataset, trains two models and predicts; about a minute."],
  examples: ["ciml quickstart", "ciml quickstart --dir /tmp/ciml-demo --runs 500"],
  options: [
    option("--dir <dir>", "where to work"),
    option("--runs <n>", "simulated runs"),
    option("--seed <n>", "seed of the simulation, split and training"),
    option("--force", "start afresh over an earlier quickstart in --dir"),
  ],
  async load() {
    const { quickstart, QUICKSTART_DEFAULTS: d } = await import("../../pipeline/quickstart.ts");
    return stepCommand(quickstart, (f) => ({
      dir: f.string("--dir", d.dir),
      runs: f.whole("--runs", d.runs),
      seed: f.whole("--seed", d.seed),
      force: f.on("--force"),
    }));
  },
};
