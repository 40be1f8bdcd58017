// Reading Zuul's REST API (`https://HOST/api/tenant/TENANT/…`): JSON answers under timeouts and a size
// cap, retries with backoff for a server in trouble, 429 answered by waiting what Retry-After says
// (bounded), and an optional bearer token that goes to the API host only and never into a message.
import { CimlError } from "../ciml-error.ts";
import { backoffDelay, Interrupted, reasonedAbort, sleep } from "../log-server.ts";

export interface ZuulHttpPolicy {
  /** until the response headers arrive */
  connectTimeoutMs: number;
  /** the whole answer */
  totalTimeoutMs: number;
  /** extra attempts after the first, for 5xx, 429 and connection trouble */
  retries: number;
  /** first backoff delay; doubles on each retry, with jitter */
  backoffMs: number;
  /** the longest Retry-After honoured; a longer one is waited this long */
  maxRetryAfterMs: number;
  /** most bytes accepted per answer */
  maxBytes: number;
}

export const DEFAULT_ZUUL_HTTP: ZuulHttpPolicy = {
  connectTimeoutMs: 10_000,
  totalTimeoutMs: 60_000,
  retries: 4,
  backoffMs: 1000,
  maxRetryAfterMs: 60_000,
  maxBytes: 32 * 1024 * 1024,
};

/** The API root as given, checked: http(s), and not the web UI's /t/TENANT page. */
export function zuulApiRoot(given: string): string {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new CimlError(`--zuul-url ${given}: not a URL; give the API root, e.g. https://zuul.opendev.org/api/tenant/openstack`, 2);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new CimlError(`--zuul-url ${url.protocol}: give an http(s) URL, e.g. https://zuul.opendev.org/api/tenant/openstack`, 2);
  if (url.username || url.password)
    throw new CimlError("--zuul-url: do not put credentials in the URL; set CIML_ZUUL_TOKEN to a bearer token instead", 2);
  const web = url.pathname.match(/^(.*)\/t\/([^/]+)\/?/);
  if (web && !url.pathname.includes("/api/"))
    throw new CimlError(
      `--zuul-url ${url.origin}${url.pathname}: that is the web page; give the API root ${url.origin}${web[1]}/api/tenant/${web[2]}`,
      2,
    );
  url.search = "";
  url.hash = "";
  return url.href.replace(/\/+$/, "");
}

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

type Attempt = { kind: "json"; value: unknown } | { kind: "retry"; reason: string; waitMs?: number } | { kind: "fail"; error: CimlError };

export class ZuulApi {
  /** answers received, for progress and tests */
  requests = 0;

  constructor(
    readonly root: string,
    private readonly token: string | undefined,
    private readonly policy: ZuulHttpPolicy = DEFAULT_ZUUL_HTTP,
  ) {}

  /** GET `root/path` as JSON. Throws CimlError with one line naming what to fix; AbortError on Ctrl-C. */
  async getJson(path: string, signal: AbortSignal): Promise<unknown> {
    const url = `${this.root}/${path}`;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw new Interrupted("interrupted");
      const outcome = await this.once(url, path, signal);
      if (outcome.kind === "json") return outcome.value;
      if (outcome.kind === "fail") throw outcome.error;
      if (attempt >= this.policy.retries)
        throw new CimlError(`Zuul at ${this.root}: ${outcome.reason} for ${path} (after ${attempt + 1} attempts); try again later`);
      const wait = outcome.waitMs ?? backoffDelay(this.policy.backoffMs, attempt);
      await sleep(Math.min(wait, this.policy.maxRetryAfterMs), signal);
    }
  }

  private async once(url: string, path: string, outer: AbortSignal): Promise<Attempt> {
    const { controller, abortWith, why, release } = reasonedAbort(outer);
    const total = setTimeout(
      () => abortWith(`no complete answer within ${this.policy.totalTimeoutMs / 1000} s`),
      this.policy.totalTimeoutMs,
    );
    const connect = setTimeout(() => abortWith(`no answer within ${this.policy.connectTimeoutMs / 1000} s`), this.policy.connectTimeoutMs);
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    try {
      const response = await fetch(url, { signal: controller.signal, headers, redirect: "follow" });
      clearTimeout(connect);
      this.requests++;
      const status = response.status;
      if (status === 429 || status === 408 || status >= 500) {
        await response.body?.cancel();
        const waitMs = status === 429 ? retryAfterMs(response.headers.get("retry-after")) : undefined;
        return { kind: "retry", reason: `HTTP ${status}`, ...(waitMs !== undefined ? { waitMs } : {}) };
      }
      if (status === 401 || status === 403) {
        await response.body?.cancel();
        return {
          kind: "fail",
          error: new CimlError(
            `Zuul at ${this.root}: HTTP ${status} for ${path}; ${this.token ? "CIML_ZUUL_TOKEN was refused" : "this Zuul wants a token: set CIML_ZUUL_TOKEN"}`,
          ),
        };
      }
      if (status === 404) {
        await response.body?.cancel();
        return {
          kind: "fail",
          error: new CimlError(
            `Zuul at ${this.root}: HTTP 404 for ${path}; check the tenant name in --zuul-url (https://HOST/api/tenant/TENANT)`,
          ),
        };
      }
      if (!response.ok) {
        await response.body?.cancel();
        return { kind: "fail", error: new CimlError(`Zuul at ${this.root}: HTTP ${status} for ${path}`) };
      }
      const body = await this.readCapped(response, controller);
      if (typeof body !== "string") return { kind: "fail", error: body };
      const type = response.headers.get("content-type") ?? "";
      if (/html/i.test(type) || /^\s*</.test(body))
        return {
          kind: "fail",
          error: new CimlError(
            `Zuul at ${this.root}: ${path} answered an HTML page, not JSON; give the API root, e.g. https://zuul.opendev.org/api/tenant/openstack`,
          ),
        };
      try {
        return { kind: "json", value: JSON.parse(body) };
      } catch {
        return { kind: "fail", error: new CimlError(`Zuul at ${this.root}: the answer to ${path} is not JSON; is --zuul-url a Zuul API?`) };
      }
    } catch (err) {
      if (outer.aborted) throw new Interrupted("interrupted");
      if (why()) return { kind: "retry", reason: why() };
      const code = (err as { code?: string }).code ?? "";
      const message = ((err as Error).message ?? String(err)).split("\n")[0];
      return { kind: "retry", reason: `cannot connect (${code || message})` };
    } finally {
      clearTimeout(total);
      clearTimeout(connect);
      release();
    }
  }

  private async readCapped(response: Response, controller: AbortController): Promise<string | CimlError> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body)
      for await (const chunk of response.body) {
        size += chunk.length;
        if (size > this.policy.maxBytes) {
          controller.abort();
          return new CimlError(`Zuul at ${this.root}: an answer over ${this.policy.maxBytes} bytes; not a builds page`);
        }
        chunks.push(chunk);
      }
    return Buffer.concat(chunks).toString("utf8");
  }
}
