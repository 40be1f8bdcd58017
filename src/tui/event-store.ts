// What the live view shows, folded from the event stream. Pure, so views and tests share it.
import type { EpochEvent, HistogramEvent, PipelineEvent, PredictionEvent, ProgressEvent, ResultEvent } from "../pipeline/events.ts";

export interface ViewState {
  stages: { name: string; state: "started" | "finished"; detail?: string }[];
  progress: Map<string, ProgressEvent>;
  info: string[];
  warnings: string[];
  histograms: Map<string, HistogramEvent>;
  epochs: EpochEvent[];
  predictions: PredictionEvent[];
  results: ResultEvent[];
  error: string | null;
}

const KEEP_LINES = 6;
const KEEP_PREDICTIONS = 8;

export function emptyState(): ViewState {
  return {
    stages: [],
    progress: new Map(),
    info: [],
    warnings: [],
    histograms: new Map(),
    epochs: [],
    predictions: [],
    results: [],
    error: null,
  };
}

export function reduce(s: ViewState, e: PipelineEvent): ViewState {
  switch (e.type) {
    case "stage": {
      const stages = s.stages.filter((x) => x.name !== e.stage);
      stages.push({ name: e.stage, state: e.state, detail: e.detail });
      // A new training run (quickstart trains several) starts its own curves.
      const epochs = e.state === "started" && e.training ? [] : s.epochs;
      return { ...s, stages, epochs };
    }
    case "progress":
      return { ...s, progress: new Map(s.progress).set(e.stage, e) };
    case "info":
      return { ...s, info: [...s.info, e.message].slice(-KEEP_LINES) };
    case "warning":
      return { ...s, warnings: [...s.warnings, e.message].slice(-KEEP_LINES) };
    case "histogram":
      return { ...s, histograms: new Map(s.histograms).set(e.name, e) };
    case "epoch":
      return { ...s, epochs: [...s.epochs, e] };
    case "prediction":
      return { ...s, predictions: [...s.predictions, e].slice(-KEEP_PREDICTIONS) };
    case "result":
      return { ...s, results: [...s.results, e] };
  }
}

/** A tiny external store for React's useSyncExternalStore. */
export class EventStore {
  private state = emptyState();
  private listeners = new Set<() => void>();

  push(e: PipelineEvent): void {
    this.state = reduce(this.state, e);
    this.notify();
  }
  fail(message: string): void {
    this.state = { ...this.state, error: message };
    this.notify();
  }
  get = (): ViewState => this.state;
  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };
  private notify(): void {
    for (const fn of this.listeners) fn();
  }
}
