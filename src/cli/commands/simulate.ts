// `ciml simulate`: its help and the normaliser from flags to the step's options.
import type { CommandSpec } from "../command-spec.ts";
import { stepCommand } from "../command-spec.ts";
import { option, repeatable } from "../option-spec.ts";

export const simulateCommand: CommandSpec = {
  name: "simulate",
  summary: "Write a synthetic CI history: a subunit2sql database and a log tree of dstat files",
  notes: ["The history stands in for a real CI system: cache-data reads it like the real one."],
  examples: [
    "ciml simulate --runs 200 --db-uri sqlite:///ci.db --log-root ./logs",
    "ciml simulate --runs 1000 --failure-rate 0.2 --build-name tempest-full --build-name grenade",
  ],
  options: [
    option("--runs <n>", "number of runs"),
    option("--failure-rate <p>", "fraction of failed runs"),
    option("--missing-rate <p>", "fraction of runs without a dstat file"),
    repeatable("--build-name <name>", "build name of the runs (repeatable)"),
    option("--seed <n>", "random seed"),
    option("--db-uri <uri>", "where to write the database"),
    option("--log-root <dir>", "where to write the log tree"),
    option(
      "--log-url <url>",
      "log root URL stored in runs.artifacts, e.g. where an HTTP server will serve --log-root (default: file://<log-root>)",
    ),
    option("--interval <seconds>", "seconds between dstat rows (devstack used 1)"),
  ],
  async load() {
    const { simulate, SIMULATE_DEFAULTS: d } = await import("../../pipeline/simulate.ts");
    return stepCommand(simulate, (f) => ({
      runs: f.whole("--runs", d.runs),
      failureRate: f.decimal("--failure-rate", d.failureRate),
      missingRate: f.decimal("--missing-rate", d.missingRate),
      buildNames: f.list("--build-name", d.buildNames),
      seed: f.whole("--seed", d.seed),
      dbUri: f.string("--db-uri", d.dbUri),
      logRoot: f.string("--log-root", d.logRoot),
      logUrl: f.string("--log-url"),
      intervalSeconds: f.decimal("--interval", d.intervalSeconds),
    }));
  },
};
