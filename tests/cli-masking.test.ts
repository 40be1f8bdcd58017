// A database password never shows on success either: a real MariaDB account with a password (made here,
// dropped after) carries the README walk-through, and every line of every command, plain, --quiet and
// --json, is searched for any piece of it. (mqtt-trainer's, with its broker password, is in
// cli-mqtt-promises.test.ts; errors are in cli-db-password.test.ts.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { serveLogTree, type TestLogServer } from "./helpers/log-server.ts";
import { adminQuery, dropDatabase, queryDatabase, uniqueDatabaseName } from "./helpers/mariadb.ts";
import { cimlEnv, MAIN, runCiml, simulateArgs } from "./helpers/run-ciml.ts";

const PASSWORD = "Vg3p@Lr8c/Tw5m#Ka1x?Qz9n:Bd4h";
const database = uniqueDatabaseName("masking");
const user = `ciml_mask_${process.pid}`;
const URI = `mysql+pymysql://${user}:${PASSWORD}@127.0.0.1:3306/${database}`;
const SHOWN = `mysql+pymysql://${user}:***@127.0.0.1:3306/${database}`;
const dir = mkdtempSync(join(tmpdir(), "ciml-masking-"));
const HOSTS = ["localhost", "127.0.0.1", "%"];

/** Runs ciml without blocking this process, which serves the child's log server. */
const ciml = (args: string[], extraEnv: Record<string, string> = {}) => runCiml(args, dir, extraEnv);

