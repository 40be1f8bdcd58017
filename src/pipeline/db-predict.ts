// `ciml db-predict BUILD_UUID` (the original's, made to work): one MQTT event's work, with the build UUID from the command line.
import type { Step } from "./events.ts";
import { predictBuild, withPredictor, PREDICTOR_DEFAULTS, type PredictorOptions } from "./predict/predict-build.ts";
import { predictionEvent, type RunPrediction } from "./predict/predict-run.ts";

export interface DbPredictOptions extends PredictorOptions {
  buildUuid: string;
  buildName: string;
}

/** What a command-line user gets without the flag; the one place these defaults are written. */
export const DB_PREDICT_DEFAULTS = {
  ...PREDICTOR_DEFAULTS,
  buildName: "tempest-full",
} satisfies Partial<DbPredictOptions>;

export interface DbPredictResult {
  buildUuid: string;
  predictions: RunPrediction[];
  /** why runs of the build were not predicted */
  skipped: string[];
}

export const dbPredict: Step<DbPredictOptions, DbPredictResult> = (options, { emit, signal }) =>
  withPredictor(options, { emit, signal }, async (predictor) => {
    emit({ type: "stage", stage: "predict", state: "started", detail: `build ${options.buildUuid}` });
    const { saved, ...outcome } = await predictBuild(predictor, options.buildUuid, options.buildName, signal, emit);
    await saved;
    for (const p of outcome.predictions) emit(predictionEvent(p));
    emit({ type: "stage", stage: "predict", state: "finished" });
    emit({
      type: "result",
      stage: "db-predict",
      summary: { build_uuid: options.buildUuid, predictions: outcome.predictions.length, skipped: outcome.skipped.length },
      lines: outcome.predictions.length === 0 ? [`No run of ${options.buildName} to predict for build uuid ${options.buildUuid}.`] : [],
    });
    return { buildUuid: options.buildUuid, ...outcome };
  });
