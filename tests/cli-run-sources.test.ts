// The run-source flags as a user meets them: exactly one of --db-uri, --zuul-url, --runs-file, and each
// mistake one line on stderr with the right exit code.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveZuul, type TestZuul } from "./helpers/zuul-server.ts";
import { runCiml } from "./helpers/run-ciml.ts";

let dir: string;
let zuul: TestZuul;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ciml-cli-sources-"));
  zuul = serveZuul([]);
});
afterAll(() => {
  zuul.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ciml(...args: string[]) {
  const { code, out, err } = await runCiml([...args, "--no-tui"], dir, { CIML_ZUUL_TOKEN: "tok-abc123-secret" });
  return { code, out, err: err.trim().split("\n") };
}

describe("choosing the run source", () => {
  test("two sources at once is a usage error, for every command that reads runs", async () => {
    const two = ["--db-uri", "sqlite:///ci.db", "--runs-file", "runs.jsonl"];
    for (const args of [["cache-data"], ["db-batch-predict"], ["db-predict", "abc"], ["mqtt-trainer"]]) {
      const r = await ciml(...args, ...two);
      expect([args[0], r.code, r.err]).toEqual([args[0], 2, ["error: --db-uri and --runs-file: give one run source, not 2"]]);
    }
  }, 60_000);

  test("a Zuul tenant that does not exist: one line, exit 1, the token never shown", async () => {
    const r = await ciml("cache-data", "--zuul-url", zuul.api("nosuch"), "--build-name", "tempest-full");
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      `error: Zuul at ${zuul.api("nosuch")}: HTTP 404 for builds?job_name=tempest-full&complete=true&limit=100&skip=0; check the tenant name in --zuul-url (https://HOST/api/tenant/TENANT)`,
    ]);
    expect(r.out + r.err.join("\n")).not.toContain("tok-abc123-secret");
    // the token went to the API as a bearer token
    expect(zuul.authorizations.at(-1)).toBe("Bearer tok-abc123-secret");
  }, 30_000);

  test("a Zuul filter without --zuul-url is a usage error", async () => {
    const r = await ciml("cache-data", "--db-uri", "sqlite:///ci.db", "--pipeline", "gate");
    expect([r.code, r.err]).toEqual([2, ["error: --pipeline filters Zuul builds: use it with --zuul-url"]]);
  }, 30_000);
});
