// Zuul's builds API as a run source: `GET …/builds` paged newest first with the job name and the optional
// project, pipeline and branch filters, and `GET …/build/UUID` for one build. Every answer is checked
// before use; a build that is not a test outcome, or has no logs, is listed as excluded with its reason.
import { z } from "zod";
import { CimlError } from "../ciml-error.ts";
import { DEFAULT_ZUUL_HTTP, ZuulApi, zuulApiRoot, type ZuulHttpPolicy } from "./zuul-api.ts";
import { DEFAULT_RESULT_MAP, parseZuulBuild, ZUUL_DSTAT_PATHS, zuulBuildItem, type ResultMap, type ZuulBuild } from "./zuul-build.ts";
import type { RunListing, RunSource, SourceItem } from "./run-source.ts";

interface ZuulSourceOptions {
  /** https://HOST/api/tenant/TENANT */
  url: string;
  project?: string;
  pipeline?: string;
  branch?: string;
  /** bearer token (CIML_ZUUL_TOKEN); sent to the API host only, never printed */
  token?: string;
  resultMap?: ResultMap;
  /** builds per page */
  pageSize?: number;
  /** pages read at most in one listing: a bound on a server that never stops answering */
  maxPages?: number;
  http?: Partial<ZuulHttpPolicy>;
}

/** Zuul answers a builds page as a JSON list; each build is checked on its own by zuulBuildItem. */
const pageSchema = z.array(z.unknown()).max(10_000);

const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_MAX_PAGES = 2000;
const BUILD_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function openZuulSource(options: ZuulSourceOptions): RunSource & { api: ZuulApi } {
  const api = new ZuulApi(zuulApiRoot(options.url), options.token, { ...DEFAULT_ZUUL_HTTP, ...options.http });
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  const resultMap = options.resultMap ?? DEFAULT_RESULT_MAP;
  const filters = { project: options.project, pipeline: options.pipeline, branch: options.branch };
  const context = { project: options.project, pipeline: options.pipeline, branch: options.branch };
  const filterText = Object.entries(filters)
    .filter(([, v]) => v)
    .map(([k, v]) => ` ${k}=${v}`)
    .join("");

  const query = (buildName: string, skip: number) => {
    const q = new URLSearchParams({ job_name: buildName });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    q.set("complete", "true");
    q.set("limit", String(pageSize));
    q.set("skip", String(skip));
    return `builds?${q}`;
  };

  /** Yields every build of every page; returns false when it stopped at the page bound, not at the end. */
  async function* pages(buildName: string, signal: AbortSignal): AsyncGenerator<{ raw: unknown; where: string }, boolean> {
    for (let page = 0; page < maxPages; page++) {
      const path = query(buildName, page * pageSize);
      const parsed = pageSchema.safeParse(await api.getJson(path, signal));
      if (!parsed.success) throw new CimlError(`Zuul at ${api.root}: the answer to ${path} is not a list of builds`);
      for (const raw of parsed.data) yield { raw, where: `Zuul at ${api.root}: ${path}` };
      if (parsed.data.length < pageSize) return true;
    }
    return false;
  }

  /** A build of a page; one that does not have Zuul's shape is counted, as LogJuicer skips them, not fatal. */
  const itemOf = (raw: unknown, where: string): { id: string; jobName?: string; item: SourceItem } => {
    let build: ZuulBuild;
    try {
      build = parseZuulBuild(raw, where);
    } catch (err) {
      const id = `malformed-${Bun.hash(JSON.stringify(raw) ?? "").toString(16)}`;
      return { id, item: { kind: "excluded", id, tally: "malformed build", reason: (err as Error).message } };
    }
    return { id: build.uuid, jobName: build.job_name, item: zuulBuildItem(build, { context, resultMap }) };
  };

  return {
    api,
    description: `Zuul ${api.root}${filterText ? ` (${filterText.trim()})` : ""}`,
    dstatPaths: ZUUL_DSTAT_PATHS,
    count: async () => null,
    emptyMessage: (buildName) =>
      `Zuul at ${api.root} has no completed builds of job ${buildName}${filterText ? ` with${filterText}` : ""}; check --build-name (the job name) and the filters`,
    list(buildName, { since, signal }): RunListing {
      let newest: string | undefined;
      let complete = false;
      async function* items(): AsyncGenerator<SourceItem> {
        // Paging by offset while builds finish shifts later pages: a build can come twice, never be missed.
        const seen = new Set<string>();
        const all = pages(buildName, signal);
        for (let next = await all.next(); ; next = await all.next()) {
          if (next.done) {
            // Stopped by the page bound: the older builds were not seen, so no mark may skip them next time.
            complete = next.value;
            return;
          }
          const item = itemOf(next.value.raw, next.value.where);
          if (item.id === since) break;
          newest ??= item.id;
          if (seen.has(item.id)) continue;
          seen.add(item.id);
          // The API filters by job name; a server that does not is not trusted with our labels.
          if (item.jobName === buildName || item.jobName === undefined) yield item.item;
        }
        complete = true;
      }
      return { items: items(), mark: () => (complete ? (newest ?? since) : undefined) };
    },
    async runsOfBuild(buildUuid, buildName, signal) {
      if (!BUILD_ID.test(buildUuid)) return { runs: [], skipped: [`Build uuid: ${buildUuid} is not a Zuul build UUID, skipping`] };
      const path = `build/${buildUuid}`;
      const build = parseZuulBuild(await api.getJson(path, signal), `Zuul at ${api.root}: ${path}`);
      if (build.job_name !== buildName) return { runs: [], skipped: [`Build uuid: ${buildUuid} is not of proper build_name, skipping`] };
      const item = zuulBuildItem(build, { context, resultMap });
      return item.kind === "run" ? { runs: [item.run], skipped: [] } : { runs: [], skipped: [item.reason] };
    },
    close: async () => undefined,
  };
}
