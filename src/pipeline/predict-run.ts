// The one prediction path (SPEC.md "Prediction"): db-predict, db-batch-predict and mqtt-trainer all
// turn a run into a prediction here.

/** One run's prediction, as every face and the MQTT message report it. */
export interface RunPrediction {
  runUuid: string;
  buildUuid: string | null;
  buildName: string;
  predictedClass: string;
  /** class → probability, summing to 1 */
  probabilities: Record<string, number>;
  /** the run's class by the dataset's --class-label, when its metadata has it */
  actualClass: string | null;
}
