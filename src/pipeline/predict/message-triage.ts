// What one MQTT message asks of mqtt-trainer, decided without a broker, a model or a network: the work
// items it brings (a firehose build to look up, or Zuul builds to fetch), the builds of ours it names that
// cannot be predicted and why, or why the whole message is not for us. Pure, so every kind of message is
// tested as a plain function call; firehose-service.ts does what this decides.
import { parseFirehosePayload } from "../../io/firehose-event.ts";
import { CimlError } from "../errors.ts";
import type { SourceRun } from "../../io/sources/run-source.ts";
import { zuulBuildItem, type ZuulContext } from "../../io/sources/zuul-build.ts";
import type { ZuulReport } from "../../io/zuul-report.ts";

/** Mosquitto's count of messages it dropped (queues full), republished every `sys_interval` seconds. */
export const BROKER_DROPPED_TOPIC = "$SYS/broker/publish/messages/dropped";

/** The change a Zuul build ran for, as published beside its prediction. */
export interface ZuulBuildContext {
  tenant: string;
  pipeline: string;
  project: string;
  change: string | null;
  patchset: string | null;
  buildset: string | null;
  job: string;
  /** Zuul's own result (SUCCESS, FAILURE, TIMED_OUT) */
  result: string;
}

/**
 * One unit of work. `key` identifies it for deduplication: a Zuul build is predicted once (its message
 * holds everything); a firehose build is looked up again on every event, because each event may announce
 * another run of it, and its runs are deduplicated when they are found.
 */
export type WorkItem =
  | { kind: "firehose"; key: string; buildUuid: string }
  | { kind: "zuul"; key: string; run: SourceRun; zuul: ZuulBuildContext };

export type Triage =
  | { kind: "malformed"; reason: string }
  | { kind: "irrelevant"; reason: string }
  | { kind: "broker-dropped"; total: number }
  /** `skipped`: one line per build of ours that cannot be predicted (no log URL, not a test outcome, …) */
  | { kind: "work"; items: WorkItem[]; skipped: string[] };

export function triageMessage(topic: string, payload: Uint8Array, buildName: string): Triage {
  if (topic === BROKER_DROPPED_TOPIC) {
    const total = Number(new TextDecoder().decode(payload));
    return Number.isSafeInteger(total) && total >= 0
      ? { kind: "broker-dropped", total }
      : { kind: "malformed", reason: `${BROKER_DROPPED_TOPIC} is not a count` };
  }
  const parsed = parseFirehosePayload(topic, payload);
  switch (parsed.kind) {
    case "malformed":
    case "irrelevant":
      return parsed;
    case "event":
      return { kind: "work", items: [{ kind: "firehose", key: `firehose:${parsed.buildUuid}`, buildUuid: parsed.buildUuid }], skipped: [] };
    case "zuul-report":
      return triageZuulReport(parsed.report, buildName);
  }
}

function triageZuulReport(report: ZuulReport, buildName: string): Triage {
  const ours = report.buildset.builds.filter((b) => b.job_name === buildName);
  if (ours.length === 0) return { kind: "irrelevant", reason: `Zuul ${report.action} report without a build of ${buildName}` };
  // A start report lists the jobs before they ran: nothing to fetch yet, the success/failure report follows.
  const ran = ours.filter((b) => b.uuid !== undefined && b.uuid !== null);
  if (ran.length === 0) return { kind: "irrelevant", reason: `Zuul ${report.action} report: ${buildName} has not run yet` };
  const context: ZuulContext = {
    project: report.project,
    branch: report.branch,
    change: report.change,
    patchset: report.patchset,
    pipeline: report.pipeline,
  };
  const items: WorkItem[] = [];
  const skipped: string[] = [];
  for (const raw of ran) {
    let item: ReturnType<typeof zuulBuildItem>;
    try {
      item = zuulBuildItem(raw, { context, where: `Zuul report of buildset ${report.buildset.uuid ?? "(no uuid)"}` });
    } catch (err) {
      if (!(err instanceof CimlError)) throw err;
      skipped.push(err.message);
      continue;
    }
    if (item.kind === "excluded") {
      skipped.push(item.reason);
      continue;
    }
    items.push({
      kind: "zuul",
      key: `zuul:${item.run.id}`,
      run: item.run,
      zuul: {
        tenant: report.tenant,
        pipeline: report.pipeline,
        project: report.project,
        change: report.change,
        patchset: report.patchset,
        buildset: report.buildset.uuid ?? null,
        job: raw.job_name,
        // zuulBuildItem admitted the build, so its result is one of the mapped strings.
        result: String(raw.result),
      },
    });
  }
  return { kind: "work", items, skipped };
}
