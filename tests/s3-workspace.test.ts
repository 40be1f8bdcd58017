// The workspace on S3-compatible object storage, against a real server (s3rver) on loopback: the whole
// workflow through the command line gives what it gives on a local folder, two cache-data processes at
// once lose nothing, a local workspace copied object by object opens as it is, and the failures a user
// meets (credentials, bucket, endpoint) are one line each with no secret in it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { S3Store } from "../src/io/workspace/s3-store.ts";
import { withPredictor } from "../src/pipeline/predict/predict-build.ts";
import { S3_KEY, type S3Server, startS3Server } from "./helpers/s3-server.ts";

const MAIN = resolve(import.meta.dir, "../src/main.ts");
const work = mkdtempSync(join(tmpdir(), "ciml-s3-"));
const db = `sqlite:///${join(work, "ci.db")}`;
let s3: S3Server;

function ciml(args: string[], env: Record<string, string> = s3.env) {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args], {
    cwd: work,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, CI: "true", ...env },
    timeout: 240_000,
  });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

function ok(args: string[], env?: Record<string, string>): string {
  const r = ciml(args, env);
  if (r.code !== 0) throw new Error(`ciml ${args.join(" ")} exited ${r.code}: ${r.err}`);
  return r.out;
}

function client(): Bun.S3Client {
  return new Bun.S3Client({ accessKeyId: S3_KEY, secretAccessKey: S3_KEY, bucket: s3.bucket, endpoint: s3.url, region: "us-east-1" });
}

async function objectJson(key: string): Promise<unknown> {
  return JSON.parse(gunzipSync(await client().file(key).bytes()).toString());
}

/** build-dataset's words for every dataset of these tests: the same features, interval and runs. */
function buildDataset(dataset: string, buildName: string): string[] {
  return [
    "build-dataset",
    "--dataset",
    dataset,
    "--build-name",
    buildName,
    "--features-regex",
    "(usr|1m)",
    "--sample-interval",
    "1min",
    "--slicer",
    ":20",
  ];
}

/** The five commands of the workflow on one data path; returns what db-batch-predict said, as JSON lines. */
function workflow(dataPath: string, buildName = "tempest-full"): { predictions: unknown[]; result: Record<string, unknown> } {
  const s3Flags = dataPath.startsWith("s3://") ? ["--s3-url", s3.url] : [];
  const common = ["--data-path", dataPath, ...s3Flags, "--no-tui"];
  ok(["cache-data", "--build-name", buildName, "--db-uri", db, ...common]);
  ok([...buildDataset("ds", buildName), ...common]);
  ok([
    "setup-experiment",
    "--experiment",
    "e",
    "--hidden-layers",
    "8/8",
    "--epochs",
    "3",
    "--batch-size",
    "8",
    "--optimizer",
    "Adam",
    "--learning-rate",
    "0.01",
    ...common,
  ]);
  ok(["train-model", "--dataset", "ds", "--experiment", "e", ...common]);
  const out = ok([
    "db-batch-predict",
    "--db-uri",
    db,
    "--dataset",
    "ds",
    "--experiment",
    "e",
    "--json",
    ...common.filter((f) => f !== "--no-tui"),
  ]);
  const events = out
    .trim()
    .split("\n")
    .map((l) => {
      // When each line was written differs from run to run; what it says must not.
      const { time: _, ...event } = JSON.parse(l);
      return event;
    });
  return {
    predictions: events.filter((e) => e.type === "prediction"),
    result: events.find((e) => e.type === "result").summary,
  };
}

/** Every file of a local folder, as relative path → bytes. */
function filesOf(dir: string, under = ""): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(join(dir, under))) {
    const rel = under ? `${under}/${name}` : name;
    if (statSync(join(dir, rel)).isDirectory()) for (const [k, v] of filesOf(dir, rel)) out.set(k, v);
    else out.set(rel, readFileSync(join(dir, rel)));
  }
  return out;
}

beforeAll(async () => {
  s3 = await startS3Server();
  ok([
    "simulate",
    "--runs",
    "70",
    "--build-name",
    "tempest-full",
    "--build-name",
    "grenade",
    "--missing-rate",
    "0.1",
    "--seed",
    "3",
    "--db-uri",
    db,
    "--log-root",
    join(work, "logs"),
    "--no-tui",
  ]);
}, 120_000);

