// Text shared by the plain reporter and the Ink views, so both faces say the same thing.
import type { EpochEvent, HistogramEvent, JsonValue, PredictionEvent, ProgressEvent } from "../pipeline/events.ts";
import { shown } from "./shown-text.ts";

export function formatNumber(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 0.001 || a >= 1e6)) return x.toExponential(3);
  return x.toFixed(a < 1 ? 4 : 2);
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function formatProgress(p: ProgressEvent): string {
  const parts = [`${p.stage}: ${p.done}${p.total !== null ? `/${p.total}` : ""} ${p.unit}`];
  if (p.total) parts.push(`(${Math.floor((100 * p.done) / p.total)}%)`);
  if (p.rate !== undefined) parts.push(`${formatNumber(p.rate)} ${p.unit}/s`);
  if (p.bytes !== undefined) parts.push(formatBytes(p.bytes));
  if (p.counts)
    parts.push(
      Object.entries(p.counts)
        .map(([k, v]) => `${k}=${v}`)
        .join(" "),
    );
  if (p.etaSeconds !== undefined && p.total !== null && p.done < p.total) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  return parts.join(" ");
}

function formatMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k}=${formatNumber(v)}`)
    .join(" ");
}

export function formatEpoch(e: EpochEvent): string {
  const rate = e.examplesPerSecond !== undefined ? ` ${Math.round(e.examplesPerSecond)} ex/s` : "";
  const eta = e.etaSeconds !== undefined ? ` ETA ${formatDuration(e.etaSeconds)}` : "";
  return `epoch ${e.epoch}/${e.totalEpochs} step ${e.step} ${formatMetrics(e.metrics)}${rate}${eta}`;
}

export function formatHistogram(h: HistogramEvent): string {
  const bins = h.bins.map((b) => `${shown(b.label)}:${b.counts.join("/")}`).join(" ");
  return `${h.title} [${h.series.map((s) => shown(s)).join("/")}] ${bins}`;
}

/** `build` "short" gives the 7 characters Zuul's build_short_uuid has; "none" leaves the build out. */
export function formatPrediction(p: PredictionEvent, build: "full" | "short" | "none" = "full"): string {
  const prob = p.probabilities[p.predictedClass];
  // Run and build ids and class names come from the database or an MQTT payload.
  const parts = [`${shown(p.runUuid)}: predicted ${shown(p.predictedClass)}`];
  if (prob !== undefined) parts.push(`(p=${prob.toFixed(3)})`);
  if (p.actualClass !== undefined) parts.push(`actual ${shown(p.actualClass)}`);
  if (p.buildUuid && build !== "none") parts.push(`build ${shown(build === "short" ? p.buildUuid.slice(0, 7) : p.buildUuid)}`);
  if (p.latencyMs !== undefined) parts.push(`${Math.round(p.latencyMs)} ms`);
  return parts.join(" ");
}

export function formatValue(v: JsonValue): string {
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "string") return shown(v);
  return JSON.stringify(v);
}
