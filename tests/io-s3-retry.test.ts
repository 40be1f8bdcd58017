// Retries with backoff on 5xx and SlowDown, seen from the wire: a loopback HTTP server that answers the
// way a busy S3 does. (The workspace against a real S3 implementation is tests/s3-workspace.test.ts;
// s3rver cannot be made busy on demand, so this server stands in for that one behaviour.)
import { afterEach, expect, test } from "bun:test";
import { StoreError } from "../src/io/workspace/store.ts";
import { S3Store } from "../src/io/workspace/s3-store.ts";

const SLOW_DOWN = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`;
const EMPTY_LISTING = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>bkt</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`;

let server: ReturnType<typeof Bun.serve> | undefined;
afterEach(() => server?.stop(true));

/** Answers 503 SlowDown to the first `busy` requests, then as an empty bucket would. */
function busyServer(busy: number): { url: string; requests: string[] } {
  const requests: string[] = [];
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      requests.push(req.method);
      if (requests.length <= busy) return new Response(SLOW_DOWN, { status: 503, headers: { "content-type": "application/xml" } });
      if (req.method === "GET") return new Response(EMPTY_LISTING, { headers: { "content-type": "application/xml" } });
      return new Response("", { status: 200, headers: { etag: '"0"' } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests };
}

const settings = (endpoint: string) => ({
  endpoint,
  region: "us-east-1",
  accessKeyId: "AKIATESTKEY0001",
  secretAccessKey: "test-secret-0001",
});

test("a request answered 503 SlowDown is tried again, with a growing wait, until it goes through", async () => {
  const { url, requests } = busyServer(3);
  const store = new S3Store("s3://bkt/p", settings(url));
  await store.check();
  expect(requests).toEqual(["GET", "GET", "GET", "GET"]);
  await store.write("s3://bkt/p/x.json.gz", new Uint8Array([1, 2, 3]));
  expect(requests.slice(4)).toEqual(["PUT"]);
});

test("a server that stays busy: five attempts, then one line naming the object, no secret", async () => {
  const { url, requests } = busyServer(1000);
  const store = new S3Store("s3://bkt/p", settings(url));
  const failure = await store.read("s3://bkt/p/.raw/x.csv.gz").catch((err: unknown) => err);
  expect(failure).toBeInstanceOf(StoreError);
  const message = (failure as Error).message;
  expect(message).toStartWith("S3 read of s3://bkt/p/.raw/x.csv.gz failed (SlowDown");
  expect(message).not.toContain("\n");
  expect(message).not.toContain("test-secret-0001");
  expect(requests).toHaveLength(5);
});