afterAll(() => {
  s3?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("a workspace in an S3 bucket", () => {
  test("cache-data → build-dataset → setup-experiment → train-model → db-batch-predict gives what a local folder gives", () => {
    const local = workflow(join(work, "local"));
    const remote = workflow(`s3://${s3.bucket}/team`);
    expect(local.predictions.length).toBeGreaterThan(0);
    expect(remote.predictions).toEqual(local.predictions);
    expect(remote.result).toEqual(local.result);
  }, 600_000);

  test("the bucket holds the local layout, file for file", async () => {
    const local = filesOf(join(work, "local"));
    const listed = await client().list({ prefix: "team/" });
    const keys = new Set((listed.contents ?? []).map((o) => o.key.slice("team/".length)));
    // TensorBoard event files are named by time and pid; the rest must match by name.
    const plain = (names: Iterable<string>) => [...names].filter((n) => !n.includes("events.out.tfevents")).sort();
    expect(plain(keys)).toEqual(plain(local.keys()));
    for (const name of [".raw/tempest-full.json.gz", "ds/runs.json.gz", "ds/test.json.gz"])
      expect(await objectJson(`team/${name}`)).toEqual(JSON.parse(gunzipSync(local.get(name)!).toString()));
  }, 60_000);

  test("a file too large for one PUT goes up in parts, reads back whole, and leaves no other object", async () => {
    const store = new S3Store(`s3://${s3.bucket}/big`, s3.client);
    // 8 MiB parts: two whole and a short last one, each byte telling its place.
    const bytes = new Uint8Array(20 * 1024 * 1024 + 3).map((_, i) => (i * 7) % 251);
    // Handed over in uneven pieces, as an npz is written member by member: the parts cut across them.
    const cuts = [0, 3_000_007, 8 * 1024 * 1024 + 1, 8 * 1024 * 1024 + 2, bytes.length];
    await store.write(`s3://${s3.bucket}/big/x.npz`, (emit) => {
      for (let k = 1; k < cuts.length; k++) emit(bytes.subarray(cuts[k - 1], cuts[k]));
    });
    expect(Buffer.compare(await client().file("big/x.npz").bytes(), bytes)).toBe(0);
    expect(await store.list(`s3://${s3.bucket}/big`)).toEqual(["x.npz"]);
  }, 60_000);

  test("when a file was written comes from the bucket (found-runs.ts compacts by it); a missing one has none", async () => {
    const store = new S3Store(`s3://${s3.bucket}/aged`, s3.client);
    const before = Date.now();
    await store.write(`s3://${s3.bucket}/aged/x.json.gz`, "x");
    // S3 keeps whole seconds.
    expect(await store.modified(`s3://${s3.bucket}/aged/x.json.gz`)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(await store.modified(`s3://${s3.bucket}/aged/missing.json.gz`)).toBeUndefined();
  });

  test("two cache-data processes for different build names at once keep every run and every unavailable entry", async () => {
    const flags = ["--db-uri", db, "--data-path", `s3://${s3.bucket}/together`, "--s3-url", s3.url, "--no-tui"];
    const spawn = (build: string) =>
      Bun.spawn([process.execPath, MAIN, "cache-data", "--build-name", build, "--parallel", "4", ...flags], {
        cwd: work,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, CI: "true", ...s3.env },
        stdout: "ignore",
        stderr: "pipe",
      });
    const both = [spawn("tempest-full"), spawn("grenade")];
    expect(await Promise.all(both.map((p) => p.exited))).toEqual([0, 0]);
    // The same, one after the other, on local folders: what nothing lost looks like.
    for (const build of ["tempest-full", "grenade"])
      ok(["cache-data", "--build-name", build, "--db-uri", db, "--data-path", join(work, "apart"), "--no-tui"]);
    for (const build of ["tempest-full", "grenade"]) {
      const apart = (file: string) => JSON.parse(gunzipSync(readFileSync(join(work, "apart", file))).toString());
      expect(await objectJson(`together/.raw/${build}.json.gz`)).toEqual(apart(`.raw/${build}.json.gz`));
      const unavailable = apart(`.raw/.unavailable/${build}.json.gz`) as string[];
      expect(unavailable.length).toBeGreaterThan(0);
      expect(await objectJson(`together/.raw/.unavailable/${build}.json.gz`)).toEqual(unavailable);
    }
  }, 300_000);

  test("a local workspace copied object by object is read by build-dataset and train-model unchanged", async () => {
    const local = join(work, "local");
    const bucket = client();
    for (const [name, bytes] of filesOf(local)) await bucket.write(`synced/${name}`, bytes);
    const common = ["--data-path", `s3://${s3.bucket}/synced`, "--s3-url", s3.url, "--no-tui"];
    ok([...buildDataset("again", "tempest-full"), ...common]);
    ok(["train-model", "--dataset", "again", "--experiment", "e", ...common]);
    // The same runs in the same sets; the split file came with the copy, so it was reused (seed: null).
    const original = (file: string) =>
      JSON.parse(
        gunzipSync(readFileSync(join(local, "ds", file)))
          .toString()
          .replaceAll('"ds"', '"again"'),
      );
    for (const file of ["training.json.gz", "test.json.gz"]) expect(await objectJson(`synced/again/${file}`)).toEqual(original(file));
    const config = (await objectJson("synced/again/model_config.json.gz")) as Record<string, unknown>;
    expect({ ...config, seed: 42 }).toEqual(original("model_config.json.gz"));
    const evalOf = async (key: string) => {
      const { global_step: _, ...rest } = (await objectJson(key)) as Record<string, unknown>;
      return rest;
    };
    expect(await evalOf("synced/again/e/eval_again.json.gz")).toEqual(await evalOf("team/ds/e/eval_ds.json.gz"));
  }, 300_000);
});

describe("a running predictor and a newly published model", () => {
  test("is picked up on a reload request (SIGHUP), not before the minute is up, without a restart", async () => {
    let reload: () => void = () => undefined;
    const events: { type: string; message?: string }[] = [];
    const options = {
      dataPath: `s3://${s3.bucket}/team`,
      s3: { url: s3.url, env: s3.env },
      dbUri: db,
      defaultDbUri: db,
      dataset: "ds",
      experiment: "e",
      onReloadRequest: (listener: () => void) => {
        reload = listener;
        return () => undefined;
      },
    };
    await withPredictor(options, { emit: (e) => events.push(e as { type: string }) }, async (p) => {
      const first = p.model.manifest;
      const common = ["--data-path", `s3://${s3.bucket}/team`, "--s3-url", s3.url, "--no-tui"];
      ok(["setup-experiment", "--experiment", "e", "--force", "--hidden-layers", "4", "--epochs", "2", "--batch-size", "4", ...common]);
      ok(["train-model", "--dataset", "ds", "--experiment", "e", ...common]);
      await p.refreshModel();
      expect(p.model.manifest).toBe(first);
      reload();
      await p.refreshModel();
      expect(p.model.manifest).not.toEqual(first);
      expect(events.some((e) => e.message?.startsWith("loaded the newer model published in s3://ciml/team/ds/e"))).toBe(true);
    });
  }, 300_000);
});

describe("failures are one line, with no secret in it", () => {
  const secret = "wr0ng-Secret-Value-9f8e7d";
  const keyId = "AKIAWRONGKEY0123456";
  const cases = () =>
    [
      [
        "wrong credentials",
        { ...s3.env, AWS_ACCESS_KEY_ID: keyId, AWS_SECRET_ACCESS_KEY: secret },
        `s3://${s3.bucket}/x`,
        s3.url,
        /refused the credentials/,
      ],
      [
        "a missing bucket",
        { ...s3.env, AWS_SECRET_ACCESS_KEY: S3_KEY },
        "s3://no-such-bucket/x",
        s3.url,
        /bucket \W*no-such-bucket\W* does not exist/,
      ],
      [
        "an unreachable endpoint",
        { ...s3.env, AWS_ACCESS_KEY_ID: keyId, AWS_SECRET_ACCESS_KEY: secret },
        `s3://${s3.bucket}/x`,
        "http://127.0.0.1:9",
        /cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:9/,
      ],
    ] as const;

  test("wrong credentials, a missing bucket, an unreachable endpoint; plain and --json", () => {
    for (const [what, env, path, url, message] of cases()) {
      for (const face of ["--no-tui", "--json"]) {
        const r = ciml(["setup-experiment", "--experiment", "e", "--data-path", path, "--s3-url", url, face], env);
        expect(r.code, what).toBe(1);
        const text = r.out + r.err;
        expect(text, what).toMatch(message);
        expect(text.includes(secret), what).toBe(false);
        expect(text.includes(keyId), what).toBe(false);
        if (face === "--no-tui") expect(r.err.trim().split("\n"), what).toHaveLength(1);
      }
    }
  }, 120_000);
});
