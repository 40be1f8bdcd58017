// The triage of mqtt-trainer's messages, without a broker: what each kind of message asks for.
import { describe, expect, test } from "bun:test";
import { BROKER_DROPPED_TOPIC, triageMessage, type Triage, type WorkItem } from "../src/pipeline/predict/message-triage.ts";
import { newCounts, summaryLines } from "../src/pipeline/predict/service-report.ts";

const JOB = "tempest-full";
const bytes = (value: unknown) => new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
const TOPIC = "openstack/zuul/check/openstack/nova/master/612345";

/** A build as Zuul's reporter lists it once it ran. */
function build(uuid: string, result: string | null, extra: Record<string, unknown> = {}) {
  return {
    job_name: JOB,
    voting: true,
    uuid,
    start_time: 1_700_000_000.5,
    end_time: 1_700_003_600.25,
    execute_time: 1_699_999_990,
    log_url: `https://logs.example.org/45/612345/3/check/${JOB}/${uuid.slice(0, 7)}/`,
    web_url: `https://zuul.example.org/t/openstack/build/${uuid}`,
    result,
    ...extra,
  };
}

function report(action: string, builds: unknown[], extra: Record<string, unknown> = {}) {
  return {
    timestamp: 1_700_003_700.1,
    action,
    tenant: "openstack",
    zuul_ref: "Zf8b3d7cd34f54cb396b488226589db8f",
    pipeline: "check",
    project: "openstack/nova",
    branch: "master",
    change_url: "https://review.example.org/612345",
    change: 612345,
    patchset: "3",
    ref: "refs/changes/45/612345/3",
    message: "Build succeeded.",
    enqueue_time: 1_699_999_000,
    buildset: { uuid: "f8b3d7cd34f54cb396b488226589db8f", result: "SUCCESS", builds, retry_builds: [] },
    ...extra,
  };
}

const UUID_A = "16e3e55aca984c6c9a50cc3c5b21bb83";
const UUID_B = "26e3e55aca984c6c9a50cc3c5b21bb84";

function work(t: Triage): { items: WorkItem[]; skipped: string[] } {
  if (t.kind !== "work") throw new Error(`expected work, got ${JSON.stringify(t)}`);
  return t;
}

