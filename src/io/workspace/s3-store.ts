// The workspace in an S3 bucket, through Bun's built-in client (no dependency). The layout is the local
// one, key for path, so `aws s3 sync` turns a local workspace into a bucket and back.
//
// An object PUT is atomic: a reader gets the old object or the new one, never a part, which is what the
// local store gets from temp file + rename. What S3 lacks is rename and append: no file here is written by
// two processes (each list has one owner, see unavailable-runs.ts), a model's model.json is written after
// its weights (tfjs-model-files.ts), and an appended file (TensorBoard events) is uploaded whole, again
// and again as it grows. Transient failures (5xx, SlowDown, a dropped connection) are retried with
// backoff; every other failure is one line that names the bucket or the object and never a credential.
//
// Ctrl-C: the store is given the command's AbortSignal. Bun.S3Client takes no signal, so each of its
// requests is raced against it and left behind when it fires (a lone PUT is atomic: it lands whole or not
// at all), the wait between attempts wakes at once, and large uploads go through s3-multipart.ts, whose
// requests are cancelled for real and whose upload is aborted on the server.
import { setTimeout as sleep } from "node:timers/promises";
import { CimlError } from "../ciml-error.ts";
import type { FileContent } from "../atomic-file.ts";
import { uploadInParts } from "./s3-multipart.ts";
import type { S3Settings } from "./s3-settings.ts";
import type { S3Credentials } from "./s3-signer.ts";
import { type Appender, type Store, StoreError } from "./store.ts";

/** Objects above this go up in parts, several at once, instead of one PUT. */
const MULTIPART_FROM = 8 * 1024 * 1024;
const PART_SIZE = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;
/** Reads in flight at once for loops over many objects (one per cached run). */
const READS_IN_FLIGHT = 16;
/** Attempts per request; the waits between them double from BACKOFF_MS (0.2, 0.4, 0.8, 1.6 s: 3 s at most). */
const ATTEMPTS = 5;
const BACKOFF_MS = 200;
/** A growing file is uploaded again at most this often, so TensorBoard can follow training on S3 too. */
const APPEND_UPLOAD_MS = 15_000;

/** Codes worth another try: the server is busy or the connection dropped. */
const TRANSIENT = new Set([
  "SlowDown",
  "InternalError",
  "ServiceUnavailable",
  "RequestTimeout",
  "RequestTimeTooSkewed",
  "ConnectionClosed",
  "ConnectionRefused",
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "Timeout",
  "FailedToOpenSocket",
  "UnknownError",
]);
const REFUSED_CREDENTIALS = new Set(["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken"]);
const UNREACHABLE = new Set([
  "ConnectionRefused",
  "ECONNREFUSED",
  "FailedToOpenSocket",
  "ConnectionClosed",
  "ECONNRESET",
  "ETIMEDOUT",
  "Timeout",
  "DNSError",
]);

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" ? code : ((err as Error)?.name ?? "Error");
}

function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/i.exec(url);
  const bucket = m?.[1] ?? "";
  // The bucket naming rules of S3 (and of MinIO and Ceph): 3 to 63 of a-z 0-9 . -
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes("..") || bucket.includes("@"))
    throw new CimlError(
      `data path ${url.includes("@") ? "s3://***" : url}: give s3://BUCKET or s3://BUCKET/PREFIX with a valid bucket name (3 to 63 of a-z 0-9 . -)`,
      2,
    );
  const prefix = (m?.[2] ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix.split("/").some((part) => part === "." || part === ".."))
    throw new CimlError(`data path ${url}: the prefix must not hold "." or ".." parts`, 2);
  return { bucket, prefix };
}

export class S3Store implements Store {
  readonly readsInFlight = READS_IN_FLIGHT;
  readonly root: string;
  private readonly client: Bun.S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly where: string;
  private readonly secrets: string[];
  private readonly endpoint: string;
  private readonly credentials: S3Credentials;

  /** `stop`: the command's Ctrl-C; once it fires every request ends at once with an AbortError. */
  constructor(
    url: string,
    settings: S3Settings,
    private readonly stop: AbortSignal = new AbortController().signal,
  ) {
    const { bucket, prefix } = parseS3Url(url);
    this.bucket = bucket;
    this.prefix = prefix;
    this.root = prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`;
    this.where = settings.endpoint ?? `AWS S3 (${settings.region})`;
    this.secrets = [settings.secretAccessKey, settings.sessionToken ?? "", settings.accessKeyId].filter((s) => s.length >= 4);
    // Bun.S3Client's own default, path-style: the multipart requests go where its requests go.
    this.endpoint = settings.endpoint ?? `https://s3.${settings.region}.amazonaws.com`;
    this.credentials = settings;
    this.client = new Bun.S3Client({
      bucket,
      endpoint: settings.endpoint,
      region: settings.region,
      accessKeyId: settings.accessKeyId,
      secretAccessKey: settings.secretAccessKey,
      sessionToken: settings.sessionToken,
    });
  }

  /** The object key of a location under this store's root; anything else is a bug in the caller. */
  private key(location: string): string {
    const rest = location === this.root ? "" : location.startsWith(`${this.root}/`) ? location.slice(this.root.length + 1) : undefined;
    if (rest === undefined) throw new Error(`${location} is not under ${this.root}`);
    return [this.prefix, rest].filter(Boolean).join("/");
  }

  /** Secrets out of any text that leaves this file (a server may echo what it was sent). */
  private masked(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join("***");
    return out;
  }

