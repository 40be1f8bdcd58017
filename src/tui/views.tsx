// The Ink components of the live view. They read ViewState only; they know nothing of I/O.
import { Box, Text } from "ink";
import { useSyncExternalStore } from "react";
import type { EpochEvent, HistogramEvent, ProgressEvent, ResultEvent } from "../pipeline/events.ts";
import type { EventStore, ViewState } from "./event-store.ts";
import { formatBytes, formatDuration, formatNumber, formatPrediction, formatValue } from "./format.ts";

const BAR_WIDTH = 30;
const SERIES_COLOURS = ["green", "red", "cyan", "yellow", "magenta", "blue"] as const;

function Bar({ fraction, width = BAR_WIDTH, colour = "cyan" }: { fraction: number; width?: number; colour?: string }) {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return (
    <Text>
      <Text color={colour}>{"█".repeat(filled)}</Text>
      <Text dimColor>{"░".repeat(width - filled)}</Text>
    </Text>
  );
}

function ProgressLine({ p }: { p: ProgressEvent }) {
  const fraction = p.total ? p.done / p.total : 0;
  return (
    <Box flexDirection="column">
      <Box gap={1}>
        <Text bold>{p.stage.padEnd(12)}</Text>
        {p.total ? <Bar fraction={fraction} /> : null}
        <Text>
          {p.done}
          {p.total !== null ? `/${p.total}` : ""} {p.unit}
        </Text>
        {p.rate !== undefined ? <Text dimColor>{formatNumber(p.rate)}/s</Text> : null}
        {p.bytes !== undefined ? <Text dimColor>{formatBytes(p.bytes)}</Text> : null}
        {p.etaSeconds !== undefined && p.total !== null && p.done < p.total ? (
          <Text dimColor>ETA {formatDuration(p.etaSeconds)}</Text>
        ) : null}
      </Box>
      {p.counts ? (
        <Box gap={2} marginLeft={13}>
          {Object.entries(p.counts).map(([k, v]) => (
            <Text key={k}>
              {k} <Text bold>{v}</Text>
            </Text>
          ))}
        </Box>
      ) : null}
      {(p.current ?? []).slice(0, 4).map((c) => (
        <Text key={c} dimColor wrap="truncate-middle">
          {"             "}↓ {c}
        </Text>
      ))}
    </Box>
  );
}

function HistogramView({ h }: { h: HistogramEvent }) {
  const max = Math.max(1, ...h.bins.map((b) => b.counts.reduce((a, c) => a + c, 0)));
  const labelWidth = Math.max(...h.bins.map((b) => b.label.length), 4);
  return (
    <Box flexDirection="column" marginTop={1}>
      <Box gap={2}>
        <Text bold>{h.title}</Text>
        {h.series.map((name, i) => (
          <Text key={name} color={SERIES_COLOURS[i % SERIES_COLOURS.length]}>
            ■ {name}
          </Text>
        ))}
      </Box>
      {h.bins.map((b) => (
        <Box key={b.label}>
          <Text>{b.label.padStart(labelWidth)} </Text>
          {b.counts.map((c, i) => (
            <Text key={i} color={SERIES_COLOURS[i % SERIES_COLOURS.length]}>
              {"█".repeat(Math.round((c / max) * BAR_WIDTH))}
            </Text>
          ))}
          <Text dimColor> {b.counts.join("/")}</Text>
        </Box>
      ))}
    </Box>
  );
}

const SPARK = "▁▂▃▄▅▆▇█";

function sparkline(values: number[], width = 40): string {
  const vs = values.slice(-width);
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  return vs.map((v) => SPARK[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (SPARK.length - 1))]).join("");
}

function EpochView({ epochs }: { epochs: EpochEvent[] }) {
  const last = epochs[epochs.length - 1];
  if (!last) return null;
  const keys = Object.keys(last.metrics);
  return (
    <Box flexDirection="column" marginTop={1}>
      <Box gap={2}>
        <Text bold>
          epoch {last.epoch}/{last.totalEpochs}
        </Text>
        <Bar fraction={last.epoch / Math.max(1, last.totalEpochs)} width={20} colour="green" />
        <Text>step {last.step}</Text>
        {last.examplesPerSecond !== undefined ? <Text dimColor>{Math.round(last.examplesPerSecond)} ex/s</Text> : null}
        {last.etaSeconds !== undefined ? <Text dimColor>ETA {formatDuration(last.etaSeconds)}</Text> : null}
      </Box>
      {keys.map((k) => (
        <Box key={k} gap={1}>
          <Text>{k.padEnd(16)}</Text>
          <Text color="cyan">{sparkline(epochs.map((e) => e.metrics[k] ?? NaN).filter(Number.isFinite))}</Text>
          <Text bold>{formatNumber(last.metrics[k] ?? NaN)}</Text>
        </Box>
      ))}
    </Box>
  );
}

function ResultView({ r }: { r: ResultEvent }) {
  return (
    <Box flexDirection="column" marginTop={1} borderStyle="round" paddingX={1}>
      <Text bold color="green">
        ✔ {r.stage}
      </Text>
      {Object.entries(r.summary).map(([k, v]) => (
        <Text key={k}>
          {k.padEnd(20)} {formatValue(v)}
        </Text>
      ))}
      {(r.lines ?? []).map((l, i) => (
        <Text key={i}>{l}</Text>
      ))}
    </Box>
  );
}

export function StepView({ state }: { state: ViewState }) {
  return (
    <Box flexDirection="column">
      {state.stages.map((s) => (
        <Text key={s.name} color={s.state === "finished" ? "green" : "yellow"}>
          {s.state === "finished" ? "✔" : "…"} {s.name}
          {s.detail ? <Text dimColor> {s.detail}</Text> : null}
        </Text>
      ))}
      {[...state.progress.values()].map((p) => (
        <ProgressLine key={p.stage} p={p} />
      ))}
      {[...state.histograms.values()].map((h) => (
        <HistogramView key={h.name} h={h} />
      ))}
      <EpochView epochs={state.epochs} />
      {state.predictions.map((p, i) => (
        <Text key={i}>{formatPrediction(p)}</Text>
      ))}
      {state.info.map((l, i) => (
        <Text key={i} dimColor>
          {l}
        </Text>
      ))}
      {state.warnings.map((w, i) => (
        <Text key={i} color="yellow">
          ⚠ {w}
        </Text>
      ))}
      {/* Chained steps (quickstart) end many times: earlier outcomes shrink to a line, the last one gets the box. */}
      {state.results.slice(0, -1).map((r, i) => (
        <Text key={i} color="green">
          ✔ {r.stage}{" "}
          <Text dimColor>
            {Object.entries(r.summary)
              .slice(0, 4)
              .map(([k, v]) => `${k}=${formatValue(v)}`)
              .join(" ")}
          </Text>
        </Text>
      ))}
      {state.results.length > 0 ? <ResultView r={state.results[state.results.length - 1]!} /> : null}
      {state.error ? <Text color="red">✖ {state.error}</Text> : null}
    </Box>
  );
}

export function LiveView({ store }: { store: EventStore }) {
  const state = useSyncExternalStore(store.subscribe, store.get);
  return <StepView state={state} />;
}