describe("triageMessage: Zuul reporter", () => {
  test("a success report gives our job's build, with the change it ran for; other jobs are left alone", () => {
    const t = work(
      triageMessage(
        TOPIC,
        bytes(report("success", [{ ...build(UUID_B, "SUCCESS"), job_name: "openstack-tox-pep8" }, build(UUID_A, "SUCCESS")])),
        JOB,
      ),
    );
    expect(t.skipped).toEqual([]);
    expect(t.items.length).toBe(1);
    const item = t.items[0]!;
    if (item.kind !== "zuul") throw new Error("not a Zuul item");
    expect(item.key).toBe(`zuul:${UUID_A}`);
    expect(item.zuul).toEqual({
      tenant: "openstack",
      pipeline: "check",
      project: "openstack/nova",
      change: "612345",
      patchset: "3",
      buildset: "f8b3d7cd34f54cb396b488226589db8f",
      job: JOB,
      result: "SUCCESS",
    });
    expect(item.run).toMatchObject({
      id: UUID_A,
      status: 0,
      logRoot: `https://logs.example.org/45/612345/3/check/${JOB}/16e3e55/`,
      runAt: "2023-11-14 22:13:20",
    });
  });

  test("FAILURE and TIMED_OUT are failed runs; several builds of our job in one buildset each become an item", () => {
    const t = work(triageMessage(TOPIC, bytes(report("failure", [build(UUID_A, "FAILURE"), build(UUID_B, "TIMED_OUT")])), JOB));
    expect(t.items.map((i) => (i.kind === "zuul" ? [i.run.id, i.run.status, i.zuul.result] : null))).toEqual([
      [UUID_A, 1, "FAILURE"],
      [UUID_B, 1, "TIMED_OUT"],
    ]);
  });

  test.each([
    ["no log URL", build(UUID_A, "SUCCESS", { log_url: null }), /has no log_url/],
    ["a file:// log URL", build(UUID_A, "FAILURE", { log_url: "file:///etc/" }), /log_url is not an http\(s\) URL/],
    ["a bare path as log URL", build(UUID_A, "FAILURE", { log_url: "/var/lib/zuul/builds/" }), /log_url is not an http\(s\) URL/],
    ["a result that is not a test outcome", build(UUID_A, "POST_FAILURE"), /result POST_FAILURE is not a test outcome/],
    ["a uuid that is a path", build("../../etc/passwd", "SUCCESS"), /not a Zuul build \(uuid/],
  ])("a build of ours with %s is skipped with its reason, not fetched", (_name, b, reason) => {
    const t = work(triageMessage(TOPIC, bytes(report("success", [b])), JOB));
    expect(t.items).toEqual([]);
    expect(t.skipped.length).toBe(1);
    expect(t.skipped[0]).toMatch(reason);
  });

  test("a start report (jobs not run yet) and a report without our job are not for us", () => {
    const start = report("start", [{ job_name: JOB, voting: true }]);
    expect(triageMessage(TOPIC, bytes(start), JOB)).toEqual({ kind: "irrelevant", reason: `Zuul start report: ${JOB} has not run yet` });
    const other = report("success", [{ ...build(UUID_A, "SUCCESS"), job_name: "openstack-tox-py311" }]);
    expect(triageMessage(TOPIC, bytes(other), JOB).kind).toBe("irrelevant");
  });

  test.each([
    ["builds that are not a list", report("success", []), { buildset: { uuid: "x", builds: "all" } }, /buildset\.builds/],
    ["a change that is an object", report("success", [build(UUID_A, "SUCCESS")]), { change: { number: 1 } }, /field change/],
    ["no tenant", report("success", [build(UUID_A, "SUCCESS")]), { tenant: undefined }, /field tenant/],
    ["a build without job name", report("success", [{ uuid: UUID_A }]), {}, /buildset\.builds\.0\.job_name/],
    ["a buildset uuid with a slash", report("success", []), { buildset: { uuid: "a/b", builds: [] } }, /buildset\.uuid/],
  ])("%s is malformed, naming the field", (_name, base, patch, reason) => {
    const t = triageMessage(TOPIC, bytes({ ...base, ...patch }), JOB);
    expect(t.kind).toBe("malformed");
    expect(t.kind === "malformed" && t.reason).toMatch(reason);
  });

  test("a buildset of more than 1000 builds is malformed, not walked", () => {
    const builds = Array.from({ length: 1001 }, (_, i) => ({ job_name: `job-${i}` }));
    expect(triageMessage(TOPIC, bytes(report("success", builds)), JOB).kind).toBe("malformed");
  });
});

describe("triageMessage: firehose and broker", () => {
  test("a gearman-subunit event is a build to look up, keyed by build", () => {
    const t = work(
      triageMessage("gearman-subunit/w01/openstack/nova/612345", bytes({ build_uuid: UUID_A, source_url: "x", status: "success" }), JOB),
    );
    expect(t.items).toEqual([{ kind: "firehose", key: `firehose:${UUID_A}`, buildUuid: UUID_A }]);
  });

  test("junk is malformed, a gerrit event irrelevant", () => {
    expect(triageMessage(TOPIC, bytes("Build succeeded."), JOB).kind).toBe("malformed");
    expect(triageMessage("gerrit/openstack/nova/comment-added", bytes({ type: "comment-added" }), JOB).kind).toBe("irrelevant");
  });

  test("Mosquitto's dropped-messages count is read as a number", () => {
    expect(triageMessage(BROKER_DROPPED_TOPIC, bytes("1627"), JOB)).toEqual({ kind: "broker-dropped", total: 1627 });
    expect(triageMessage(BROKER_DROPPED_TOPIC, bytes("lots"), JOB).kind).toBe("malformed");
  });
});

describe("summaryLines", () => {
  test("always says what is left in the backlog and what was dropped, and the broker's drops when there are any", () => {
    const counts = { ...newCounts(), messages: 5000, predictions: 1200, abandoned: 3000, dropped: 800, paused: 3 };
    expect(summaryLines(counts)).toEqual([
      "Stopped after 5000 events: 1200 predictions published, 0 builds skipped, 0 failed.",
      "Backlog: 3000 builds left unpredicted at stop, 800 dropped because the backlog stayed full (the broker was made to wait 3 times).",
    ]);
    expect(summaryLines({ ...counts, brokerDropped: 12 })[2]).toMatch(/^The broker dropped 12 messages while we listened/);
  });
});
