// The Ink components of the live view. They read ViewState only; they know nothing of I/O.
// Finished things are printed once into the scrollback through <Static>; below them, one small
// region (live-frame.ts) is redrawn, sized from the terminal so Ink never has to clear the screen.
import { Box, Static, Text } from "ink";
import { useLayoutEffect, useSyncExternalStore } from "react";
import type { ResultEvent } from "../pipeline/events.ts";
import { curveLines, histogramLines } from "./chart-lines.ts";
import type { EventStore, LogItem, ViewState } from "./event-store.ts";
import { formatBytes, formatPrediction, formatValue } from "./format.ts";
import { type Line, lineWidth } from "./line.ts";
import { frameWidth, liveFrame } from "./live-frame.ts";
import { fitCommand } from "./shell-command.ts";
import { useTerminalSize } from "./terminal-size.ts";

/** Printed log items are forgotten in batches of this many (see EventStore.dropPrinted). */
const DROP_PRINTED_AT = 200;

function LineView({ line }: { line: Line }) {
  return (
    <Text wrap="truncate-end">
      {line.length === 0
        ? " "
        : line.map((s, i) => (
            <Text key={i} color={s.color} dimColor={s.dim} bold={s.bold}>
              {s.text}
            </Text>
          ))}
    </Text>
  );
}

function Lines({ lines }: { lines: Line[] }) {
  return (
    <Box flexDirection="column">
      {lines.map((l, i) => (
        <LineView key={i} line={l} />
      ))}
    </Box>
  );
}

function progressSummary(item: Extract<LogItem, { kind: "stage" }>): string {
  const p = item.progress;
  if (!p) return "";
  const counts = Object.entries(p.counts ?? {})
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`);
  return `${p.done}${p.total !== null ? `/${p.total}` : ""} ${p.unit}${counts.length > 0 ? ` (${counts.join(", ")})` : ""}`;
}

/** The summary table in a box; the closing lines and the commands to try next below it, outside. */
function ResultView({ r, width }: { r: ResultEvent; width: number }) {
  // Byte counts read better in KiB/MiB; the JSON face keeps the exact number.
  const entries = Object.entries(r.summary).map(
    ([k, v]) => [k, k === "bytes" && typeof v === "number" ? formatBytes(v) : formatValue(v)] as const,
  );
  const keyWidth = Math.min(20, Math.max(...entries.map(([k]) => k.length), 4));
  return (
    <Box flexDirection="column">
      <Box flexDirection="column" marginTop={1} borderStyle="round" paddingX={1} alignSelf="flex-start">
        <Text bold color="green">
          ✔ {r.stage}
        </Text>
        {entries.map(([k, v]) => (
          <Text key={k}>
            <Text dimColor>{k.padEnd(keyWidth)}</Text> {v}
          </Text>
        ))}
      </Box>
      {(r.lines ?? []).map((l, i) => (
        <Text key={i}>{l}</Text>
      ))}
      {(r.next ?? []).flatMap((command, i) =>
        fitCommand(command, width).map((l, j) => (
          <Text key={`${i}-${j}`} color="cyan">
            {l}
          </Text>
        )),
      )}
    </Box>
  );
}

function LogItemView({ item, width }: { item: LogItem; width: number }) {
  switch (item.kind) {
    case "stage":
      // A recap of progress: cut at the width like the redrawn lines, its figures are in the result.
      return (
        <Text color={item.stopped ? "yellow" : "green"} wrap="truncate-end">
          {item.stopped ? "■" : "✔"} {item.name}
          <Text dimColor>
            {/* The figures first: the detail (often a path) is what the width cuts. */}
            {[progressSummary(item), item.stopped ? "(stopped)" : "", item.detail ?? ""]
              .filter(Boolean)
              .map((t) => `  ${t}`)
              .join("")}
          </Text>
        </Text>
      );
    case "info":
      return <Text dimColor>{item.text}</Text>;
    case "warning":
      return <Text color="yellow">⚠ {item.text}</Text>;
    case "error":
      return <Text color="red">✖ {item.text}</Text>;
    case "prediction": {
      // One row per prediction where the width allows: the build's id is shortened, then left out.
      const forms = (["full", "short", "none"] as const).map((b) => formatPrediction(item.prediction, b));
      return <Text>{forms.find((f) => f.length <= width) ?? forms[2]}</Text>;
    }
    case "histogram":
      return <Lines lines={histogramLines(item.histogram, width)} />;
    case "curves":
      return <Lines lines={curveLines(item.epochs, width)} />;
    case "result":
      return <ResultView r={item.result} width={width} />;
  }
}

function Screen({ state, columns, lines }: { state: ViewState; columns: number; lines: Line[] }) {
  const width = frameWidth(columns);
  return (
    <>
      <Static key={state.logGeneration} items={state.log}>
        {(entry) => (
          <Box key={entry.id} width={columns}>
            <LogItemView item={entry.item} width={width} />
          </Box>
        )}
      </Static>
      <Lines lines={lines} />
    </>
  );
}

/** What the scrollback and the redrawn region show for one state, at one terminal size. */
export function StepView({ state, columns = 80, rows = 24 }: { state: ViewState; columns?: number; rows?: number }) {
  return <Screen state={state} columns={columns} lines={liveFrame(state, columns, rows)} />;
}

/** The widths of the rows last drawn in the redrawn region, for the reporter's resize clean-up. */
export interface FrameRecord {
  widths: number[];
}

export function LiveView({ store, frame }: { store: EventStore; frame: FrameRecord }) {
  const state = useSyncExternalStore(store.subscribe, store.get);
  const { columns, rows } = useTerminalSize();
  const lines = liveFrame(state, columns, rows);
  useLayoutEffect(() => {
    frame.widths = lines.map(lineWidth);
    if (state.log.length >= DROP_PRINTED_AT) store.dropPrinted(state.log.length);
  });
  return <Screen state={state} columns={columns} lines={lines} />;
}
