// What the live view shows, folded from the event stream. Pure, so views and tests share it.
// Two parts: `log` is what goes to the scrollback once (finished stages, narration, predictions,
// final charts, results); the rest is the one region that is redrawn while the step runs.
import type { EpochEvent, HistogramEvent, PipelineEvent, PredictionEvent, ProgressEvent, ResultEvent } from "../pipeline/events.ts";

export type LogItem =
  | { kind: "stage"; name: string; detail?: string; progress?: ProgressEvent; stopped?: boolean }
  | { kind: "info" | "warning" | "error"; text: string }
  | { kind: "prediction"; prediction: PredictionEvent }
  | { kind: "histogram"; histogram: HistogramEvent }
  | { kind: "curves"; epochs: EpochEvent[] }
  | { kind: "result"; result: ResultEvent };

export interface ViewState {
  /** Waiting for, or already given to, the scrollback; `logGeneration` changes when printed ones are dropped. */
  log: { id: number; item: LogItem }[];
  logGeneration: number;
  nextId: number;
  /** Stages started and not finished, in the order they started. */
  active: { name: string; detail?: string; training?: boolean }[];
  progress: Map<string, ProgressEvent>;
  histograms: Map<string, HistogramEvent>;
  epochs: EpochEvent[];
}

export function emptyState(): ViewState {
  return { log: [], logGeneration: 0, nextId: 0, active: [], progress: new Map(), histograms: new Map(), epochs: [] };
}

function append(s: ViewState, ...items: LogItem[]): ViewState {
  const log = [...s.log, ...items.map((item, i) => ({ id: s.nextId + i, item }))];
  return { ...s, log, nextId: s.nextId + items.length };
}

/** The charts of a step go to the scrollback once, in their final form, when the step is over. */
function flushCharts(s: ViewState): ViewState {
  const items: LogItem[] = [...s.histograms.values()].map((histogram) => ({ kind: "histogram", histogram }));
  if (s.epochs.length > 0) items.push({ kind: "curves", epochs: s.epochs });
  return { ...append(s, ...items), histograms: new Map(), epochs: [] };
}

export function reduce(s: ViewState, e: PipelineEvent): ViewState {
  switch (e.type) {
    case "stage": {
      const others = s.active.filter((x) => x.name !== e.stage);
      if (e.state === "started") {
        const next = e.training && s.epochs.length > 0 ? flushCharts(s) : s;
        return { ...next, active: [...others, { name: e.stage, detail: e.detail, training: e.training }] };
      }
      const started = s.active.find((x) => x.name === e.stage);
      const progress = new Map(s.progress);
      progress.delete(e.stage);
      const done = append(
        { ...s, active: others, progress },
        { kind: "stage", name: e.stage, detail: e.detail ?? started?.detail, progress: s.progress.get(e.stage) },
      );
      // The stage said when it started that it trains (the event carries it, not the stage's name).
      if (!started?.training || s.epochs.length === 0) return done;
      return append({ ...done, epochs: [] }, { kind: "curves", epochs: s.epochs });
    }
    case "progress":
      return { ...s, progress: new Map(s.progress).set(e.stage, e) };
    case "info":
      return append(s, { kind: "info", text: e.message });
    case "warning":
      return append(s, { kind: "warning", text: e.message });
    case "histogram":
      return { ...s, histograms: new Map(s.histograms).set(e.name, e) };
    case "epoch":
      return { ...s, epochs: [...s.epochs, e] };
    case "prediction":
      return append(s, { kind: "prediction", prediction: e });
    case "result": {
      // Progress of stages that never said they finished (a listener's event tally) ends with the step.
      const orphans = [...s.progress.values()].filter((p) => !s.active.some((a) => a.name === p.stage));
      const progress = new Map(s.progress);
      for (const p of orphans) progress.delete(p.stage);
      const closed = append({ ...s, progress }, ...orphans.map((p): LogItem => ({ kind: "stage", name: p.stage, progress: p })));
      return append(flushCharts(closed), { kind: "result", result: e });
    }
  }
}

/**
 * The step is over. After an error or Ctrl-C (`stopped`), what was under way goes to the scrollback
 * as stopped; after a success, a stage still open (a listener's connection) has nothing more to say.
 */
function settle(s: ViewState, stopped: boolean): ViewState {
  if (!stopped) return flushCharts({ ...s, active: [], progress: new Map() });
  const open = s.active.map(
    (a): LogItem => ({ kind: "stage", name: a.name, detail: a.detail, progress: s.progress.get(a.name), stopped: true }),
  );
  const orphans = [...s.progress.values()]
    .filter((p) => !s.active.some((a) => a.name === p.stage))
    .map((p): LogItem => ({ kind: "stage", name: p.stage, progress: p, stopped: true }));
  return flushCharts({ ...append(s, ...open, ...orphans), active: [], progress: new Map() });
}

/** A tiny external store for React's useSyncExternalStore. */
export class EventStore {
  private state = emptyState();
  private listeners = new Set<() => void>();

  push(e: PipelineEvent): void {
    this.set(reduce(this.state, e));
  }
  fail(message: string): void {
    this.set(append(settle(this.state, true), { kind: "error", text: message }));
  }
  close(): void {
    this.set(settle(this.state, false));
  }
  /**
   * The first `count` log items are in the scrollback: forget them, so a listener that runs for days
   * does not keep every line it printed. The new generation makes the view start a fresh <Static>.
   */
  dropPrinted(count: number): void {
    this.set({ ...this.state, log: this.state.log.slice(count), logGeneration: this.state.logGeneration + 1 });
  }
  get = (): ViewState => this.state;
  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };
  private set(state: ViewState): void {
    this.state = state;
    for (const fn of this.listeners) fn();
  }
}
