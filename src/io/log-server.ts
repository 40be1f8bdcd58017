// Fetching a run's dstat file from its log root (`runs.artifacts`): http(s):// or file://.
// The original took any non-404 answer as data and any error as "no data"; here only a
// 404/ENOENT on every candidate path means "not there", and passing trouble (timeouts, refused or reset
// connections, 5xx) is retried with exponential backoff and jitter, then reported as a failure to try again.
import { readFile, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { formatByteCap, MAX_TRACE_BYTES } from "./dstat-csv.ts";
import { GzipError, gunzip, gunzipStream, isGzip } from "./gzip-json.ts";

/** Where devstack jobs left dstat's CSV, in the original's order: multinode layout first. */
export const DEFAULT_DSTAT_PATHS = [
  "controller/logs/dstat-csv_log.txt.gz",
  "controller/logs/dstat-csv_log.txt",
  "logs/dstat-csv_log.txt",
  "logs/dstat-csv_log.txt.gz",
] as const;

export interface FetchPolicy {
  /** candidate paths under the log root, tried in order */
  paths: readonly string[];
  /** until the response headers arrive (TCP connect + the server's first answer) */
  connectTimeoutMs: number;
  /** longest silence while the body streams */
  readTimeoutMs: number;
  /** the whole download of one file, retries excluded */
  totalTimeoutMs: number;
  /** extra attempts after the first, for retryable trouble */
  retries: number;
  /** first backoff delay; doubles on each retry, with ±50 % jitter */
  backoffMs: number;
  /** most bytes accepted from the wire (after HTTP content-encoding) */
  maxBytes: number;
  /** most bytes a gzip body may expand to (zip-bomb guard) */
  maxTextBytes: number;
  /**
   * Whether a file:// log root is read at all. Log roots come from database rows, which are not ours to
   * trust: a remote database naming file:///home/you/... must not make us read local files. Only a run
   * database that is itself a local file the user named (sqlite:///, as simulate and quickstart make)
   * may point at local log trees.
   */
  fileRoots: boolean;
}

export const DEFAULT_FETCH_POLICY: FetchPolicy = {
  paths: DEFAULT_DSTAT_PATHS,
  connectTimeoutMs: 3050,
  readTimeoutMs: 15_000,
  totalTimeoutMs: 60_000,
  retries: 3,
  backoffMs: 500,
  maxBytes: 64 * 1024 * 1024,
  maxTextBytes: MAX_TRACE_BYTES,
  fileRoots: false,
};

/** A body that arrived whole and passed the check; `body` as it came (gzip or text). */
interface Found {
  kind: "found";
  url: string;
  body: Uint8Array;
  attempts: number;
}
/** Not found at any candidate path (404/410/ENOENT everywhere): the run has no dstat file. */
interface Missing {
  kind: "missing";
  urls: string[];
}
/** Something went wrong that may go right later; never a reason to mark the run unavailable. */
interface Failed {
  kind: "failed";
  url: string;
  reason: string;
}
type DstatFetch = Found | Missing | Failed;

/**
 * Lets the caller look at a body before it is accepted; a string is the reason it is not usable. It gets
 * the text (gunzipped when the body is gzip) chunk by chunk while the body downloads, so the check runs
 * as the bytes arrive, not after a whole gunzip, and a problem found early ends the download there. What
 * a check that finds no problem leaves unread is still downloaded before the body counts as whole.
 */
type BodyCheck = (text: AsyncIterable<Uint8Array>, url: string) => Promise<string | null>;

/** One attempt's outcome at one URL; `problem` is the check's verdict on a body. */
type Attempt =
  | { kind: "body"; body: Uint8Array; problem: string | null }
  | { kind: "missing" }
  | { kind: "retry"; reason: string }
  | { kind: "fail"; reason: string };

/** Ctrl-C reached a fetch or a wait; named AbortError so every layer recognises it. */
export class Interrupted extends Error {
  override name = "AbortError";
}

/**
 * A candidate path under a log root, built with the URL API so that the path always lands in the URL's
 * path: a root ending in "#" or "?" (from a database row) would otherwise turn the candidate into a
 * fragment or a query and leave the root itself, e.g. file:///etc/shadow, as the file fetched.
 * A log root is a directory, so any query or fragment it carries is dropped.
 */
export function joinUrl(root: string, path: string): string {
  const url = new URL(root);
  url.search = "";
  url.hash = "";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
  return url.href;
}

/** Why a log root from the database cannot be used, or null when it can. */
function logRootProblem(root: string, policy: FetchPolicy): string | null {
  let url: URL;
  try {
    url = new URL(root);
  } catch {
    return "log root is not an http://, https:// or file:// URL";
  }
  if (url.protocol === "http:" || url.protocol === "https:") return null;
  if (url.protocol !== "file:") return "log root is not an http://, https:// or file:// URL";
  if (!policy.fileRoots) return "log root is a local file:// URL, read only when the run database is a local sqlite:/// file";
  return null;
}

function tooLarge(policy: FetchPolicy): Attempt {
  return { kind: "fail", reason: `file is larger than the ${formatByteCap(policy.maxBytes)} cap` };
}

export async function fetchDstat(
  root: string,
  policy: FetchPolicy,
  check: BodyCheck,
  signal: AbortSignal,
  onUrl?: (url: string) => void,
): Promise<DstatFetch> {
  const problem = logRootProblem(root, policy);
  if (problem !== null) return { kind: "failed", url: root, reason: problem };
  const host = hostOf(root);
  const order = triedOrder(host, policy.paths);
  const got = await fetchDstatAt(
    order.map((i) => joinUrl(root, policy.paths[i]!)),
    policy,
    check,
    signal,
    onUrl,
  );
  if (got.kind === "found") {
    const answered = policy.paths.find((p) => joinUrl(root, p) === got.url);
    if (answered !== undefined) rememberAnswer(host, answered);
  }
  // "Missing" names the paths in the user's order, whichever was tried first.
  return got.kind === "missing" ? { kind: "missing", urls: policy.paths.map((p) => joinUrl(root, p)) } : got;
}

/** The first usable dstat file among `urls` (http(s)://, or file:// where the policy allows it), tried in order. */
export async function fetchDstatAt(
  urls: string[],
  policy: FetchPolicy,
  check: BodyCheck,
  signal: AbortSignal,
  onUrl?: (url: string) => void,
): Promise<DstatFetch> {
  for (const url of urls) {
    const problem = logRootProblem(url, policy);
    if (problem !== null) return { kind: "failed", url, reason: problem.replace(/^log root/, "URL") };
  }
  let firstFailure: Failed | undefined;
  for (const url of urls) {
    onUrl?.(url);
    const outcome = await fetchWithRetries(url, policy, signal, check);
    if (outcome.kind === "missing") continue;
    if (outcome.kind === "fail") {
      firstFailure ??= { kind: "failed", url, reason: outcome.reason };
      // A host that cannot be reached will not answer the next path either.
      if (/^(connection|timeout)/.test(outcome.reason)) return firstFailure;
      continue;
    }
    if (outcome.problem !== null) {
      firstFailure ??= { kind: "failed", url, reason: outcome.problem };
      continue;
    }
    return { kind: "found", url, body: outcome.body, attempts: outcome.attempts };
  }
  return firstFailure ?? { kind: "missing", urls };
}

/**
 * The candidate path each log host last answered with a dstat file. A log server keeps one layout for all
 * its jobs, so trying that path first saves the round trips of the paths before it (three 404s per run
 * for a single-node devstack job under the default order). Only the order changes: every path is still
 * tried, so "404 on every path" still means the run has no dstat file. Bounded: one entry per host.
 */
const answeredAt = new Map<string, string>();
const MAX_REMEMBERED_HOSTS = 1024;

function hostOf(root: string): string {
  try {
    const url = new URL(root);
    return url.protocol === "file:" ? "file:" : url.origin;
  } catch {
    return root;
  }
}

/** Indexes into `paths`: the host's last answering path first, then the rest in the given order. */
function triedOrder(host: string, paths: readonly string[]): number[] {
  const order = paths.map((_, i) => i);
  const first = paths.indexOf(answeredAt.get(host) ?? "");
  if (first <= 0) return order;
  return [first, ...order.filter((i) => i !== first)];
}

function rememberAnswer(host: string, path: string): void {
  if (!answeredAt.has(host) && answeredAt.size >= MAX_REMEMBERED_HOSTS) answeredAt.clear();
  answeredAt.set(host, path);
}

/** One small text file under a log root (Zuul's inventory.yaml): the same retries, limits and gzip handling as dstat. */
export async function fetchLogText(
  url: string,
  policy: FetchPolicy,
  signal: AbortSignal,
): Promise<{ kind: "found"; text: string } | Missing | Failed> {
  const problem = logRootProblem(url, policy);
  if (problem !== null) return { kind: "failed", url, reason: problem.replace(/^log root/, "URL") };
  const outcome = await fetchWithRetries(url, policy, signal);
  if (outcome.kind === "missing") return { kind: "missing", urls: [url] };
  if (outcome.kind === "fail") return { kind: "failed", url, reason: outcome.reason };
  const decoded = decodeBody(outcome.body, policy.maxTextBytes);
  return typeof decoded === "string" ? { kind: "failed", url, reason: decoded } : { kind: "found", text: decoded.text };
}

/** A whole gzip body is gunzipped (bounded); anything else is taken as UTF-8 text. A string is the problem. */
function decodeBody(body: Uint8Array, maxTextBytes: number): { text: string } | string {
  if (isGzip(body)) {
    try {
      return { text: new TextDecoder().decode(gunzip(body, maxTextBytes)) };
    } catch (err) {
      const message = (err as Error).message;
      if (/larger than|maxOutputLength|buffer/i.test(message)) return `gzip body expands beyond ${maxTextBytes} bytes (limit)`;
      return `corrupt or truncated gzip (${message.split("\n")[0]})`;
    }
  }
  return { text: new TextDecoder().decode(body) };
}

/**
 * The body at `url`, with retries for passing trouble. With a check, the check reads the body as it
 * arrives (a download cut off mid-check is retried like any other); without one, the body is read whole.
 */
async function fetchWithRetries(
  url: string,
  policy: FetchPolicy,
  signal: AbortSignal,
  check?: BodyCheck,
): Promise<
  { kind: "body"; body: Uint8Array; problem: string | null; attempts: number } | { kind: "missing" } | { kind: "fail"; reason: string }
> {
  for (let attempt = 0; ; attempt++) {
    if (signal.aborted) throw new Interrupted("interrupted");
    const outcome = url.startsWith("file:") ? await readLocal(url, policy, check) : await getOnce(url, policy, signal, check);
    if (outcome.kind === "body") return { ...outcome, attempts: attempt + 1 };
    if (outcome.kind === "missing" || outcome.kind === "fail") return outcome;
    if (attempt >= policy.retries) return { kind: "fail", reason: `${outcome.reason} (after ${attempt + 1} attempts)` };
    await sleep(backoffDelay(policy.backoffMs, attempt), signal);
  }
}

/** Exponential backoff with ±50 % jitter, so parallel downloads that failed together do not retry together. */
export function backoffDelay(baseMs: number, attempt: number, random = Math.random): number {
  return baseMs * 2 ** attempt * (0.5 + random());
}

/** Waits `ms`, or rejects with Interrupted as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Interrupted("interrupted"));
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Interrupted("interrupted"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Hands the body's text to `check` as it arrives: gunzipped on the fly when the first two bytes say gzip
 * (at most policy.maxTextBytes of text), as it is otherwise. A fault of the gzip is the body's problem.
 */
async function checkBody(wire: AsyncIterator<Uint8Array>, policy: FetchPolicy, check: BodyCheck, url: string): Promise<string | null> {
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (headBytes < 2) {
    const next = await wire.next();
    if (next.done) break;
    head.push(next.value);
    headBytes += next.value.length;
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    yield* head;
    for (;;) {
      const next = await wire.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const gzipped = isGzip(head.length === 1 ? head[0]! : concat(head, headBytes));
  try {
    return await check(gzipped ? gunzipStream(all(), policy.maxTextBytes) : all(), url);
  } catch (err) {
    if (err instanceof GzipError) return err.message;
    throw err;
  }
}

/** A body already in memory, as checkBody reads one. */
function wholeBody(body: Uint8Array): AsyncIterator<Uint8Array> {
  let given = false;
  return {
    async next() {
      if (given) return { done: true, value: undefined };
      given = true;
      return { done: false, value: body };
    },
  };
}

async function readLocal(url: string, policy: FetchPolicy, check?: BodyCheck): Promise<Attempt> {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (err) {
    return { kind: "fail", reason: `bad file URL (${(err as Error).message})` };
  }
  let body: Uint8Array;
  try {
    const info = await stat(path);
    if (!info.isFile()) return { kind: "fail", reason: "not a regular file" };
    if (info.size > policy.maxBytes) return tooLarge(policy);
    body = new Uint8Array(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { kind: "missing" };
    // A flaky network file system answers EIO/EAGAIN now and may not later.
    if (code === "EIO" || code === "EAGAIN" || code === "EBUSY") return { kind: "retry", reason: `read error ${code}` };
    return { kind: "fail", reason: `cannot read ${path}: ${code ?? (err as Error).message}` };
  }
  // Outside the file-system error handling: an interrupted check is no read error of the file.
  return { kind: "body", body, problem: check ? await checkBody(wholeBody(body), policy, check, url) : null };
}

/**
 * An AbortController for one request that remembers why it was aborted first (a timeout's words) and
 * follows `outer` (Ctrl-C); `release` stops following once the request is over.
 */
export function reasonedAbort(outer: AbortSignal) {
  const controller = new AbortController();
  let reason = "";
  const abortWith = (why: string) => {
    reason ||= why;
    controller.abort();
  };
  const onOuter = () => abortWith("interrupted");
  outer.addEventListener("abort", onOuter, { once: true });
  return { controller, abortWith, why: () => reason, release: () => outer.removeEventListener("abort", onOuter) };
}

/** One HTTP GET under the three timeouts and the size cap; `check` reads the body as it streams in. */
async function getOnce(url: string, policy: FetchPolicy, outer: AbortSignal, check?: BodyCheck): Promise<Attempt> {
  const { controller, abortWith, why, release } = reasonedAbort(outer);
  let checking = false;
  let readFailed = false;
  const total = setTimeout(() => abortWith(`timeout: no complete file within ${policy.totalTimeoutMs / 1000} s`), policy.totalTimeoutMs);
  let idle = setTimeout(() => abortWith(`timeout: no response within ${policy.connectTimeoutMs / 1000} s`), policy.connectTimeoutMs);
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => abortWith(`timeout: read stalled for ${policy.readTimeoutMs / 1000} s`), policy.readTimeoutMs);
  };
  try {
    const response = await fetch(url, { signal: controller.signal, redirect: "follow", headers: { "accept-encoding": "gzip, deflate" } });
    touch();
    if (response.status === 404 || response.status === 410) {
      await response.body?.cancel();
      return { kind: "missing" };
    }
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      await response.body?.cancel();
      return { kind: "retry", reason: `server error: HTTP ${response.status}` };
    }
    if (!response.ok) {
      await response.body?.cancel();
      return { kind: "fail", reason: `HTTP ${response.status}` };
    }
    const declared = Number(response.headers.get("content-length") ?? NaN);
    // With Content-Encoding the header counts compressed bytes; the streamed count below is what matters.
    if (!response.headers.get("content-encoding") && declared > policy.maxBytes) {
      await response.body?.cancel();
      return tooLarge(policy);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    let ended = !response.body;
    let over = false;
    const reader = response.body?.getReader();
    const wire: AsyncIterator<Uint8Array> = {
      async next() {
        if (!reader || ended || over) return { done: true, value: undefined };
        const read = await reader.read().catch((err: unknown) => {
          readFailed = true;
          throw err;
        });
        if (read.done) {
          ended = true;
          return { done: true, value: undefined };
        }
        touch();
        size += read.value.length;
        if (size > policy.maxBytes) {
          // Final, not a connection problem: the same file will be as large on every retry. The
          // cancel is ours, so whatever it rejects with is not a reason to try again.
          over = true;
          await reader.cancel().catch(() => undefined);
          return { done: true, value: undefined };
        }
        chunks.push(read.value);
        return { done: false, value: read.value };
      },
    };
    let problem: string | null = null;
    if (check) {
      checking = true;
      problem = await checkBody(wire, policy, check, url);
      checking = false;
    }
    if (problem === null) while (!(await wire.next()).done) {}
    if (over) return tooLarge(policy);
    // A check that found a problem early leaves the rest of the body unread.
    if (!ended) await reader?.cancel().catch(() => undefined);
    return { kind: "body", body: concat(chunks, size), problem };
  } catch (err) {
    if (outer.aborted) throw new Interrupted("interrupted");
    if (why()) return { kind: "retry", reason: why() };
    // A fault of the check itself (not of the download it was reading) is ours, not the network's.
    if (checking && !readFailed) throw err;
    const message = (err as Error).message ?? String(err);
    const code = (err as { code?: string }).code ?? "";
    // A body cut short by the server (a reset, a truncated chunked stream) is a connection problem too.
    return { kind: "retry", reason: `connection error: ${code || message.split("\n")[0]}` };
  } finally {
    clearTimeout(total);
    clearTimeout(idle);
    release();
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function isInterrupted(err: unknown): boolean {
  return err instanceof Interrupted;
}
