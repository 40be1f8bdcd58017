// One large object uploaded in parts, several at once, through signed fetch requests rather than
// Bun.S3Client's writer: fetch takes an AbortSignal, so Ctrl-C cancels the parts in flight at once, and an
// upload cut short (Ctrl-C, or a part that keeps failing) is aborted on the server, so no stored parts are
// left behind to be paid for. Bun's writer can do neither: ending it with an error completes the upload.
// Either way nothing is visible at the key until the last step (CompleteMultipartUpload) succeeds.
import { type S3Credentials, s3Path, s3Query, signedHeaders } from "./s3-signer.ts";

/** What an upload needs to know of the store: where, who, and how its requests are retried. */
interface MultipartTarget {
  /** `http(s)://host[:port]`: requests go path-style, `/bucket/key` */
  endpoint: string;
  bucket: string;
  key: string;
  credentials: S3Credentials;
  /** Ctrl-C: every request stops when it fires */
  stop: AbortSignal;
  /** runs one request, again while its failure is transient (the store's retry loop) */
  retried<T>(step: string, attempt: () => Promise<T>): Promise<T>;
}

/** S3's answers to these requests are a few hundred bytes; anything far larger is not S3 answering. */
const MAX_ANSWER = 1 << 20;
/** How long the abort of an upload cut short may take before the command goes on (it is a courtesy). */
const ABORT_WAIT_MS = 500;

/** An S3 error answer as the store's retry loop reads errors: a `code` (SlowDown, NoSuchUpload…) and a line. */
function s3Failure(status: number, answer: string): Error {
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(answer)?.[1] ?? (status >= 500 ? "InternalError" : `HTTP ${status}`);
  const message = /<Message>([^<]{0,300})<\/Message>/.exec(answer)?.[1] ?? `HTTP ${status}`;
  return Object.assign(new Error(message), { code });
}

async function send(
  t: MultipartTarget,
  method: string,
  params: Record<string, string>,
  signal: AbortSignal,
  body?: Uint8Array | string,
): Promise<{ answer: string; etag: string | null }> {
  const path = s3Path(t.bucket, t.key);
  const query = s3Query(params);
  const url = new URL(`${path}?${query}`, t.endpoint);
  const { host: _, ...headers } = signedHeaders({ method, host: url.host, path, query, payloadHash: "UNSIGNED-PAYLOAD" }, t.credentials);
  const response = await fetch(url, { method, headers, body, signal, redirect: "error" });
  if (Number(response.headers.get("content-length") ?? 0) > MAX_ANSWER) {
    await response.body?.cancel();
    throw s3Failure(response.status, "<Code>AnswerTooLarge</Code>");
  }
  const answer = await response.text();
  // CompleteMultipartUpload may fail after a 200: the error is then in the body.
  if (!response.ok || answer.includes("<Error>")) throw s3Failure(response.status, answer.slice(0, MAX_ANSWER));
  return { answer, etag: response.headers.get("etag") };
}

const xmlEscape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");

/** Bytes `start` to `end` of the chunks laid end to end: one part is copied at a time, never the whole body. */
function slice(chunks: Uint8Array[], start: number, end: number): Uint8Array {
  const part = new Uint8Array(end - start);
  let at = 0;
  for (const chunk of chunks) {
    const from = Math.max(start - at, 0);
    const to = Math.min(end - at, chunk.length);
    if (from < to) part.set(chunk.subarray(from, to), at + from - start);
    at += chunk.length;
  }
  return part;
}

/** Uploads `chunks`, end to end, in parts of `partSize`, `inFlight` at once; the object appears only when all are in. */
export async function uploadInParts(t: MultipartTarget, chunks: Uint8Array[], partSize: number, inFlight: number): Promise<void> {
  const size = chunks.reduce((n, c) => n + c.length, 0);
  const uploadId = await t.retried("start", async () => {
    const { answer } = await send(t, "POST", { uploads: "" }, t.stop);
    const id = /<UploadId>([^<]{1,1024})<\/UploadId>/.exec(answer)?.[1];
    if (!id) throw s3Failure(200, "<Code>NoUploadId</Code><Message>the server answered without an UploadId</Message>");
    return id;
  });
  // A part that fails for good stops its siblings too, so the abort below does not race them.
  const siblings = new AbortController();
  const signal = AbortSignal.any([t.stop, siblings.signal]);
  try {
    const count = Math.ceil(size / partSize);
    const etags: string[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) {
        const part = slice(chunks, i * partSize, Math.min((i + 1) * partSize, size));
        etags[i] = await t.retried(`part ${i + 1}`, async () => {
          const { etag } = await send(t, "PUT", { partNumber: String(i + 1), uploadId }, signal, part);
          if (!etag) throw s3Failure(200, "<Code>NoETag</Code><Message>a part was answered without an ETag</Message>");
          return etag;
        });
      }
    };
    const stopSiblings = (err: unknown) => {
      siblings.abort();
      throw err;
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, count) }, () => worker().catch(stopSiblings)));
    const list = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${xmlEscape(etag)}</ETag></Part>`).join("");
    await t.retried("completion", () =>
      send(t, "POST", { uploadId }, signal, `<CompleteMultipartUpload>${list}</CompleteMultipartUpload>`),
    );
  } catch (err) {
    siblings.abort();
    // Not under t.stop: after Ctrl-C this one request still goes, bounded, so the parts do not stay stored.
    await send(t, "DELETE", { uploadId }, AbortSignal.timeout(ABORT_WAIT_MS)).catch(() => undefined);
    throw err;
  }
}
