import { describe, expect, test } from "bun:test";
import { parseFirehosePayload } from "../src/io/firehose-event.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const TOPIC = "gearman-subunit/subunit-worker01/openstack/nova/612345";

describe("parseFirehosePayload", () => {
  test("reads the subunit worker's message and the project and change from the topic", () => {
    const payload = {
      status: "success",
      build_uuid: "45f7c1ddbfd74c6aba94662623bd61b8",
      source_url: "http://logs.example.org/45/612345/3/gate/tempest-full/45f7c1d/logs/testrepository.subunit",
    };
    expect(parseFirehosePayload(TOPIC, bytes(JSON.stringify(payload)))).toEqual({
      kind: "event",
      buildUuid: "45f7c1ddbfd74c6aba94662623bd61b8",
      sourceUrl: payload.source_url,
      status: "success",
      project: "openstack/nova",
      change: "612345",
    });
  });

  test("accepts an event on a topic of another shape (a private broker's '#')", () => {
    const parsed = parseFirehosePayload("ci/events", bytes('{"build_uuid": "abc-123"}'));
    expect(parsed).toMatchObject({ kind: "event", buildUuid: "abc-123", project: null, change: null, status: null });
  });

  test.each([
    ["not JSON", "Build succeeded.", /not JSON/],
    ["truncated JSON", '{"build_uuid": "45f7', /not JSON/],
    ["a JSON list", '["45f7c1dd"]', /not an object/],
    ["a JSON string", '"45f7c1dd"', /not an object/],
    ["a numeric build_uuid", '{"build_uuid": 42}', /not a UUID/],
    ["a build_uuid with a path in it", '{"build_uuid": "../../etc/passwd"}', /not a UUID/],
    ["an empty build_uuid", '{"build_uuid": ""}', /not a UUID/],
  ])("%s is malformed", (_name, text, reason) => {
    const parsed = parseFirehosePayload(TOPIC, bytes(text));
    expect(parsed.kind).toBe("malformed");
    expect(parsed.kind === "malformed" && parsed.reason).toMatch(reason);
  });

  test("bytes that are not UTF-8 are malformed", () => {
    expect(parseFirehosePayload(TOPIC, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toEqual({
      kind: "malformed",
      reason: "payload is not UTF-8",
    });
  });

  test("a gerrit event (no build_uuid) is irrelevant, not malformed", () => {
    const gerrit = { type: "comment-added", author: { username: "zuul" }, change: { project: "openstack/nova", number: "612345" } };
    expect(parseFirehosePayload("gerrit/openstack/nova/comment-added", bytes(JSON.stringify(gerrit)))).toEqual({
      kind: "irrelevant",
      reason: "no build_uuid or buildset in payload",
    });
  });

  test('status "failed" (nothing stored in subunit2sql) is irrelevant', () => {
    const parsed = parseFirehosePayload(TOPIC, bytes('{"status": "failed", "build_uuid": "45f7c1dd", "source_url": "x"}'));
    expect(parsed.kind).toBe("irrelevant");
  });
});
