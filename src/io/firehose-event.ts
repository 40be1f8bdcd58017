// The gearman-subunit firehose message (as OpenStack's firehose sent it; docs/mqtt.md): topic
// `gearman-subunit/<worker host>/<namespace>/<repo>/<change>`, payload `{build_uuid, source_url, status}`.
// Anything can arrive on a broker (gerrit events on `#`, junk, truncated bytes), so nothing is trusted:
// every payload becomes either an event or a reason it was skipped. The original crashed here (docs/compatibility.md, "The MQTT listener survives what the broker sends").

export interface FirehoseEvent {
  kind: "event";
  buildUuid: string;
  sourceUrl: string | null;
  /** the subunit worker's status: whether it stored the stream, not the job's result */
  status: string | null;
  /** `namespace/repo` and change from the topic, when the topic has the documented shape */
  project: string | null;
  change: string | null;
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

type ParsedPayload = FirehoseEvent | MalformedPayload | IrrelevantPayload;

const BUILD_UUID = /^[A-Za-z0-9-]{1,64}$/;
const decoder = new TextDecoder("utf-8", { fatal: true });

export function parseFirehosePayload(topic: string, payload: Uint8Array): ParsedPayload {
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
  if (!("build_uuid" in fields)) return { kind: "irrelevant", reason: "no build_uuid in payload" };
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
