// AWS Signature Version 4 for the few S3 requests Bun.S3Client cannot make: the steps of a multipart
// upload, which we run ourselves so that each one can be cancelled (fetch takes an AbortSignal, Bun's
// client does not) and an upload cut short can be aborted on the server (Bun's writer has no abort).
// The recipe is AWS's "Authenticating Requests (AWS Signature Version 4)", header form.
import { createHash, createHmac } from "node:crypto";

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const hmac = (key: Uint8Array | string, text: string) => createHmac("sha256", key).update(text).digest();

/** RFC 3986 encoding as S3 wants it: every byte but A-Z a-z 0-9 - . _ ~ escaped, `/` too unless it is a path's. */
function encode(text: string, keepSlash: boolean): string {
  return [...new TextEncoder().encode(text)]
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/") ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
}

/** `/bucket/key` with each part escaped: the path a request is sent to and the one it is signed for. */
export function s3Path(bucket: string, key: string): string {
  return `/${encode(bucket, false)}/${encode(key, true)}`;
}

/** The query string of a request, escaped and sorted as the signature needs it (`uploads=` for a bare name). */
export function s3Query(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encode(k, false)}=${encode(v, false)}`)
    .sort()
    .join("&");
}

/**
 * The headers that sign a request: `host`, `x-amz-date`, `x-amz-content-sha256`, the session token if
 * there is one, every header in `extra`, and `authorization`. `path` and `query` as s3Path and s3Query make them.
 */
export function signedHeaders(
  request: { method: string; host: string; path: string; query: string; payloadHash: string; extra?: Record<string, string> },
  credentials: S3Credentials,
  now = new Date(),
): Record<string, string> {
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    host: request.host,
    "x-amz-content-sha256": request.payloadHash,
    "x-amz-date": amzDate,
    ...(credentials.sessionToken ? { "x-amz-security-token": credentials.sessionToken } : {}),
  };
  for (const [name, value] of Object.entries(request.extra ?? {})) headers[name.toLowerCase()] = value;
  const names = Object.keys(headers).sort();
  const canonical = [
    request.method,
    request.path,
    request.query,
    ...names.map((name) => `${name}:${headers[name]!.trim()}`),
    "",
    names.join(";"),
    request.payloadHash,
  ].join("\n");
  const scope = `${day}/${credentials.region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), credentials.region), "s3"), "aws4_request");
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return headers;
}
