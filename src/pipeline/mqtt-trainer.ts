// `ciml mqtt-trainer` / `mqtt-predict`: listen for finished builds (the firehose's gearman-subunit events,
// looked up in subunit2sql, and Zuul's MQTT reporter messages, fetched from their log URLs), predict them
// through the one prediction path, publish each prediction. Runs until aborted, then drains.
import type { Step } from "./events.ts";
import { serveFirehose, type BuildOutcome, type EventCounts } from "./predict/firehose-service.ts";
import type { WorkItem } from "./predict/message-triage.ts";
import { brokerSettings, parseQos, publishTopic, subscriptionTopic, type BrokerFlags } from "./predict/mqtt-settings.ts";
import { predictBuild, withPredictor, type Predictor, PREDICTOR_DEFAULTS, type PredictorOptions } from "./predict/predict-build.ts";
import { predictZuulBuild, zuulFetchPolicy } from "./predict/predict-zuul-build.ts";
import { SeenIds } from "./predict/seen-ids.ts";
import { summaryLines } from "./predict/service-report.ts";
import { wholeNumber } from "./whole-number.ts";

export interface MqttTrainerOptions extends PredictorOptions {
  broker: BrokerFlags;
  qos: string | number;
  topic: string;
  shareGroup?: string;
  publishTopic?: string;
  buildName: string;
  /** builds predicted at once */
  concurrency: string | number;
  /** further attempts for a build whose work failed (log server or DB down) or found no runs yet */
  retries: string | number;
  /** builds waiting at most; beyond it the broker holds further messages (QoS 1) */
  queueSize: string | number;
  debug?: boolean;
}

/** What a command-line user gets without the flag; the one place these defaults are written. */
export const MQTT_TRAINER_DEFAULTS = {
  mqttHostname: "firehose.openstack.org",
  qos: 1,
  topic: "gearman-subunit/#",
  ...PREDICTOR_DEFAULTS,
  buildName: "tempest-full",
  concurrency: 4,
  retries: 3,
  queueSize: 1000,
} satisfies Partial<MqttTrainerOptions> & { mqttHostname: string };

const DRAIN_TIMEOUT_MS = 30_000;
const FIRST_RETRY_MS = 2_000;
/** Well under the 30 s keepalive: while a message is held, mqtt.js reads nothing, not even the broker's pings. */
const MAX_HOLD_MS = 10_000;

export const mqttTrainer: Step<MqttTrainerOptions, EventCounts> = async (options, ctx) => {
  // Flags are checked before the model loads, so a typo costs nothing.
  const broker = brokerSettings(options.broker);
  const topic = subscriptionTopic(options.topic, options.shareGroup);
  const qos = parseQos(options.qos);
  const publish = publishTopic(options.publishTopic, options.buildName);
  const concurrency = wholeNumber("--concurrency", options.concurrency, 1, 64);
  const maxAttempts = 1 + wholeNumber("--retries", options.retries, 0, 100);
  const queueCapacity = wholeNumber("--queue-size", options.queueSize, 1, 1_000_000);
  const counts = await withPredictor({ ...options, lazyDatabase: true }, { emit: ctx.emit }, (predictor) => {
    const predictRuns = firehoseBuildPredictor(predictor, options.buildName, options.debug ? ctx.emit : undefined);
    const zuulPolicy = zuulFetchPolicy(predictor.policy, options.dstatPaths);
    return serveFirehose(
      {
        broker,
        topic,
        qos,
        publishTopic: publish,
        buildName: options.buildName,
        model: { dataset: predictor.dataset, experiment: predictor.experiment },
        concurrency,
        queueCapacity,
        maxHoldMs: MAX_HOLD_MS,
        maxAttempts,
        retryDelayMs: FIRST_RETRY_MS,
        drainTimeoutMs: DRAIN_TIMEOUT_MS,
        debug: options.debug,
      },
      ctx,
      (item: WorkItem, signal) =>
        item.kind === "zuul"
          ? predictZuulBuild(predictor, item.run, options.buildName, zuulPolicy, signal)
          : predictRuns(item.buildUuid, signal),
    );
  });
  ctx.emit({ type: "result", stage: "mqtt-trainer", summary: { ...counts }, lines: summaryLines(counts) });
  return counts;
};

/**
 * A firehose build: its runs from the database, each predicted once however many events announce the
 * build (one per subunit file, and again after a worker retry). A build with no rows yet (the event came
 * before the worker's commit) is looked up again later, never marked as done.
 */
function firehoseBuildPredictor(p: Predictor, buildName: string, emit: Parameters<typeof predictBuild>[4]) {
  const predictedRuns = new SeenIds();
  return async (buildUuid: string, signal: AbortSignal): Promise<BuildOutcome> => {
    const claimed: string[] = [];
    const admit = (runUuid: string) => {
      if (!predictedRuns.claim(runUuid)) return false;
      claimed.push(runUuid);
      return true;
    };
    let outcome: Awaited<ReturnType<typeof predictBuild>>;
    try {
      outcome = await predictBuild(p, buildUuid, buildName, signal, emit, admit);
    } catch (err) {
      // Not predicted after all: a later attempt or event must be able to take these runs again.
      for (const run of claimed) predictedRuns.release(run);
      throw err;
    }
    if (outcome.predictions.length > 0) return { kind: "predicted", predictions: outcome.predictions, saved: outcome.saved };
    // Nothing to publish: nothing to go ahead of either.
    await outcome.saved;
    if (outcome.found === 0) return { kind: "not-yet", reason: `Build uuid: ${buildUuid} has no runs in the database, skipping` };
    if (outcome.admitted === 0 && outcome.skipped.length === 0)
      return { kind: "duplicate", reason: `Build uuid: ${buildUuid}: every run already predicted, skipping repeat` };
    return { kind: "skipped", reason: outcome.skipped[0] ?? `Build uuid: ${buildUuid} has no run to predict, skipping` };
  };
}
