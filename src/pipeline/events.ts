// The one vocabulary that the pipeline core speaks. Every face (Ink, plain lines, JSON lines, tests)
// consumes these events and nothing else, so a step never needs to know who is watching.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A stage of a step began or ended (e.g. "query", "download", "normalise"). */
export interface StageEvent {
  type: "stage";
  stage: string;
  state: "started" | "finished";
  detail?: string;
  /** this stage trains a model: the epochs that follow belong to it, so a face starts fresh curves */
  training?: boolean;
}

/** How far a stage has come. `total` is null when it is not known yet. */
export interface ProgressEvent {
  type: "progress";
  stage: string;
  done: number;
  total: number | null;
  unit: string;
  /** units per second, measured by the step */
  rate?: number;
  /** named tallies shown beside the bar, e.g. {cached: 10, unavailable: 2} */
  counts?: Record<string, number>;
  /** what is being worked on right now (URLs, run ids) */
  current?: string[];
  bytes?: number;
  etaSeconds?: number;
}

/** Something the user should know that does not stop the step. */
export interface WarningEvent {
  type: "warning";
  message: string;
  subject?: string;
}

/** A line of narration, mostly the original tool's messages that users grep for. */
export interface InfoEvent {
  type: "info";
  message: string;
}

/** A distribution to draw: bins along x, one count per series (e.g. per class) in each bin. */
export interface HistogramEvent {
  type: "histogram";
  name: string;
  title: string;
  series: string[];
  bins: { label: string; counts: number[] }[];
}

/** Metrics at the end of one training epoch. */
export interface EpochEvent {
  type: "epoch";
  epoch: number;
  totalEpochs: number;
  step: number;
  metrics: Record<string, number>;
  examplesPerSecond?: number;
  etaSeconds?: number;
}

/** One prediction made for one run. */
export interface PredictionEvent {
  type: "prediction";
  runUuid: string;
  buildUuid?: string;
  predictedClass: string;
  probabilities: Record<string, number>;
  actualClass?: string;
  latencyMs?: number;
}

/** The outcome of a step: a title, a table of figures for the summary, and the original's closing lines. */
export interface ResultEvent {
  type: "result";
  stage: string;
  summary: Record<string, JsonValue>;
  lines?: string[];
  /** shell commands the user may run next; faces print each whole, so it can be copied and pasted */
  next?: string[];
}

export type PipelineEvent =
  | StageEvent
  | ProgressEvent
  | WarningEvent
  | InfoEvent
  | HistogramEvent
  | EpochEvent
  | PredictionEvent
  | ResultEvent;

export type Emit = (event: PipelineEvent) => void;

/** What every step receives beside its options. */
export interface StepContext {
  emit: Emit;
  signal: AbortSignal;
}

/** Every pipeline step has this shape: typed options in, typed result out, events on the side. */
export type Step<Options, Result> = (options: Options, ctx: StepContext) => Promise<Result>;
