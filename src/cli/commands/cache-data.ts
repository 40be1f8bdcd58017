// `ciml cache-data`: its help and the normaliser from flags to the step's options.
import type { CommandSpec } from "../command-spec.ts";
import { stepCommand } from "../command-spec.ts";
import { option } from "../option-spec.ts";
import { DATA_PATH, DSTAT_PATH, S3_OPTIONS, SOURCE_OPTIONS, sourceOptions, workspaceOptions } from "./shared-options.ts";

export const cacheDataCommand: CommandSpec = {
  name: "cache-data",
  summary: "Fetch runs of a build name (subunit2sql DB, Zuul or a runs file) and their dstat files into the local cache",
  notes: ["Interrupted or repeated, it resumes: runs already cached are not fetched again."],
  examples: [
    "ciml cache-data --build-name tempest-full --limit 100",
    "ciml cache-data --db-uri mysql://query:query@db.example/subunit2sql --parallel 16",
    "ciml cache-data --zuul-url https://zuul.opendev.org/api/tenant/openstack --build-name tempest-full-py3 --limit 200",
  ],
  options: [
    option("--build-name <name>", "run_metadata build_name of the runs to fetch"),
    ...SOURCE_OPTIONS,
    option("--limit <n>", "stop when this many runs of the build name are cached; 0 means no limit"),
    option("--parallel <n>", "downloads in flight at once"),
    DSTAT_PATH,
    option("--timeout <seconds>", "overall time allowed per file download"),
    DATA_PATH,
    ...S3_OPTIONS,
  ],
  async load() {
    const { cacheData, CACHE_DATA_DEFAULTS: d } = await import("../../pipeline/cache-data.ts");
    return stepCommand(cacheData, (f) => {
      return {
        ...workspaceOptions(f),
        buildName: f.string("--build-name", d.buildName),
        ...sourceOptions(f, d.defaultDbUri),
        limit: f.whole("--limit", d.limit),
        parallel: f.whole("--parallel", d.parallel),
        dstatPaths: f.list("--dstat-path"),
        timeoutSeconds: f.decimal("--timeout", d.timeoutSeconds),
      };
    });
  },
};
