// What mqtt-trainer tells about the messages it took: the running counts behind the live view's line,
// and the summary at the end. Every message received is in exactly one final count, so that nothing is
// lost silently: predicted (matched), skipped, failed, duplicate, malformed, irrelevant, dropped, or left
// in the backlog when the listener stopped (abandoned); the broker's own drops are counted beside them.
import type { ProgressEvent } from "../events.ts";

export interface EventCounts {
  messages: number;
  malformed: number;
  irrelevant: number;
  /** events that added nothing: a build already waiting, every run of it already predicted, a Zuul build seen */
  duplicates: number;
  /** builds whose runs were predicted and published */
  matched: number;
  /** builds with nothing to predict for good (another build name, no log URL, no runs after every retry) */
  skipped: number;
  predictions: number;
  retries: number;
  failed: number;
  /** builds refused because the backlog stayed full for longer than the broker can be kept waiting */
  dropped: number;
  /** builds waiting in the backlog when the listener stopped */
  abandoned: number;
  /** times the backlog was full and the broker was made to hold further messages */
  paused: number;
  /** messages the broker says it dropped (all its clients) since we subscribed; Mosquitto only */
  brokerDropped: number;
}

export function newCounts(): EventCounts {
  return {
    messages: 0,
    malformed: 0,
    irrelevant: 0,
    duplicates: 0,
    matched: 0,
    skipped: 0,
    predictions: 0,
    retries: 0,
    failed: 0,
    dropped: 0,
    abandoned: 0,
    paused: 0,
    brokerDropped: 0,
  };
}

const RARE = ["retries", "failed", "dropped", "abandoned", "paused", "brokerDropped"] as const;

/** The live view's line: the usual counts always, rare ones once they happen, and the backlog now. */
export function progressEvent(counts: EventCounts, queue: { inFlight: number; queued: number }, seconds: number): ProgressEvent {
  const rare = Object.fromEntries(RARE.filter((k) => counts[k] > 0).map((k) => [k, counts[k]]));
  return {
    type: "progress",
    stage: "events",
    done: counts.messages,
    total: null,
    unit: "events",
    rate: seconds > 0 ? counts.messages / seconds : 0,
    counts: {
      matched: counts.matched,
      predictions: counts.predictions,
      skipped: counts.skipped,
      duplicates: counts.duplicates,
      irrelevant: counts.irrelevant,
      malformed: counts.malformed,
      ...rare,
      inFlight: queue.inFlight,
      backlog: queue.queued,
    },
  };
}

/** The closing lines: what was published, and where every other event went. */
export function summaryLines(counts: EventCounts): string[] {
  const lines = [
    `Stopped after ${counts.messages} events: ${counts.predictions} predictions published, ${counts.skipped} builds skipped, ${counts.failed} failed.`,
    `Backlog: ${counts.abandoned} builds left unpredicted at stop, ${counts.dropped} dropped because the backlog stayed full` +
      (counts.paused > 0 ? ` (the broker was made to wait ${counts.paused} times).` : "."),
  ];
  if (counts.brokerDropped > 0)
    lines.push(
      `The broker dropped ${counts.brokerDropped} messages while we listened (its count covers all its clients; raise its max_queued_messages, or add instances with --share-group).`,
    );
  return lines;
}