  /** One line for a failed request, naming what the user can fix. */
  private failure(err: unknown, action: string, location: string): StoreError {
    const code = codeOf(err);
    const detail = this.masked(((err as Error)?.message ?? String(err)).split("\n")[0]!);
    if (code === "NoSuchBucket")
      return new StoreError(`S3 bucket "${this.bucket}" does not exist at ${this.where}; create it, or check --data-path and --s3-url`);
    if (REFUSED_CREDENTIALS.has(code))
      return new StoreError(
        `S3 at ${this.where} refused the credentials for ${this.root} (${code}); check --s3-profile or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY`,
      );
    if (UNREACHABLE.has(code))
      return new StoreError(`cannot reach the S3 endpoint ${this.where} (${code}); check --s3-url and that the server is up`);
    return new StoreError(this.masked(`S3 ${action} ${location} failed (${code}: ${detail}); run the command again, it resumes`));
  }

  /**
   * Runs one request, again after a growing wait while the failure is transient. Ctrl-C ends it at once
   * with the signal's AbortError, whether it is waiting for an answer or for its next attempt.
   */
  private async request<T>(action: string, location: string, attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await this.unlessStopped(attempt());
      } catch (err) {
        this.stop.throwIfAborted();
        if (n >= ATTEMPTS || !TRANSIENT.has(codeOf(err))) throw this.failure(err, action, location);
        await sleep(BACKOFF_MS * 2 ** (n - 1) * (0.75 + Math.random() / 2), undefined, { signal: this.stop });
      }
    }
  }

  /** `work`, or the AbortError as soon as Ctrl-C comes; work left behind is a request S3 finishes whole or drops. */
  private unlessStopped<T>(work: Promise<T>): Promise<T> {
    this.stop.throwIfAborted();
    let onAbort = () => {};
    const stopped = new Promise<never>((_, reject) => {
      onAbort = () => reject(this.stop.reason);
      this.stop.addEventListener("abort", onAbort, { once: true });
    });
    return Promise.race([work, stopped]).finally(() => this.stop.removeEventListener("abort", onAbort));
  }

  async read(location: string): Promise<Uint8Array | undefined> {
    const key = this.key(location);
    return this.request("read of", location, async () => {
      try {
        return await this.client.file(key).bytes();
      } catch (err) {
        if (codeOf(err) === "NoSuchKey") return undefined;
        throw err;
      }
    });
  }

  async write(location: string, content: FileContent): Promise<void> {
    const key = this.key(location);
    const chunks: Uint8Array[] = [];
    if (typeof content === "function") content((chunk) => chunks.push(chunk.slice()));
    else chunks.push(typeof content === "string" ? new TextEncoder().encode(content) : content);
    const size = chunks.reduce((n, c) => n + c.length, 0);
    if (size < MULTIPART_FROM) {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      await this.request("write of", location, () => this.client.write(key, body));
      return;
    }
    // A multipart upload becomes visible only when it completes, so a big npz is atomic too.
    const target = {
      endpoint: this.endpoint,
      bucket: this.bucket,
      key,
      credentials: this.credentials,
      stop: this.stop,
      retried: <T>(step: string, attempt: () => Promise<T>) => this.request(`upload (${step}) of`, location, attempt),
    };
    await uploadInParts(target, chunks, PART_SIZE, PARTS_IN_FLIGHT);
  }

  async exists(location: string): Promise<boolean> {
    const key = this.key(location);
    return this.request("check of", location, () => this.client.exists(key));
  }

  async modified(location: string): Promise<number | undefined> {
    const key = this.key(location);
    return this.request("check of", location, async () => {
      try {
        return (await this.client.stat(key)).lastModified.getTime();
      } catch (err) {
        if (codeOf(err) === "NoSuchKey") return undefined;
        throw err;
      }
    });
  }

  async list(folder: string): Promise<string[]> {
    const prefix = `${this.key(folder)}/`.replace(/^\//, "");
    const names: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.request("listing of", folder, () => this.client.list({ prefix, continuationToken }));
      for (const object of page.contents ?? []) names.push(object.key.slice(prefix.length));
      continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (continuationToken);
    return names.filter((name) => name !== "").sort();
  }

  async remove(location: string): Promise<void> {
    const key = this.key(location);
    await this.request("removal of", location, () => this.client.delete(key));
  }

  async move(from: string, to: string): Promise<void> {
    const bytes = await this.read(from);
    if (bytes === undefined) throw new StoreError(`S3 move of ${from}: the object is gone; run the command again`);
    await this.write(to, bytes);
    await this.remove(from);
  }

  /** S3 has no folders: the objects under the prefix go, and with them the folder. */
  async removeFolder(folder: string): Promise<void> {
    for (const name of await this.list(folder)) await this.remove(`${folder}/${name}`);
  }

  /** A PUT that did not finish left nothing behind (a multipart upload not completed is not an object). */
  async sweep(): Promise<void> {}

  /** Checks the bucket answers with these credentials before a command starts its work. */
  async check(): Promise<void> {
    // A listing that names no object: it still needs the bucket and the credentials, and stays one small
    // answer (s3rver fails a listing cut short by maxKeys, so none is asked for).
    const prefix = `${this.prefix ? `${this.prefix}/` : ""}.ciml-check-`;
    await this.request("listing of", this.root, () => this.client.list({ prefix }));
  }

  appender(location: string): Appender {
    const parts: Uint8Array[] = [];
    let uploaded = 0;
    let pending: Promise<void> = Promise.resolve();
    let failure: unknown;
    const upload = () => {
      uploaded = Date.now();
      const body = Buffer.concat(parts);
      pending = pending
        .then(() => this.write(location, body))
        .catch((err) => {
          failure = err;
        });
    };
    return {
      append(bytes) {
        parts.push(bytes.slice());
        if (Date.now() - uploaded >= APPEND_UPLOAD_MS) upload();
      },
      async close() {
        upload();
        await pending;
        if (failure) throw failure;
      },
    };
  }
}
