// `ciml mqtt-trainer` / `mqtt-predict` (docs/compatibility.md, "The prediction commands work"): listen for finished builds, predict
// their runs through the one prediction path, publish each prediction. Runs until aborted, then drains.
import type { Step } from "./events.ts";
import { serveFirehose, type EventCounts } from "./predict/firehose-service.ts";
import { brokerSettings, parseQos, publishTopic, subscriptionTopic, type BrokerFlags } from "./predict/mqtt-settings.ts";
import { predictBuild, withPredictor, PREDICTOR_DEFAULTS, type PredictorOptions } from "./predict/predict-build.ts";
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
  /** further attempts for a build whose work failed (log server or DB down) */
  retries: string | number;
  /** builds waiting at most; more are dropped with a warning */
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

export const mqttTrainer: Step<MqttTrainerOptions, EventCounts> = async (options, ctx) => {
  // Flags are checked before the model loads, so a typo costs nothing.
  const broker = brokerSettings(options.broker);
  const topic = subscriptionTopic(options.topic, options.shareGroup);
  const qos = parseQos(options.qos);
  const publish = publishTopic(options.publishTopic, options.buildName);
  const concurrency = wholeNumber("--concurrency", options.concurrency, 1, 64);
  const maxAttempts = 1 + wholeNumber("--retries", options.retries, 0, 100);
  const queueCapacity = wholeNumber("--queue-size", options.queueSize, 1, 1_000_000);
  const counts = await withPredictor(options, ctx.emit, (predictor) =>
    serveFirehose(
      {
        broker,
        topic,
        qos,
        publishTopic: publish,
        model: { dataset: predictor.dataset, experiment: predictor.experiment },
        concurrency,
        queueCapacity,
        maxAttempts,
        retryDelayMs: FIRST_RETRY_MS,
        drainTimeoutMs: DRAIN_TIMEOUT_MS,
        debug: options.debug,
      },
      ctx,
      async (event, signal) => {
        const outcome = await predictBuild(predictor, event.buildUuid, options.buildName, signal, options.debug ? ctx.emit : undefined);
        if (outcome.predictions.length > 0) return { kind: "predicted", predictions: outcome.predictions };
        return { kind: "skipped", reason: outcome.skipped[0] ?? `Build uuid: ${event.buildUuid} has no runs in the database, skipping` };
      },
    ),
  );
  ctx.emit({
    type: "result",
    stage: "mqtt-trainer",
    summary: { ...counts },
    lines: [
      `Stopped after ${counts.messages} events: ${counts.predictions} predictions published, ${counts.skipped} builds skipped, ${counts.failed} failed.`,
    ],
  });
  return counts;
};
