// The long-running half of mqtt-trainer: listen, sort every message (message-triage.ts decides), predict
// each build on a bounded backlog, publish the predictions, and on abort drain and return the counts
// (service-report.ts tells them). What a build turns into is the caller's `handler`, so this file knows
// MQTT, flow control and bookkeeping, not models.
import type { Backoff, ConnectionChange, MqttSettings, QoS } from "../../io/mqtt-connection.ts";
import { MqttListener } from "../../io/mqtt-listener.ts";
import { CimlError } from "../errors.ts";
import type { Emit, StepContext } from "../events.ts";
import { BROKER_DROPPED_TOPIC, triageMessage, type WorkItem } from "./message-triage.ts";
import { predictionMessage } from "./prediction-message.ts";
import { predictionEvent, type RunPrediction } from "./predict-run.ts";
import { SeenIds } from "./seen-ids.ts";
import { newCounts, progressEvent, type EventCounts } from "./service-report.ts";
import { WorkQueue } from "./work-queue.ts";

/**
 * What became of one build. `not-yet` (nothing to predict yet, e.g. its rows are not committed) is tried
 * again later like a failed fetch, and counted as skipped with its reason when the attempts run out.
 * Throwing means "failed, try again later" (bounded); `skipped` and `duplicate` are final. `saved` settles
 * once the build's downloads are cached: the predictions are published first, and the build holds its place
 * among the `concurrency` builds until then, so writes waiting for the disk stay bounded too.
 */
export type BuildOutcome =
  | { kind: "predicted"; predictions: RunPrediction[]; saved: Promise<void> }
  | { kind: "skipped"; reason: string }
  | { kind: "duplicate"; reason: string }
  | { kind: "not-yet"; reason: string };

export type BuildHandler = (item: WorkItem, signal: AbortSignal) => Promise<BuildOutcome>;

export interface FirehoseServiceOptions {
  broker: MqttSettings;
  /** the topic as subscribed, `$share/<group>/` prefix included */
  topic: string;
  qos: QoS;
  /** where predictions go (QoS 1) */
  publishTopic: string;
  /** the job whose builds are predicted (Zuul reports name every job of a buildset) */
  buildName: string;
  model: { dataset: string; experiment: string };
  concurrency: number;
  /** builds waiting at most; beyond it the broker is made to hold the messages */
  queueCapacity: number;
  /** how long one message may be held unacknowledged for want of room before it is dropped and counted */
  maxHoldMs: number;
  maxAttempts: number;
  /** pause before the first retry; doubles with each further attempt */
  retryDelayMs: number;
  /** how long in-flight work may take to finish after Ctrl-C before it is aborted */
  drainTimeoutMs: number;
  backoff?: Backoff;
  /** also narrate messages that are not for us (noisy on a busy broker) */
  debug?: boolean;
}

export type { EventCounts } from "./service-report.ts";

interface Entry {
  item: WorkItem;
  receivedAt: number;
}

/** A build with nothing to predict yet: retried by the queue, then counted as skipped. */
class NotYet extends Error {
  override name = "NotYet";
}

