// The thread body of fetch-parsed-pool.ts: downloads and parses dstat files as the pool asks, one
// message per request, and stops a request when the pool says it was aborted (Ctrl-C, a drain timeout).
// Listed as an entry point in scripts/compile.ts, so that the compiled binary carries it.
import { isInterrupted } from "../../io/log-server.ts";
import type { FromPool, ToPool } from "./fetch-parsed-pool.ts";
import { fetchParsedHere } from "./fetch-parsed.ts";

declare const self: Worker;

const running = new Map<number, AbortController>();

self.onmessage = async (event: MessageEvent<FromPool>) => {
  const message = event.data;
  if (message.kind === "abort") {
    running.get(message.id)?.abort();
    return;
  }
  const abort = new AbortController();
  running.set(message.id, abort);
  let reply: ToPool;
  try {
    reply = { id: message.id, kind: "result", result: await fetchParsedHere(message.request, abort.signal) };
  } catch (err) {
    reply = {
      id: message.id,
      kind: "error",
      interrupted: isInterrupted(err) || abort.signal.aborted,
      message: err instanceof Error ? err.message : String(err),
    };
  } finally {
    running.delete(message.id);
  }
  self.postMessage(reply);
};
