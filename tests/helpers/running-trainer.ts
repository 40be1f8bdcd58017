// mqtt-trainer started in-process for a test, with its events collected and a stop that returns its counts.
import type { PipelineEvent } from "../../src/pipeline/events.ts";
import type { EventCounts } from "../../src/pipeline/predict/firehose-service.ts";
import { mqttTrainer, type MqttTrainerOptions } from "../../src/pipeline/mqtt-trainer.ts";
import { BUILD_NAME, DATASET, EXPERIMENT } from "./trained-workspace.ts";

export type TrainerFlags = Partial<MqttTrainerOptions> & { dataPath: string; dbUri: string; topic: string; publishTopic: string };

export interface RunningTrainer {
  events: PipelineEvent[];
  waitFor(what: string, cond: () => boolean, timeoutMs?: number): Promise<void>;
  /** how many times it has connected (and subscribed) */
  connections(): number;
  /** the counts of its latest progress line */
  progress(): Record<string, number>;
  stop(): Promise<EventCounts>;
}

export function startTrainer(options: TrainerFlags, cleanups: (() => Promise<void> | void)[]): RunningTrainer {
  const events: PipelineEvent[] = [];
  const controller = new AbortController();
  const done = mqttTrainer(
    {
      dataset: DATASET,
      experiment: EXPERIMENT,
      broker: { host: "127.0.0.1", port: 1883 },
      qos: 1,
      buildName: BUILD_NAME,
      concurrency: 4,
      retries: 2,
      queueSize: 1000,
      // The log server's own retries are the cache code's business; here one attempt per fetch keeps it quick.
      fetch: { retries: 0, backoffMs: 10 },
      timeoutSeconds: 10,
      ...options,
    },
    { emit: (e) => events.push(e), signal: controller.signal },
  );
  let failure: unknown;
  done.catch((err: unknown) => (failure = err));
  const waitFor = async (what: string, cond: () => boolean, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (failure) throw failure;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Bun.sleep(10);
    }
  };
  const connections = () => events.filter((e) => e.type === "stage" && e.stage === "broker" && e.detail?.startsWith("connected to")).length;
  const progress = () => {
    const last = events.findLast((e) => e.type === "progress" && e.stage === "events");
    return last?.type === "progress" ? { ...last.counts, messages: last.done } : {};
  };
  const stop = async (): Promise<EventCounts> => {
    controller.abort();
    return done;
  };
  cleanups.push(async () => void (await stop().catch(() => undefined)));
  return { events, waitFor, connections, progress, stop };
}
