// The long-running half of mqtt-trainer: listen, sort every message into an event or a counted skip,
// predict each build once on a bounded queue, publish the predictions, and on abort drain and return.
// What a build turns into is the caller's `handler`, so this file knows MQTT and bookkeeping, not models.
import { parseFirehosePayload, type FirehoseEvent } from "../../io/firehose-event.ts";
import { MqttListener, type Backoff, type ConnectionChange, type MqttSettings, type QoS } from "../../io/mqtt-listener.ts";
import { CimlError } from "../errors.ts";
import type { Emit, StepContext } from "../events.ts";
import { predictionEvent, type RunPrediction } from "./predict-run.ts";
import { SeenBuilds } from "./seen-builds.ts";
import { WorkQueue } from "./work-queue.ts";

type BuildOutcome = { kind: "predicted"; predictions: RunPrediction[] } | { kind: "skipped"; reason: string };

/** Predicts the runs of one build. Throwing means "try again later" (bounded); `skipped` is final. */
export type BuildHandler = (event: FirehoseEvent, signal: AbortSignal) => Promise<BuildOutcome>;

export interface FirehoseServiceOptions {
  broker: MqttSettings;
  /** the topic as subscribed, `$share/<group>/` prefix included */
  topic: string;
  qos: QoS;
  /** where predictions go (QoS 1) */
  publishTopic: string;
  model: { dataset: string; experiment: string };
  concurrency: number;
  queueCapacity: number;
  maxAttempts: number;
  /** pause before the first retry; doubles with each further attempt */
  retryDelayMs: number;
  /** how long in-flight work may take to finish after Ctrl-C before it is aborted */
  drainTimeoutMs: number;
  backoff?: Backoff;
  /** also narrate messages that are not for us (noisy on a busy broker) */
  debug?: boolean;
}

/** What happened to the messages, for the live view, the summary and tests. */
export interface EventCounts {
  messages: number;
  malformed: number;
  irrelevant: number;
  duplicates: number;
  matched: number;
  skipped: number;
  predictions: number;
  retries: number;
  failed: number;
  dropped: number;
  abandoned: number;
}

/** The message published per prediction (docs/mqtt.md). */
export interface PredictionMessage {
  build_uuid: string;
  run_uuid: string;
  build_name: string;
  predicted_class: string;
  probabilities: Record<string, number>;
  model: { dataset: string; experiment: string };
  latency_ms: number;
}

const RARE = ["retries", "failed", "dropped", "abandoned"] as const;

interface WorkItem {
  event: FirehoseEvent;
  receivedAt: number;
}

