// The message mqtt-trainer publishes per prediction. Firehose builds keep the shape consumers already
// read; a build announced by Zuul's reporter adds the change it ran for and Zuul's own result, so a
// consumer can compare the prediction with what happened without asking Zuul.
import type { ZuulBuildContext } from "./message-triage.ts";
import type { RunPrediction } from "./predict-run.ts";

export interface PredictionMessage {
  build_uuid: string;
  run_uuid: string;
  build_name: string;
  predicted_class: string;
  probabilities: Record<string, number>;
  /** the run's class by the dataset's class label, when its metadata says (Zuul: from the result) */
  actual_class?: string;
  model: { dataset: string; experiment: string };
  /** from the message's arrival to this publication */
  latency_ms: number;
  zuul?: ZuulBuildContext;
}

export function predictionMessage(
  buildUuid: string,
  p: RunPrediction,
  model: { dataset: string; experiment: string },
  latencyMs: number,
  zuul?: ZuulBuildContext,
): PredictionMessage {
  return {
    build_uuid: buildUuid,
    run_uuid: p.runUuid,
    build_name: p.buildName,
    predicted_class: p.predictedClass,
    probabilities: p.probabilities,
    ...(p.actualClass !== null ? { actual_class: p.actualClass } : {}),
    model,
    latency_ms: Math.round(latencyMs * 10) / 10,
    ...(zuul ? { zuul } : {}),
  };
}
