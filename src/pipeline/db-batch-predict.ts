// `ciml db-batch-predict` (the original's, made to work): every run of the dataset's build name that the dataset does not
// contain, through the one prediction path, with the original's lines and a scored summary.
import { readRunList } from "../io/raw-cache.ts";
import type { SourceRun } from "../io/sources/run-source.ts";
import type { Emit, JsonValue, Step } from "./events.ts";
import { throwIfAborted } from "./errors.ts";
import { classReport, confusionMatrix } from "./model/metrics.ts";
import { exampleOfRun, FetchFailedError, withPredictor, PREDICTOR_DEFAULTS, type PredictorOptions } from "./predict/predict-build.ts";
import { predictExamples, predictionEvent, type RunPrediction } from "./predict/predict-run.ts";
import { wholeNumber } from "./whole-number.ts";
import { pythonSlice } from "./python-slice.ts";
import { mapLimited } from "./task-pool.ts";

export interface DbBatchPredictOptions extends PredictorOptions {
  /** python slice over the runs to predict, e.g. ":100" */
  slice: string;
  /** downloads in flight at once */
  parallel: string | number;
}

/** What a command-line user gets without the flag; the one place these defaults are written. */
export const DB_BATCH_PREDICT_DEFAULTS = {
  ...PREDICTOR_DEFAULTS,
  slice: ":",
  parallel: 8,
} satisfies Partial<DbBatchPredictOptions>;

export interface DbBatchPredictResult {
  allRuns: number;
  datasetSize: number;
  predictions: RunPrediction[];
  /** runs that could not be predicted (no dstat file, columns missing), with why */
  unusable: string[];
  /** accuracy over the predictions whose actual class is known; null when none is */
  accuracy: number | null;
  confusionMatrix: number[][];
  classes: string[];
}

/** Runs predicted per model call: amortises the call, bounds memory. */
const CHUNK = 256;

export const dbBatchPredict: Step<DbBatchPredictOptions, DbBatchPredictResult> = (options, { emit, signal }) =>
  withPredictor(options, { emit, signal }, async (p) => {
    const parallel = wholeNumber("--parallel", options.parallel, 1, 256);
    const inDataset = new Set(await readRunList(p.ws.store, p.ws.datasetFile(p.dataset, "runs.json.gz")));
    emit({ type: "stage", stage: "query", state: "started", detail: `runs of ${p.config.build_name}` });
    let allRuns = 0;
    const candidates: SourceRun[] = [];
    for await (const item of p.source.list(p.config.build_name, { signal }).items) {
      throwIfAborted(signal);
      if (item.kind === "excluded") continue;
      allRuns++;
      if (!inDataset.has(item.run.id)) candidates.push(item.run);
    }
    emit({ type: "stage", stage: "query", state: "finished" });
    const toPredict = pythonSlice(candidates, options.slice, "--slice");
    const empty = {
      allRuns,
      datasetSize: inDataset.size,
      predictions: [],
      unusable: [],
      accuracy: null,
      confusionMatrix: [],
      classes: p.model.classes,
    };
    if (toPredict.length === 0) {
      emit({ type: "info", message: "Empty prediction set, nothing to do." });
      return empty;
    }
    emit({ type: "info", message: `All runs: ${allRuns}, dataset size: ${inDataset.size}, predict size: ${toPredict.length}` });

    const predictions: RunPrediction[] = [];
    const unusable: string[] = [];
    const started = performance.now();
    let fetched = 0;
    const progress = (done: number) => {
      const rate = done / ((performance.now() - started) / 1000);
      emit({
        type: "progress",
        stage: "predict",
        done,
        total: toPredict.length,
        unit: "runs",
        rate,
        etaSeconds: (toPredict.length - done) / rate,
        counts: { predicted: predictions.length, unusable: unusable.length },
      });
    };
    emit({ type: "stage", stage: "predict", state: "started", detail: `${toPredict.length} runs` });
    for (let start = 0; start < toPredict.length; start += CHUNK) {
      const chunk = toPredict.slice(start, start + CHUNK);
      await p.refreshModel();
      // A run whose download keeps failing is reported and left out, not the end of the batch. Any other
      // error (the database gone, a bug) would fail the remaining runs alike: it ends the command. The
      // downloads are most of a batch's time, so each one finished moves the progress.
      const examples = await mapLimited(chunk, parallel, (run) =>
        exampleOfRun(p, run, signal)
          .catch((err: unknown) => {
            if (!(err instanceof FetchFailedError)) throw err;
            return { kind: "unusable" as const, runUuid: run.id, reason: err.message, downloaded: false };
          })
          .finally(() => progress(++fetched)),
      );
      throwIfAborted(signal);
      await p.found.add(
        p.config.build_name,
        examples.filter((e) => e.downloaded).map((e) => e.runUuid),
      );
      for (const e of examples)
        if (e.kind === "unusable") {
          unusable.push(e.reason);
          emit({ type: "warning", subject: e.runUuid, message: e.reason });
        }
      const chunkPredictions = predictExamples(
        p,
        examples.filter((e) => e.kind === "example"),
      );
      for (const pr of chunkPredictions) {
        predictions.push(pr);
        emit(predictionEvent(pr));
      }
      progress(Math.min(start + CHUNK, toPredict.length));
    }
    emit({ type: "stage", stage: "predict", state: "finished" });
    return report(p.model.classes, allRuns, inDataset.size, predictions, unusable, emit);
  });

function report(
  classes: string[],
  allRuns: number,
  datasetSize: number,
  predictions: RunPrediction[],
  unusable: string[],
  emit: Emit,
): DbBatchPredictResult {
  const lines = [`Prediction of ${predictions.length} inputs completed.`];
  const known = predictions.filter((p) => p.actualClass !== null && classes.includes(p.actualClass));
  const composition = classes.map((c) => `${known.filter((p) => p.actualClass === c).length} ${classDisplay(classes, c)}`);
  lines.push(`Input set composition: ${composition.join(", ")}`);
  const errors = known.filter((p) => p.predictedClass !== p.actualClass);
  lines.push(
    errors.length > 0
      ? `There were some prediction errors: [${errors.map((p) => `(${p.predictedClass}, ${p.actualClass})`).join(", ")}]`
      : "All predicted correctly.",
  );
  const index = new Map(classes.map((c, i) => [c, i]));
  const cm = confusionMatrix(
    Int32Array.from(known, (p) => index.get(p.actualClass!)!),
    Int32Array.from(known, (p) => index.get(p.predictedClass)!),
    classes.length,
  );
  const accuracy = known.length > 0 ? (known.length - errors.length) / known.length : null;
  const summary: Record<string, JsonValue> = {
    all_runs: allRuns,
    dataset_size: datasetSize,
    predicted: predictions.length,
    unusable: unusable.length,
    accuracy,
    classes,
    confusion_matrix: cm,
  };
  classes.forEach((c, i) => {
    const r = classReport(cm, i);
    summary[`precision_${c}`] = r.precision;
    summary[`recall_${c}`] = r.recall;
  });
  emit({ type: "result", stage: "db-batch-predict", summary, lines });
  return { allRuns, datasetSize, predictions, unusable, accuracy, confusionMatrix: cm, classes };
}

/** status classes read as the original printed them (0 passed, 1 failed); other labels as they are. */
function classDisplay(classes: string[], c: string): string {
  if (classes.length === 2 && classes[0] === "0" && classes[1] === "1") return c === "0" ? "PASS" : "FAIL";
  return c;
}
