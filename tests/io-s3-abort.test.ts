// Ctrl-C on a workspace in a bucket: the command stops at once (exit 130) whether it is waiting between
// attempts on a busy server or for an answer that never comes, and a multipart upload cut short is
// aborted on the server rather than left stored. Against a loopback server that answers as a busy or
// stuck S3 does (helpers/loopback-s3.ts); the real CLI in a child process for the commands.
import { afterAll, afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StoreError } from "../src/io/workspace/store.ts";
import { S3Store } from "../src/io/workspace/s3-store.ts";
import { interruptAt } from "./helpers/interrupt.ts";
import { emptyBucket, forward, type LoopbackS3, loopbackS3, loopbackSettings, never, slowDown } from "./helpers/loopback-s3.ts";
import { MAIN, runCiml } from "./helpers/run-ciml.ts";
import { startS3Server } from "./helpers/s3-server.ts";

/** A deadline, not a measure: the fix exits in milliseconds, the bug took seconds or never exited. */
const DEADLINE_MS = 2_500;

let server: LoopbackS3 | undefined;
afterEach(() => server?.stop());
/** the commands' working directory and HOME (no ~/.aws of the developer's is read) */
const home = mkdtempSync(join(tmpdir(), "ciml-s3abort-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const { accessKeyId, secretAccessKey, region } = loopbackSettings("");
/** what reaches the loopback server (it checks no credentials) */
const LOOPBACK_ENV = { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: region };
/** setup-experiment on the bucket behind the loopback server. */
const setupExperiment = (s3: LoopbackS3) => [
  "setup-experiment",
  "--experiment",
  "e",
  "--data-path",
  "s3://bkt/p",
  "--s3-url",
  s3.url,
  "--json",
];

/** setup-experiment on the bucket behind the loopback server, interrupted once `moment` comes. */
function setupExperimentInterrupted(s3: LoopbackS3, moment: Promise<unknown>, env: Record<string, string> = LOOPBACK_ENV) {
  return interruptAt([process.execPath, MAIN, ...setupExperiment(s3)], home, { HOME: home, ...env }, moment);
}

test("Ctrl-C while a busy bucket is being retried: exit 130 at once, and no attempt after it", async () => {
  server = loopbackS3(() => slowDown());
  // The second attempt has come: the command is in its backoff, with three attempts and 2 s of waits left.
  const r = await setupExperimentInterrupted(
    server,
    server.arrived(2).then(() => Bun.sleep(50)),
  );
  const seenAtSignal = 2;
  expect(r.code).toBe(130);
  expect(r.ms).toBeLessThan(DEADLINE_MS);
  expect(server.requests).toHaveLength(seenAtSignal);
  // The last line still goes out before the process ends (it exits at once, see src/main.ts).
  expect(r.out).toContain('"interrupted; nothing half-written was kept');
});

test("Ctrl-C while a request waits for an answer that never comes: exit 130 at once", async () => {
  // The bucket check is answered; what comes after it never is.
  server = loopbackS3((req, n) => (n === 1 ? emptyBucket(req) : never()));
  const r = await setupExperimentInterrupted(server, server.arrived(2));
  expect(r.code).toBe(130);
  expect(r.ms).toBeLessThan(DEADLINE_MS);
});

test("Ctrl-C while the bucket holds a write unanswered, then the same command again: it completes", async () => {
  const s3 = await startS3Server("bkt");
  try {
    // In front of s3rver: the first write is held without an answer, everything else goes through.
    let holding = true;
    const written = Promise.withResolvers<void>();
    server = loopbackS3((req) => {
      if (holding && req.method === "PUT") {
        written.resolve();
        return never();
      }
      return forward(req, s3.url);
    });
    const r = await setupExperimentInterrupted(server, written.promise, s3.env);
    expect(r.code).toBe(130);
    expect(r.ms).toBeLessThan(DEADLINE_MS);
    holding = false;
    const again = await runCiml(setupExperiment(server), home, { HOME: home, ...s3.env });
    expect(`exit ${again.code}: ${again.err}`).toBe("exit 0: ");
    const stored = await new Bun.S3Client({ ...s3.client, bucket: "bkt" }).exists("p/_experiments/e/experiment.json.gz");
    expect(stored).toBe(true);
  } finally {
    s3.stop();
  }
}, 60_000);

const UPLOAD_ID = "UP-1";
const BIG = new Uint8Array(9 * 1024 * 1024); // over the 8 MiB from which an object goes up in parts

/** Starts a multipart upload as S3 does; parts get `part`, the rest as an empty bucket answers. */
function multipartServer(part: () => Response | Promise<Response>): LoopbackS3 {
  return loopbackS3((req) => {
    const { searchParams } = new URL(req.url);
    if (req.method === "POST" && searchParams.has("uploads"))
      return new Response(`<InitiateMultipartUploadResult><UploadId>${UPLOAD_ID}</UploadId></InitiateMultipartUploadResult>`);
    if (req.method === "PUT" && searchParams.has("partNumber")) return part();
    if (req.method === "DELETE") return new Response(null, { status: 204 });
    return emptyBucket(req);
  });
}

const completions = (requests: string[]) => requests.filter((r) => r.startsWith("POST") && r.includes("uploadId="));
const aborts = (requests: string[]) => requests.filter((r) => r === `DELETE /bkt/p/big.npz?uploadId=${UPLOAD_ID}`);

test("Ctrl-C during a multipart upload: the parts in flight are dropped and the upload is aborted on the server", async () => {
  server = multipartServer(never);
  const stop = new AbortController();
  const store = new S3Store("s3://bkt/p", loopbackSettings(server.url), stop.signal);
  const writing = store.write("s3://bkt/p/big.npz", BIG).catch((err: unknown) => err);
  await server.arrived(3); // the start and both parts
  stop.abort();
  const failure = await writing;
  expect((failure as Error).name).toBe("AbortError");
  expect(aborts(server.requests)).toHaveLength(1);
  expect(completions(server.requests)).toEqual([]);
});

test("a part that fails for good: one line naming the object, and the upload is aborted on the server", async () => {
  server = multipartServer(slowDown);
  const store = new S3Store("s3://bkt/p", loopbackSettings(server.url));
  const failure = await store.write("s3://bkt/p/big.npz", BIG).catch((err: unknown) => err);
  expect(failure).toBeInstanceOf(StoreError);
  expect((failure as Error).message).toStartWith("S3 upload (part ");
  expect((failure as Error).message).toContain("s3://bkt/p/big.npz failed (SlowDown");
  expect(aborts(server.requests)).toHaveLength(1);
  expect(completions(server.requests)).toEqual([]);
});
