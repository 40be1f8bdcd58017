// What arrives on the broker, sorted by shape. Two publishers matter: the gearman-subunit firehose
// (topic `gearman-subunit/<worker host>/<namespace>/<repo>/<change>`, payload `{build_uuid, source_url,
// status}`) and Zuul's MQTT reporter (a buildset with its builds, see zuul-report.ts). Anything can arrive
// on a broker (gerrit events on `#`, junk, truncated bytes), so nothing is trusted: every payload becomes
// an event, a Zuul report, or a reason it was skipped. The original crashed on junk here.
import { looksLikeZuulReport, parseZuulReport, type ZuulReport } from "./zuul-report.ts";

interface FirehoseEvent {
  kind: "event";
  buildUuid: string;
  sourceUrl: string | null;
  /** the subunit worker's status: whether it stored the stream, not the job's result */
  status: string | null;
  /** `namespace/repo` and change from the topic, when the topic has the documented shape */
  project: string | null;
  change: string | null;
}

/** A buildset reported by Zuul's MQTT reporter, validated. */
interface ZuulReportPayload {
  kind: "zuul-report";
  report: ZuulReport;
}

/** Bytes that are not a JSON object: a broken publisher. */
interface MalformedPayload {
  kind: "malformed";
  reason: string;
}

/** A well-formed message that is not for us (another service's event, a failed subunit store). */
interface IrrelevantPayload {
  kind: "irrelevant";
  reason: string;
}

type ParsedPayload = FirehoseEvent | ZuulReportPayload | MalformedPayload | IrrelevantPayload;

const BUILD_UUID = /^[A-Za-z0-9-]{1,64}$/;
const decoder = new TextDecoder("utf-8", { fatal: true });
/** A Zuul report of a large buildset with artifacts runs to a few hundred KiB; more is not a report. */
const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;

export function parseFirehosePayload(topic: string, payload: Uint8Array): ParsedPayload {
  if (payload.length > MAX_PAYLOAD_BYTES)
    return { kind: "malformed", reason: `payload of ${payload.length} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit` };
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    return { kind: "malformed", reason: "payload is not UTF-8" };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "malformed", reason: `payload is not JSON: ${preview(text)}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "malformed", reason: `payload is JSON but not an object: ${preview(text)}` };
  }
  const fields = value as Record<string, unknown>;
  if (looksLikeZuulReport(fields)) {
    const report = parseZuulReport(fields);
    return typeof report === "string" ? { kind: "malformed", reason: report } : { kind: "zuul-report", report };
  }
  if (!("build_uuid" in fields)) return { kind: "irrelevant", reason: "no build_uuid or buildset in payload" };
  const buildUuid = fields.build_uuid;
  if (typeof buildUuid !== "string" || !BUILD_UUID.test(buildUuid)) {
    return { kind: "malformed", reason: `build_uuid ${preview(JSON.stringify(buildUuid) ?? "undefined")} is not a UUID` };
  }
  const status = typeof fields.status === "string" ? fields.status : null;
  // "failed" means the worker could not write the subunit stream, so the database has no run to predict.
  if (status === "failed") return { kind: "irrelevant", reason: `build ${buildUuid}: subunit worker reported status "failed"` };
  const levels = topic.split("/");
  const fromTopic = levels[0] === "gearman-subunit" && levels.length >= 5;
  return {
    kind: "event",
    buildUuid,
    sourceUrl: typeof fields.source_url === "string" ? fields.source_url : null,
    status,
    project: fromTopic ? `${levels[2]}/${levels[3]}` : null,
    change: fromTopic ? (levels[4] ?? null) : null,
  };
}

function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, " ");
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine;
}