export async function serveFirehose(
  options: FirehoseServiceOptions,
  { emit, signal }: StepContext,
  handler: BuildHandler,
): Promise<EventCounts> {
  const counts = newCounts();
  const started = performance.now();
  const progress = () => emit(progressEvent(counts, queue, (performance.now() - started) / 1000));
  // Work items waiting or in flight by key; a repeat of one adds nothing. A firehose build leaves this
  // set when its lookup starts (a later event may announce a run the lookup did not see), a Zuul build
  // only when its work failed for good.
  const claimed = new SeenIds();
  let brokerDroppedBaseline: number | null = null;
  /** predictions sent and not yet acknowledged by the broker */
  const unacknowledged = new Set<Promise<void>>();
  let refused: string | null = null;
  const stop = new AbortController();

  const queue = new WorkQueue<Entry>(
    async (entry, hardStop) => {
      if (entry.item.kind === "firehose") claimed.release(entry.item.key);
      const outcome = await handler(entry.item, hardStop);
      switch (outcome.kind) {
        case "not-yet":
          throw new NotYet(outcome.reason);
        case "skipped":
          counts.skipped++;
          emit({ type: "info", message: outcome.reason });
          break;
        case "duplicate":
          counts.duplicates++;
          if (options.debug) emit({ type: "info", message: outcome.reason });
          break;
        case "predicted":
          publishAll(outcome.predictions, entry);
          counts.matched++;
          // Published already, so not retried (that would publish it twice): cache-data fetches what is missing.
          await outcome.saved.catch((err: unknown) =>
            emit({
              type: "warning",
              subject: nameOf(entry.item),
              message: `${nameOf(entry.item)}: predicted, but its runs were not cached: ${messageOf(err)}`,
            }),
          );
      }
    },
    {
      concurrency: options.concurrency,
      capacity: options.queueCapacity,
      maxAttempts: options.maxAttempts,
      retryDelayMs: (attempt) => options.retryDelayMs * 2 ** (attempt - 1),
    },
    {
      retrying: (entry, attempt, err) => {
        counts.retries++;
        const what = nameOf(entry.item);
        if (err instanceof NotYet) {
          if (options.debug) emit({ type: "info", message: `${what}: ${err.message}; looking again later` });
          return;
        }
        emit({
          type: "warning",
          subject: what,
          message: `${what}: attempt ${attempt} of ${options.maxAttempts} failed (${messageOf(err)}); retrying`,
        });
      },
      failed: (entry, attempts, err) => {
        // Forgotten, so that a later event for the same build gets a fresh chance.
        claimed.release(entry.item.key);
        const what = nameOf(entry.item);
        if (err instanceof NotYet) {
          counts.skipped++;
          emit({ type: "info", message: err.message });
          return;
        }
        counts.failed++;
        emit({
          type: "warning",
          subject: what,
          message: `${what}: gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${messageOf(err)}`,
        });
      },
      settled: () => progress(),
    },
  );

  const listener = new MqttListener(
    options.broker,
    { topic: options.topic, qos: options.qos, watch: [BROKER_DROPPED_TOPIC] },
    { message: (topic, payload) => onMessage(topic, payload), connection: (change) => onConnection(change, emit) },
    options.backoff,
  );

  /** Sorts one message; a promise when the backlog is full, which holds the broker's next message until it settles. */
  function onMessage(topic: string, payload: Uint8Array): undefined | Promise<void> {
    const receivedAt = performance.now();
    const triage = triageMessage(topic, payload, options.buildName);
    if (triage.kind === "broker-dropped") {
      // The first figure is what the broker had dropped before we came.
      brokerDroppedBaseline ??= triage.total;
      counts.brokerDropped = Math.max(0, triage.total - brokerDroppedBaseline);
      progress();
      return undefined;
    }
    counts.messages++;
    let held: Promise<void> | undefined;
    if (triage.kind === "malformed") {
      counts.malformed++;
      emit({ type: "warning", subject: topic, message: `skipped message on ${topic}: ${triage.reason}` });
    } else if (triage.kind === "irrelevant") {
      counts.irrelevant++;
      if (options.debug) emit({ type: "info", message: `skipped message on ${topic}: ${triage.reason}` });
    } else {
      for (const reason of triage.skipped) {
        counts.skipped++;
        emit({ type: "info", message: reason });
      }
      const fresh = triage.items.filter((item) => {
        if (claimed.claim(item.key)) return true;
        counts.duplicates++;
        if (options.debug) emit({ type: "info", message: `${nameOf(item)} already handled, skipping repeat` });
        return false;
      });
      held = admit(fresh.map((item) => ({ item, receivedAt })));
    }
    progress();
    return held;
  }

  /** Into the backlog; when it is full, waits (the broker holds the rest) for a bounded time, then drops and counts. */
  function admit(entries: Entry[]): undefined | Promise<void> {
    while (entries.length > 0 && queue.push(entries[0]!)) {
      if (options.debug) emit({ type: "info", message: `Received event for ${nameOf(entries[0]!.item)}` });
      entries.shift();
    }
    if (entries.length === 0) return undefined;
    counts.paused++;
    return (async () => {
      for (const entry of entries) {
        if (await queue.whenRoom(options.maxHoldMs)) {
          queue.push(entry);
          continue;
        }
        claimed.release(entry.item.key);
        if (stop.signal.aborted || signal.aborted) {
          counts.abandoned++;
          continue;
        }
        counts.dropped++;
        emit({
          type: "warning",
          subject: nameOf(entry.item),
          message: `${nameOf(entry.item)}: dropped, ${options.queueCapacity} builds waited for more than ${options.maxHoldMs / 1000} s (raise --concurrency or --queue-size, or add instances with --share-group)`,
        });
      }
      progress();
    })();
  }

  function onConnection(change: ConnectionChange, emitTo: Emit): void {
    const where = `${options.broker.host}:${options.broker.port}`;
    switch (change.state) {
      case "up":
        emitTo({ type: "stage", stage: "broker", state: "started", detail: `connected to ${where}, listening on ${options.topic}` });
        if (change.reconnected)
          emitTo({
            type: "info",
            message: `reconnected to ${where} after ${(change.outageMs / 1000).toFixed(1)}s (${change.attempts} attempt${change.attempts === 1 ? "" : "s"})`,
          });
        break;
      case "down":
        emitTo({ type: "stage", stage: "broker", state: "started", detail: `disconnected from ${where}: reconnecting` });
        emitTo({
          type: "warning",
          subject: where,
          message: `lost the broker at ${where} (${change.reason}); reconnecting with backoff until it is back`,
        });
        break;
      case "subscribe-failed":
        emitTo({
          type: "warning",
          subject: options.topic,
          message: `${change.reason}; no events will arrive (check --topic and --share-group)`,
        });
        break;
      case "refused":
        refused = `the broker at ${where} refused the connection (${change.reason}); check --username/--password`;
        stop.abort();
        break;
    }
  }

  /**
   * Publishes without waiting for the broker's acknowledgement, which comes on the publishing connection
   * (never held for flow control) and only decides when the prediction counts as published: the build's
   * cache writes need not wait for it. A prediction counts as published once acknowledged.
   */
  function publishAll(predictions: RunPrediction[], entry: Entry): void {
    const { item } = entry;
    const buildUuid = item.kind === "firehose" ? item.buildUuid : item.run.id;
    for (const p of predictions) {
      const latencyMs = performance.now() - entry.receivedAt;
      const message = predictionMessage(buildUuid, p, options.model, latencyMs, item.kind === "zuul" ? item.zuul : undefined);
      const sent: Promise<void> = listener.publish(options.publishTopic, JSON.stringify(message), 1).then(
        () => {
          counts.predictions++;
          unacknowledged.delete(sent);
        },
        (err: unknown) => {
          unacknowledged.delete(sent);
          emit({ type: "warning", subject: buildUuid, message: `prediction for ${p.runUuid} not published: ${messageOf(err)}` });
        },
      );
      unacknowledged.add(sent);
      emit({ ...predictionEvent(p, latencyMs), buildUuid });
    }
  }

  emit({ type: "stage", stage: "broker", state: "started", detail: `connecting to ${options.broker.host}:${options.broker.port}` });
  progress();
  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
    stop.signal.addEventListener("abort", () => resolve(), { once: true });
  });

  emit({ type: "stage", stage: "drain", state: "started", detail: `${queue.inFlight} in flight` });
  const abandoned = await queue.drain(options.drainTimeoutMs);
  counts.abandoned += abandoned.length;
  if (abandoned.length > 0)
    emit({
      type: "warning",
      message: `${abandoned.length} queued build${abandoned.length === 1 ? "" : "s"} not predicted: ${abandoned
        .slice(0, 10)
        .map((e) => nameOf(e.item))
        .join(", ")}${abandoned.length > 10 ? ", …" : ""}`,
    });
  // The last predictions' acknowledgements, within the same bound as the work (the broker may be away).
  if (unacknowledged.size > 0) {
    const waiting = unacknowledged.size;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settled = await Promise.race([
      Promise.allSettled([...unacknowledged]).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), options.drainTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (!settled)
      emit({ type: "warning", message: `${unacknowledged.size} of ${waiting} predictions not acknowledged by the broker before stopping` });
  }
  await listener.close();
  emit({ type: "stage", stage: "drain", state: "finished" });
  progress();
  if (refused) throw new CimlError(refused);
  return counts;
}

function nameOf(item: WorkItem): string {
  return item.kind === "firehose" ? `build ${item.buildUuid}` : `Zuul build ${item.run.id} (${item.zuul.job})`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message.split("\n")[0]! : String(err);
}