export async function serveFirehose(
  options: FirehoseServiceOptions,
  { emit, signal }: StepContext,
  handler: BuildHandler,
): Promise<EventCounts> {
  const counts: EventCounts = {
    messages: 0,
    malformed: 0,
    irrelevant: 0,
    duplicates: 0,
    matched: 0,
    skipped: 0,
    predictions: 0,
    retries: 0,
    failed: 0,
    dropped: 0,
    abandoned: 0,
  };
  const started = performance.now();
  const progress = () => {
    const seconds = (performance.now() - started) / 1000;
    // Rare outcomes appear only once they happen, so the live view's line stays short.
    const rare = Object.fromEntries(RARE.filter((k) => counts[k] > 0).map((k) => [k, counts[k]]));
    emit({
      type: "progress",
      stage: "events",
      done: counts.messages,
      total: null,
      unit: "events",
      rate: seconds > 0 ? counts.messages / seconds : 0,
      counts: {
        matched: counts.matched,
        predictions: counts.predictions,
        skipped: counts.skipped,
        duplicates: counts.duplicates,
        irrelevant: counts.irrelevant,
        malformed: counts.malformed,
        ...rare,
        inFlight: queue.inFlight,
        queued: queue.queued,
      },
    });
  };
  const seen = new SeenBuilds();
  let refused: string | null = null;
  const stop = new AbortController();

  const queue = new WorkQueue<WorkItem>(
    async (item, hardStop) => {
      const outcome = await handler(item.event, hardStop);
      if (outcome.kind === "skipped") {
        counts.skipped++;
        emit({ type: "info", message: outcome.reason });
      } else {
        await publishAll(outcome.predictions, item);
        counts.matched++;
      }
    },
    {
      concurrency: options.concurrency,
      capacity: options.queueCapacity,
      maxAttempts: options.maxAttempts,
      retryDelayMs: (attempt) => options.retryDelayMs * 2 ** (attempt - 1),
    },
    {
      retrying: (item, attempt, err) => {
        counts.retries++;
        emit({
          type: "warning",
          subject: item.event.buildUuid,
          message: `build ${item.event.buildUuid}: attempt ${attempt} of ${options.maxAttempts} failed (${messageOf(err)}); retrying`,
        });
      },
      failed: (item, attempts, err) => {
        counts.failed++;
        // Forgotten, so that a later event for the same build gets a fresh chance.
        seen.release(item.event.buildUuid);
        emit({
          type: "warning",
          subject: item.event.buildUuid,
          message: `build ${item.event.buildUuid}: gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${messageOf(err)}`,
        });
      },
      settled: () => progress(),
    },
  );

  const listener = new MqttListener(
    options.broker,
    { topic: options.topic, qos: options.qos },
    {
      message: (topic, payload) => onMessage(topic, payload),
      connection: (change) => onConnection(change, emit),
    },
    options.backoff,
  );

  function onMessage(topic: string, payload: Uint8Array): void {
    const receivedAt = performance.now();
    counts.messages++;
    const parsed = parseFirehosePayload(topic, payload);
    if (parsed.kind === "malformed") {
      counts.malformed++;
      emit({ type: "warning", subject: topic, message: `skipped message on ${topic}: ${parsed.reason}` });
    } else if (parsed.kind === "irrelevant") {
      counts.irrelevant++;
      if (options.debug) emit({ type: "info", message: `skipped message on ${topic}: ${parsed.reason}` });
    } else if (!seen.claim(parsed.buildUuid)) {
      counts.duplicates++;
      if (options.debug) emit({ type: "info", message: `Build uuid: ${parsed.buildUuid} already handled, skipping repeat` });
    } else {
      if (options.debug) emit({ type: "info", message: `Received event with build uuid ${parsed.buildUuid}` });
      if (!queue.push({ event: parsed, receivedAt })) {
        counts.dropped++;
        seen.release(parsed.buildUuid);
        emit({
          type: "warning",
          subject: parsed.buildUuid,
          message: `build ${parsed.buildUuid}: dropped, ${options.queueCapacity} events already waiting (raise --concurrency or add instances with --share-group)`,
        });
      }
    }
    progress();
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

  async function publishAll(predictions: RunPrediction[], item: WorkItem): Promise<void> {
    for (const p of predictions) {
      const latencyMs = performance.now() - item.receivedAt;
      const message: PredictionMessage = {
        build_uuid: item.event.buildUuid,
        run_uuid: p.runUuid,
        build_name: p.buildName,
        predicted_class: p.predictedClass,
        probabilities: p.probabilities,
        model: options.model,
        latency_ms: Math.round(latencyMs * 10) / 10,
      };
      await listener.publish(options.publishTopic, JSON.stringify(message), 1);
      counts.predictions++;
      emit(predictionEvent(p, latencyMs));
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
  counts.abandoned = abandoned.length;
  if (abandoned.length > 0)
    emit({
      type: "warning",
      message: `${abandoned.length} queued build${abandoned.length === 1 ? "" : "s"} not predicted: ${abandoned.map((i) => i.event.buildUuid).join(", ")}`,
    });
  await listener.close();
  emit({ type: "stage", stage: "drain", state: "finished" });
  progress();
  if (refused) throw new CimlError(refused);
  return counts;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message.split("\n")[0]! : String(err);
}
