// The AWS Signature Version 4 that signs the multipart requests ciml sends itself (s3-multipart.ts):
// checked against AWS's own worked example and against the signature Bun.S3Client puts on the same request.
import { afterEach, expect, test } from "bun:test";
import { s3Path, sha256Hex, signedHeaders } from "../src/io/workspace/s3-signer.ts";

let server: ReturnType<typeof Bun.serve> | undefined;
afterEach(() => server?.stop(true));

test("the GET Object example of AWS's Signature Version 4 documentation signs to its published signature", () => {
  const headers = signedHeaders(
    {
      method: "GET",
      host: "examplebucket.s3.amazonaws.com",
      path: "/test.txt",
      query: "",
      payloadHash: sha256Hex(""),
      extra: { Range: "bytes=0-9" },
    },
    { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1" },
    new Date("2013-05-24T00:00:00Z"),
  );
  expect(headers.authorization).toBe(
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
  );
});

test("a request Bun.S3Client signs (session token, a key to escape) gets the same signature from ours", async () => {
  let seen: { path: string; headers: Record<string, string> } | undefined;
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      seen = { path: new URL(req.url).pathname, headers: Object.fromEntries(req.headers) };
      return new Response(null, { status: 204 });
    },
  });
  const credentials = { accessKeyId: "AKIATEST1", secretAccessKey: "sec/ret+1", sessionToken: "tok+en/1", region: "eu-west-1" };
  const key = "team/.raw/a b+c.json.gz";
  await new Bun.S3Client({ bucket: "bkt", endpoint: `http://127.0.0.1:${server.port}`, ...credentials }).delete(key);
  const h = seen!.headers;
  expect(seen!.path).toBe(s3Path("bkt", key));
  const at = new Date(h["x-amz-date"]!.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"));
  const ours = signedHeaders(
    { method: "DELETE", host: h.host!, path: s3Path("bkt", key), query: "", payloadHash: h["x-amz-content-sha256"]! },
    credentials,
    at,
  );
  expect(ours.authorization).toBe(h.authorization!);
});
