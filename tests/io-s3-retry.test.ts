// Retries with backoff on 5xx and SlowDown, seen from the wire: a loopback HTTP server that answers the
// way a busy S3 does. (The workspace against a real S3 implementation is tests/s3-workspace.test.ts;
// s3rver cannot be made busy on demand, so this server stands in for that one behaviour.)
import { afterEach, expect, test } from "bun:test";
import { StoreError } from "../src/io/workspace/store.ts";
import { S3Store } from "../src/io/workspace/s3-store.ts";
import { emptyBucket, type LoopbackS3, loopbackS3, loopbackSettings, slowDown } from "./helpers/loopback-s3.ts";

let server: LoopbackS3 | undefined;
afterEach(() => server?.stop());

/** Answers 503 SlowDown to the first `busy` requests, then as an empty bucket would. */
function busyServer(busy: number): LoopbackS3 {
  server = loopbackS3((req, n) => (n <= busy ? slowDown() : emptyBucket(req)));
  return server;
}

const methods = (requests: string[]) => requests.map((r) => r.split(" ")[0]);

test("a request answered 503 SlowDown is tried again, with a growing wait, until it goes through", async () => {
  const { url, requests } = busyServer(3);
  const store = new S3Store("s3://bkt/p", loopbackSettings(url));
  await store.check();
  expect(methods(requests)).toEqual(["GET", "GET", "GET", "GET"]);
  await store.write("s3://bkt/p/x.json.gz", new Uint8Array([1, 2, 3]));
  expect(methods(requests.slice(4))).toEqual(["PUT"]);
});

test("a server that stays busy: five attempts, then one line naming the object, no secret", async () => {
  const { url, requests } = busyServer(1000);
  const store = new S3Store("s3://bkt/p", loopbackSettings(url));
  const failure = await store.read("s3://bkt/p/.raw/x.csv.gz").catch((err: unknown) => err);
  expect(failure).toBeInstanceOf(StoreError);
  const message = (failure as Error).message;
  expect(message).toStartWith("S3 read of s3://bkt/p/.raw/x.csv.gz failed (SlowDown");
  expect(message).not.toContain("\n");
  expect(message).not.toContain("test-secret-0001");
  expect(requests).toHaveLength(5);
});
