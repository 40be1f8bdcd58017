import { describe, expect, test } from "bun:test";
import { zuulBuildItem, zuulBuildMetadata, parseZuulBuild, zuulTime } from "../src/io/sources/zuul-build.ts";
import { inventoryFacts } from "../src/io/sources/zuul-inventory.ts";

// A build as Zuul before 10 answers it (LogJuicer's zuul-build test data has this shape).
const flat = {
  uuid: "5bae5607ae964331bb5878aec0777637",
  job_name: "tempest-full-py3",
  result: "FAILURE",
  start_time: "2021-10-13T12:57:20",
  end_time: "2021-10-13T13:58:42",
  duration: 3682.0,
  voting: true,
  log_url: "https://logs.example.org/94/22894/1/gate/tempest-full-py3/5bae560/",
  artifacts: [],
  project: "openstack/nova",
  branch: "master",
  pipeline: "gate",
  change: 22894,
  patchset: "1",
  ref: "refs/changes/94/22894/1",
  ref_url: "https://review.example.org/22894",
  event_id: "40d9b63d749c48eabb3d7918cfab0d31",
};

// The same build as Zuul 10 answers it: the change moved into `ref`.
const nested = {
  _id: 23404081,
  uuid: "e09e82136d714711a5d01051bc633e65",
  job_name: "tempest-full-py3",
  result: "SUCCESS",
  held: false,
  start_time: "2024-02-13T23:17:28",
  end_time: "2024-02-13T23:39:24",
  duration: 1316.0,
  voting: false,
  log_url: "https://logs.example.org/e09/",
  nodeset: "ubuntu-jammy",
  error_detail: null,
  final: true,
  artifacts: [],
  provides: [],
  ref: {
    project: "zuul/nodepool",
    branch: "stable/2024.1",
    change: 908952,
    patchset: "3",
    ref: "refs/changes/52/908952/3",
    oldrev: null,
    newrev: null,
    ref_url: "https://review.example.org/908952",
  },
  pipeline: "check",
  event_id: "9991d429cacc495c9cde0f5dfe874f8e",
  buildset: { uuid: "338114acf62841f48d37862efc29cb87", refs: [] },
};

describe("a Zuul build as a run", () => {
  test("flat shape: metadata under the subunit2sql key names", () => {
    const item = zuulBuildItem(flat);
    expect(item.kind).toBe("run");
    if (item.kind !== "run") return;
    expect(item.run).toMatchObject({ id: flat.uuid, status: 1, logRoot: flat.log_url, runAt: "2021-10-13 12:57:20" });
    expect(zuulBuildMetadata(parseZuulBuild(flat, "t"))).toEqual({
      build_name: "tempest-full-py3",
      build_uuid: flat.uuid,
      build_short_uuid: "5bae560",
      build_change: "22894",
      build_patchset: "1",
      build_branch: "master",
      build_queue: "gate",
      project: "openstack/nova",
      voting: "1",
      run_at: "2021-10-13 12:57:20",
      result: "FAILURE",
    });
  });

  test("nested shape (Zuul 10): the change comes from ref", () => {
    const metadata = zuulBuildMetadata(parseZuulBuild(nested, "t"));
    expect(metadata).toMatchObject({
      build_change: "908952",
      build_patchset: "3",
      build_branch: "stable/2024.1",
      project: "zuul/nodepool",
      build_queue: "check",
      voting: "0",
      build_set: "338114acf62841f48d37862efc29cb87",
    });
    const item = zuulBuildItem(nested);
    expect(item.kind === "run" && item.run.status).toBe(0);
  });

  test("an MQTT reporter build: epoch times, the change from the message", () => {
    const build = { job_name: "tempest-full-py3", uuid: "abc123", result: "TIMED_OUT", start_time: 1707866248.5, log_url: "http://l/x/" };
    const item = zuulBuildItem(build, { context: { project: "openstack/nova", change: 77, patchset: 2, pipeline: "check" } });
    expect(item.kind === "run" && item.run.runAt).toBe("2024-02-13 23:17:28");
    expect(zuulBuildMetadata(parseZuulBuild(build, "t"), { project: "openstack/nova", change: 77, patchset: 2 })).toMatchObject({
      project: "openstack/nova",
      build_change: "77",
      build_patchset: "2",
    });
  });

  test("results other than SUCCESS, FAILURE, TIMED_OUT are excluded and named", () => {
    for (const result of ["POST_FAILURE", "NODE_FAILURE", "RETRY_LIMIT", "ABORTED", "SKIPPED", "CANCELED"]) {
      expect(zuulBuildItem({ ...flat, result })).toMatchObject({ kind: "excluded", tally: result });
    }
    expect(zuulBuildItem({ ...flat, result: null })).toMatchObject({ kind: "excluded", tally: "null" });
    // a flag may widen the mapping
    const widened = zuulBuildItem({ ...flat, result: "POST_FAILURE" }, { resultMap: { passed: ["SUCCESS"], failed: ["POST_FAILURE"] } });
    expect(widened.kind === "run" && widened.run.status).toBe(1);
  });

  test("no log_url, or one that is not http(s), is excluded: Zuul never makes ciml read local files", () => {
    expect(zuulBuildItem({ ...flat, log_url: null })).toMatchObject({ kind: "excluded", tally: "no log_url" });
    expect(zuulBuildItem({ ...flat, log_url: "file:///etc/" })).toMatchObject({ kind: "excluded", tally: "bad log_url" });
  });

  test("a malformed build is one line naming the field", () => {
    expect(() => zuulBuildItem({ ...flat, uuid: "../../etc" }, { where: "GET /builds" })).toThrow(/GET \/builds: not a Zuul build \(uuid/);
    expect(() => zuulBuildItem({ ...flat, job_name: 7 })).toThrow(/job_name/);
    expect(() => zuulBuildItem("nope")).toThrow(/not a Zuul build/);
  });

  test("times", () => {
    expect(zuulTime("2024-02-13T23:17:28")).toBe("2024-02-13 23:17:28");
    expect(zuulTime("2024-02-13T23:17:28+01:00")).toBe("2024-02-13 22:17:28");
    expect(zuulTime("not a time")).toBeNull();
    expect(zuulTime(null)).toBeNull();
  });
});

describe("inventory.yaml", () => {
  test("provider and label of the first host", () => {
    const text = `all:
  hosts:
    controller:
      ansible_connection: ssh
      ansible_host: 10.0.0.1
      nodepool:
        az: nova
        cloud: rax
        label: ubuntu-jammy
        provider: rax-dfw
        region: DFW
    compute1:
      nodepool:
        label: ubuntu-jammy
        provider: ovh-gra1
  vars:
    zuul:
      build: 5bae5607ae964331bb5878aec0777637
`;
    expect(inventoryFacts(text)).toEqual({ node_provider: "rax-dfw", build_node: "ubuntu-jammy" });
  });

  test("no nodepool section gives no facts; not YAML or not an inventory is a reason", () => {
    expect(inventoryFacts("all:\n  hosts:\n    fedora:\n      ansible_connection: kubectl\n")).toEqual({});
    expect(typeof inventoryFacts("all: [unclosed")).toBe("string");
    expect(inventoryFacts("just a string")).toBe("inventory has no all.hosts mapping");
  });
});
