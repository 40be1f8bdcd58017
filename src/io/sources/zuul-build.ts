// One Zuul build as a ciml run. The same mapping serves the builds API (`GET …/builds`, `GET …/build/UUID`)
// and the MQTT reporter's buildset messages, so a build predicted live is the run cache-data would cache.
//
// Shapes follow Zuul's API and LogJuicer's `zuul-build` types: before Zuul 10 a build is flat (`project`,
// `branch`, `change`, `patchset`, `ref` as a string); from Zuul 10 those sit in `ref: {project, …}`. The
// MQTT reporter's builds carry neither: the change is on the message, given here as `context`, and its
// times are epoch seconds where the API's are "YYYY-MM-DDTHH:MM:SS" in UTC.
import { z } from "zod";
import { CimlError } from "../ciml-error.ts";
import { fetchLogText, joinUrl, type FetchPolicy } from "../log-server.ts";
import { LogFetchError, type RunMetadataValues, type SourceItem } from "./run-source.ts";
import { inventoryFacts, MAX_INVENTORY_BYTES } from "./zuul-inventory.ts";

const name = z.string().max(512);
const changeNumber = z.union([z.number().int().nonnegative(), z.string().max(64)]);
const patchset = z.union([z.string().max(128), z.number().int().nonnegative()]);
/** API: "2024-02-13T23:17:28" (UTC, no zone); MQTT reporter: epoch seconds */
const time = z.union([z.string().max(64), z.number().finite()]);

const refSchema = z.object({
  project: name.nullish(),
  branch: name.nullish(),
  change: changeNumber.nullish(),
  patchset: patchset.nullish(),
  ref: z.string().max(1024).nullish(),
});

const zuulBuildSchema = z.object({
  uuid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a UUID-like id"),
  job_name: name,
  result: z.string().max(64).nullish(),
  start_time: time.nullish(),
  end_time: time.nullish(),
  voting: z.boolean().nullish(),
  log_url: z.string().max(4096).nullish(),
  pipeline: name.nullish(),
  // flat shape (Zuul < 10)
  project: name.nullish(),
  branch: name.nullish(),
  change: changeNumber.nullish(),
  patchset: patchset.nullish(),
  // a string in the flat shape, the change itself in the nested one
  ref: z.union([z.string().max(1024), refSchema]).nullish(),
  buildset: z.object({ uuid: z.string().max(64).nullish() }).nullish(),
});

export type ZuulBuild = z.infer<typeof zuulBuildSchema>;

/** What a build does not say about its change and an MQTT message does (or an API filter implies). */
export interface ZuulContext {
  project?: string | null;
  branch?: string | null;
  change?: string | number | null;
  patchset?: string | number | null;
  pipeline?: string | null;
}

/** Which results are test outcomes; every other result is skipped and counted. */
export interface ResultMap {
  passed: readonly string[];
  failed: readonly string[];
}

export const DEFAULT_RESULT_MAP: ResultMap = { passed: ["SUCCESS"], failed: ["FAILURE", "TIMED_OUT"] };

/** Where devstack-based Zuul jobs leave dstat's CSV under a build's log_url, multinode layout first. */
export const ZUUL_DSTAT_PATHS = [
  "controller/logs/dstat-csv_log.txt",
  "controller/logs/dstat-csv_log.txt.gz",
  "controller/logs/dstat-csv.log",
  "logs/dstat-csv_log.txt",
  "logs/dstat-csv_log.txt.gz",
  "logs/dstat-csv.log",
] as const;

export const INVENTORY_PATH = "zuul-info/inventory.yaml";

/** A build object that does not have Zuul's shape; the message names the first wrong field. */
export function parseZuulBuild(raw: unknown, where: string): ZuulBuild {
  const parsed = zuulBuildSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join(".") || "(the build)";
  throw new CimlError(`${where}: not a Zuul build (${field}: ${issue?.message ?? "invalid"})`);
}