/** Every piece of the password between its special characters, so a half-masked password is caught too. */
function expectNoPiece(text: string): void {
  for (const piece of PASSWORD.split(/[@/#?:]/)) expect(text).not.toContain(piece);
  expect(text).not.toContain(encodeURIComponent(PASSWORD));
}

const FACES = ["--no-tui", "--quiet", "--json"] as const;

/** Runs one command in every face; each must succeed and show no piece of the password. Returns all output. */
async function everyFace(args: string[]): Promise<string> {
  let seen = "";
  for (const face of FACES) {
    const r = await ciml([...args, face]);
    expect(`${face} exit ${r.code}: ${r.err}`).toBe(`${face} exit 0: ${r.err}`);
    expectNoPiece(r.out + r.err);
    seen += r.out + r.err;
  }
  return seen;
}

let logs: TestLogServer;
/** mqtt-trainers started, killed at the end if a failed test left one running */
const trainers: { kill(signal?: number | NodeJS.Signals): void; exitCode: number | null }[] = [];
/** a build db-predict predicted, for mqtt-trainer to predict again */
let predictedBuild = "";

beforeAll(async () => {
  // A remote database's runs are fetched over HTTP, never from local files.
  logs = serveLogTree({ root: join(dir, "logs") });
  await adminQuery(`CREATE DATABASE \`${database}\``);
  for (const host of HOSTS) {
    await adminQuery("CREATE USER ?@? IDENTIFIED BY ?", [user, host, PASSWORD]);
    await adminQuery(`GRANT ALL ON \`${database}\`.* TO ?@?`, [user, host]);
  }
});

afterAll(async () => {
  for (const t of trainers) if (t.exitCode === null) t.kill("SIGKILL");
  logs.stop();
  for (const host of HOSTS) await adminQuery("DROP USER IF EXISTS ?@?", [user, host]);
  await dropDatabase(database);
  rmSync(dir, { recursive: true, force: true });
});

describe("a MariaDB password through the walk-through, on success", () => {
  test("simulate: 'Wrote … to <uri>' and the summary name the database masked, in every face", async () => {
    const seen = await everyFace(simulateArgs(16, 0, URI, logs.url));
    expect(seen).toContain(`to ${SHOWN}; logs under logs`);
    // The second and third runs add to the database: that line names it too.
    expect(seen).toContain(`${SHOWN} already holds 32 runs`);
  }, 120_000);

  test("cache-data: its lines and summary, in every face", async () => {
    const seen = await everyFace(["cache-data", "--db-uri", URI, "--limit", "30"]);
    expect(seen).toContain("cached=30");
  }, 120_000);

  test("db-predict and db-batch-predict, in every face", async () => {
    const setup = [
      ["build-dataset", "--dataset", "ds", "--sample-interval", "1min", "--features-regex", "^(usr|1m)$", "--no-tui"],
      ["setup-experiment", "--experiment", "dnn", "--hidden-layers", "8", "--epochs", "2", "--no-tui"],
      ["train-model", "--dataset", "ds", "--experiment", "dnn", "--no-tui"],
    ];
    for (const args of setup) {
      const r = await ciml(args);
      expect(`exit ${r.code}: ${r.err}`).toBe(`exit 0: ${r.err}`);
    }
    const [last] = await queryDatabase<{ value: string }>(
      database,
      "SELECT m.value FROM run_metadata m JOIN runs r ON r.id = m.run_id WHERE m.`key` = 'build_uuid' ORDER BY r.id DESC LIMIT 1",
    );
    predictedBuild = last!.value;
    await everyFace(["db-predict", last!.value, "--db-uri", URI, "--dataset", "ds", "--experiment", "dnn"]);
    await everyFace(["db-batch-predict", "--db-uri", URI, "--dataset", "ds", "--experiment", "dnn"]);
  }, 120_000);

  test("mqtt-trainer: with --debug, plain and --json, from the first event to the summary", async () => {
    for (const face of ["--no-tui", "--json"]) {
      const topic = `ciml-test/masking-${process.pid}${face}`;
      const args = ["mqtt-trainer", face, "--debug", "--mqtt-hostname", "127.0.0.1", "--topic", `${topic}/#`];
      args.push("--publish-topic", `${topic}-out`, "--db-uri", URI, "--dataset", "ds", "--experiment", "dnn");
      const p = Bun.spawn([process.execPath, MAIN, ...args], { cwd: dir, env: cimlEnv(), stdout: "pipe", stderr: "pipe" });
      let seen = "";
      const decoder = new TextDecoder();
      const pumped = Promise.all(
        [p.stdout, p.stderr].map(async (s) => {
          for await (const chunk of s) seen += decoder.decode(chunk, { stream: true });
        }),
      );
      const until = async (what: string, text: string) => {
        const deadline = Date.now() + 60_000;
        while (!seen.includes(text)) {
          if (Date.now() > deadline) throw new Error(`no ${what} within 60 s: ${seen}`);
          await Bun.sleep(20);
        }
      };
      // Whatever happens, the trainer (which runs until Ctrl-C) does not outlive the test.
      const guard = setTimeout(() => p.kill("SIGKILL"), 90_000);
      trainers.push(p);
      await until("connection", "connected to 127.0.0.1:1883");
      const c = await mqtt.connectAsync({ host: "127.0.0.1", port: 1883, reconnectPeriod: 0 });
      await c.publishAsync(
        `${topic}/subunit-worker01/openstack/nova/1`,
        JSON.stringify({ build_uuid: predictedBuild, source_url: "http://logs.example.org/x", status: "success" }),
        { qos: 1 },
      );
      await c.endAsync();
      await until("prediction", face === "--json" ? '"type":"prediction"' : "predicted");
      p.kill("SIGINT");
      expect(await p.exited).toBe(0);
      clearTimeout(guard);
      await pumped;
      expect(seen).toContain("Stopped after 1 events: 1 predictions published");
      expectNoPiece(seen);
    }
  }, 120_000);

  test("CIML_DEBUG=1 on a failure: the stack shows, the password does not", async () => {
    const wrong = URI.replace("@127.0.0.1:3306", "@127.0.0.1:1");
    for (const face of ["--no-tui", "--json"]) {
      const r = await ciml(["cache-data", face, "--db-uri", wrong], { CIML_DEBUG: "1" });
      const all = r.out + r.err;
      expect(r.code).toBe(1);
      const stack = face === "--json" ? (JSON.parse(r.out.trim().split("\n").at(-1)!) as { stack?: string }).stack : r.err;
      expect(stack).toMatch(/\n\s+at .+\.ts:\d+/);
      expect(all).toContain(`${user}:***@127.0.0.1:1/${database}`);
      expectNoPiece(all);
    }
  }, 60_000);
});
