// Fresh downloads fetched, gunzipped and parsed on worker threads (fetch-parsed-worker.ts) instead of the
// one JavaScript thread. The parse of a trace is most of what a prediction costs (docs/mqtt.md, "Speed"):
// on the event loop, a burst of events is parsed one trace after the other while the loop also publishes,
// writes the cache and reads MQTT; on two workers two traces parse at once. The parse is the same code on
// the same bytes, so a trace parsed there is the same numbers as one parsed here.
import { Interrupted } from "../../io/log-server.ts";
import type { FetchParsed, FetchParsedRequest, FetchParsedResult } from "./fetch-parsed.ts";

/** What the pool posts to a worker. */
export type FromPool = { id: number; kind: "fetch"; request: FetchParsedRequest } | { id: number; kind: "abort" };
/** What a worker answers; `interrupted` when the request was aborted. */
export type ToPool =
  | { id: number; kind: "result"; result: FetchParsedResult }
  | { id: number; kind: "error"; interrupted: boolean; message: string };

interface Pending {
  resolve: (result: FetchParsedResult) => void;
  reject: (err: Error) => void;
}

/** One worker and the requests it is working on. */
class Thread {
  readonly pending = new Map<number, Pending>();
  readonly worker: Worker;

  constructor(onDeath: (thread: Thread) => void) {
    this.worker = new Worker(new URL("./fetch-parsed-worker.ts", import.meta.url).href);
    // An idle pool must not keep the process alive; a request in flight does (see `ref` below).
    this.worker.unref();
    this.worker.onmessage = (event: MessageEvent<ToPool>) => {
      const reply = event.data;
      const pending = this.pending.get(reply.id);
      if (!pending) return; // aborted here already
      this.settle(reply.id);
      if (reply.kind === "result") pending.resolve(reply.result);
      else pending.reject(reply.interrupted ? new Interrupted("interrupted") : new Error(reply.message));
    };
    this.worker.onerror = (event) => {
      const err = new Error(`dstat download thread failed: ${event.message}`);
      for (const [id, pending] of this.pending) {
        this.settle(id);
        pending.reject(err);
      }
      onDeath(this);
      this.worker.terminate();
    };
  }

  add(id: number, pending: Pending): void {
    if (this.pending.size === 0) this.worker.ref();
    this.pending.set(id, pending);
  }

  settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }
}

/**
 * `size` workers, started at once (a worker takes tens of milliseconds to load, which the first event
 * should not wait for). Each request goes to the worker with the fewest in flight. Aborting a request
 * rejects it at once with Interrupted and tells its worker to stop; `close` ends every worker.
 */
export class FetchParsedPool {
  private threads: Thread[];
  private nextId = 1;

  constructor(readonly size: number) {
    this.threads = Array.from({ length: size }, () => this.spawn());
  }

  private spawn(): Thread {
    return new Thread((dead) => {
      // A thread that died (out of memory, a bug) is replaced for the next requests.
      const i = this.threads.indexOf(dead);
      if (i >= 0) this.threads[i] = this.spawn();
    });
  }

  readonly fetch: FetchParsed = (request, signal) => {
    if (signal.aborted || this.threads.length === 0) return Promise.reject(new Interrupted("interrupted"));
    const thread = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise<FetchParsedResult>((resolve, reject) => {
      const onAbort = () => {
        thread.settle(id);
        thread.worker.postMessage({ id, kind: "abort" } satisfies FromPool);
        reject(new Interrupted("interrupted"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      thread.add(id, {
        resolve: (result) => {
          signal.removeEventListener("abort", onAbort);
          resolve(result);
        },
        reject: (err) => {
          signal.removeEventListener("abort", onAbort);
          reject(err);
        },
      });
      thread.worker.postMessage({ id, kind: "fetch", request } satisfies FromPool);
    });
  };

  /** Ends every worker; requests still in flight are rejected as interrupted. */
  close(): void {
    for (const thread of this.threads) {
      for (const [id, pending] of thread.pending) {
        thread.settle(id);
        pending.reject(new Interrupted("interrupted"));
      }
      thread.worker.terminate();
    }
    this.threads = [];
  }
}