/** "YYYY-MM-DD HH:MM:SS" in UTC, as subunit2sql stored run_at; null when the value is not a time. */
export function zuulTime(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined || value === "") return null;
  let ms: number;
  if (typeof value === "number") ms = value * 1000;
  else {
    // Zuul writes UTC without a zone; a value with one is taken as written.
    const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`;
    ms = Date.parse(zoned.includes("T") ? zoned : zoned.replace(" ", "T"));
  }
  if (!Number.isFinite(ms)) return null;
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

function text(value: string | number | null | undefined): string | null {
  return value === null || value === undefined || value === "" ? null : String(value);
}

/** The subunit2sql-named keys the build itself answers (inventory facts are added when the run is cached). */
export function zuulBuildMetadata(build: ZuulBuild, context: ZuulContext = {}): RunMetadataValues {
  const nested = typeof build.ref === "object" && build.ref !== null ? build.ref : undefined;
  const metadata: RunMetadataValues = {
    build_name: build.job_name,
    build_uuid: build.uuid,
    build_short_uuid: build.uuid.slice(0, 7),
    build_change: text(nested?.change ?? build.change ?? context.change),
    build_patchset: text(nested?.patchset ?? build.patchset ?? context.patchset),
    build_branch: text(nested?.branch ?? build.branch ?? context.branch),
    build_queue: text(build.pipeline ?? context.pipeline),
    project: text(nested?.project ?? build.project ?? context.project),
    // the subunit2sql worker stored voting as "1"/"0"
    voting: build.voting === false ? "0" : "1",
    run_at: zuulTime(build.start_time),
    result: text(build.result),
  };
  if (build.buildset?.uuid) metadata.build_set = build.buildset.uuid;
  return metadata;
}

/** Only web log roots: a Zuul answer must never make ciml read local files (file://) or other schemes. */
function webLogRoot(logUrl: string | null | undefined): string | null | "bad" {
  if (!logUrl) return null;
  try {
    const url = new URL(logUrl);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : "bad";
  } catch {
    return "bad";
  }
}

/**
 * One build as a run (or as an excluded item with the reason it is not one). Takes a raw build from the
 * API or an MQTT message; throws CimlError when it does not have Zuul's shape.
 */
export function zuulBuildItem(raw: unknown, options: { context?: ZuulContext; resultMap?: ResultMap; where?: string } = {}): SourceItem {
  const build = parseZuulBuild(raw, options.where ?? "Zuul build");
  const map = options.resultMap ?? DEFAULT_RESULT_MAP;
  const result = build.result ?? "null";
  const status = map.passed.includes(result) ? 0 : map.failed.includes(result) ? 1 : undefined;
  if (status === undefined)
    return { kind: "excluded", id: build.uuid, tally: result, reason: `build ${build.uuid}: result ${result} is not a test outcome` };
  const logRoot = webLogRoot(build.log_url);
  if (logRoot === null) return { kind: "excluded", id: build.uuid, tally: "no log_url", reason: `build ${build.uuid} has no log_url` };
  if (logRoot === "bad")
    return { kind: "excluded", id: build.uuid, tally: "bad log_url", reason: `build ${build.uuid}: log_url is not an http(s) URL` };
  const base = zuulBuildMetadata(build, options.context);
  return {
    kind: "run",
    run: {
      id: build.uuid,
      status,
      logRoot,
      runAt: zuulTime(build.start_time),
      buildUuid: build.uuid,
      metadata: async (policy, signal) => ({ ...base, ...(await inventoryOf(logRoot, policy, signal)) }),
    },
  };
}

/** node_provider and build_node from the build's inventory; none when it has no (usable) inventory. */
async function inventoryOf(logRoot: string, policy: FetchPolicy, signal: AbortSignal): Promise<RunMetadataValues> {
  const url = joinUrl(logRoot, INVENTORY_PATH);
  const fetched = await fetchLogText(url, { ...policy, maxBytes: MAX_INVENTORY_BYTES, maxTextBytes: MAX_INVENTORY_BYTES }, signal);
  if (fetched.kind === "missing") return {};
  if (fetched.kind === "failed") throw new LogFetchError(`inventory: ${fetched.reason}`, url);
  const facts = inventoryFacts(fetched.text);
  return typeof facts === "string" ? {} : { ...facts };
}
