// A Zuul on loopback (Bun.serve, port 0): the builds API (`/api/tenant/TENANT/builds`, `/build/UUID`) answering
// in Zuul's own shapes (flat before Zuul 10, `ref: {…}` nested after), and a log server under /logs with each
// build's dstat file (a real devstack trace from tests/fixtures) and zuul-info/inventory.yaml. One-shot
// faults can be queued per path; every request is recorded.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURE_DSTAT_GZ = readFileSync(
  join(import.meta.dir, "..", "fixtures", "openstack-devstack-focal-rax-dfw-20211021.dstat-csv_log.txt.gz"),
);
export const FIXTURE_DSTAT_TEXT = readFileSync(join(import.meta.dir, "..", "fixtures", "openstack-devstack-focal-rax-dfw-20211021.csv"));

export interface BuildSpec {
  uuid: string;
  job: string;
  result: string | null;
  /** epoch ms of the start */
  start: number;
  provider: string;
  label: string;
  /** where under the log root the dstat file is; null for a build whose logs have none */
  dstatPath: string | null;
  /** false: the build has no log_url at all */
  hasLogs?: boolean;
  /** Zuul 10's nested `ref` shape instead of the flat one */
  nested?: boolean;
  project?: string;
  pipeline?: string;
  branch?: string;
  change?: number;
}

export interface TestZuul {
  url: string;
  /** the API root of a tenant, as --zuul-url takes it */
  api(tenant?: string): string;
  builds: BuildSpec[];
  /** answered once, in order, before the normal answer, for requests whose path starts with the key */
  faults: Map<string, (() => Response)[]>;
  /** path and query of every request, in order */
  requests: string[];
  /** the Authorization header of every request, in the same order */
  authorizations: (string | null)[];
  /** wait this long before answering a log file */
  logLatencyMs: number;
  stop(): void;
}

const zuulTime = (ms: number) => new Date(ms).toISOString().slice(0, 19);

/** A build as Zuul's API answers it. */
export function apiBuild(b: BuildSpec, logsUrl: string): Record<string, unknown> {
  const change = b.change ?? 900000 + Number.parseInt(b.uuid.slice(-4), 16);
  const ref = {
    project: b.project ?? "openstack/nova",
    branch: b.branch ?? "master",
    change,
    patchset: "2",
    ref: `refs/changes/${String(change).slice(-2)}/${change}/2`,
    ref_url: `https://review.example.org/${change}`,
  };
  const common = {
    _id: Number.parseInt(b.uuid.slice(-6), 16),
    uuid: b.uuid,
    job_name: b.job,
    result: b.result,
    held: false,
    start_time: zuulTime(b.start),
    end_time: zuulTime(b.start + 3600_000),
    duration: 3600.0,
    voting: true,
    log_url: b.hasLogs === false ? null : `${logsUrl}/${b.uuid}/`,
    nodeset: "ubuntu-jammy",
    error_detail: null,
    final: true,
    artifacts: [],
    pipeline: b.pipeline ?? "gate",
    event_id: "40d9b63d749c48eabb3d7918cfab0d31",
    buildset: { uuid: `bs${b.uuid}` },
  };
  return b.nested ? { ...common, ref } : { ...common, ...ref, ref: ref.ref };
}

export function inventoryYaml(b: BuildSpec): string {
  return `all:
  hosts:
    controller:
      ansible_connection: ssh
      ansible_host: 198.51.100.7
      ansible_user: zuul
      nodepool:
        az: nova
        cloud: ${b.provider.split("-")[0]}
        external_id: 1f1e7b8e-0000-4000-8000-000000000000
        host_id: 9d1c
        interface_ip: 198.51.100.7
        label: ${b.label}
        private_ipv4: 10.0.0.7
        provider: ${b.provider}
        region: ${b.provider.split("-").slice(1).join("-").toUpperCase() || "ONE"}
  vars:
    zuul:
      build: ${b.uuid}
      job: ${b.job}
      pipeline: ${b.pipeline ?? "gate"}
      tenant: openstack
`;
}

export function serveZuul(builds: BuildSpec[]): TestZuul {
  const state: TestZuul = {
    url: "",
    api: (tenant = "openstack") => `${state.url}/api/tenant/${tenant}`,
    builds,
    faults: new Map(),
    requests: [],
    authorizations: [],
    logLatencyMs: 0,
    stop: () => server.stop(true),
  };
  const json = (value: unknown, status = 200) => Response.json(value, { status });
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 30,
    async fetch(req) {
      const url = new URL(req.url);
      const path = decodeURIComponent(url.pathname);
      state.requests.push(path + url.search);
      state.authorizations.push(req.headers.get("authorization"));
      for (const [prefix, queue] of state.faults) if (path.startsWith(prefix) && queue.length > 0) return queue.shift()!();
      const logs = /^\/logs\/([^/]+)\/(.+)$/.exec(path);
      if (logs) {
        if (state.logLatencyMs) await Bun.sleep(state.logLatencyMs);
        const build = state.builds.find((b) => b.uuid === logs[1]);
        if (!build) return new Response("<html>404</html>", { status: 404 });
        if (logs[2] === "zuul-info/inventory.yaml") return new Response(inventoryYaml(build), { headers: { "content-type": "text/yaml" } });
        if (logs[2] === build.dstatPath)
          return new Response(build.dstatPath.endsWith(".gz") ? FIXTURE_DSTAT_GZ : FIXTURE_DSTAT_TEXT, {
            headers: { "content-type": "text/plain" },
          });
        return new Response("<html>404 Not Found</html>", { status: 404 });
      }
      if (path.startsWith("/t/"))
        return new Response("<!DOCTYPE html><html><body>Zuul</body></html>", { headers: { "content-type": "text/html" } });
      const api = /^\/api\/tenant\/([^/]+)\/(builds|build\/([^/]+))$/.exec(path);
      if (!api) return json({ error: "not found" }, 404);
      if (api[1] !== "openstack") return json({ error: `Tenant ${api[1]} does not exist` }, 404);
      const logsUrl = `${state.url}/logs`;
      if (api[3]) {
        const build = state.builds.find((b) => b.uuid === api[3]);
        return build ? json(apiBuild(build, logsUrl)) : json({ error: "Build not found" }, 404);
      }
      const q = url.searchParams;
      const matches = state.builds
        .filter((b) => !q.get("job_name") || b.job === q.get("job_name"))
        .filter((b) => !q.get("project") || (b.project ?? "openstack/nova") === q.get("project"))
        .filter((b) => !q.get("pipeline") || (b.pipeline ?? "gate") === q.get("pipeline"))
        .filter((b) => !q.get("branch") || (b.branch ?? "master") === q.get("branch"))
        .sort((a, b) => b.start - a.start);
      const skip = Number(q.get("skip") ?? 0);
      const limit = Number(q.get("limit") ?? 50);
      return json(matches.slice(skip, skip + limit).map((b) => apiBuild(b, logsUrl)));
    },
  });
  state.url = `http://127.0.0.1:${server.port}`;
  return state;
}
