// A runs file as a run source, so any CI can feed ciml: one run a line, JSONL (`runs.jsonl`) or CSV with a
// header row (`runs.csv`). Each run has an `id`, a `status` (passed/failed or 0/1) or a CI `result`
// (success, failure, …), a `log_url` (dstat paths tried under it) or a `dstat_url` (the file itself), an
// optional `run_at`, and any metadata keys. The file is the user's own, so file:// URLs are allowed.
import { statSync } from "node:fs";
import { CimlError } from "../ciml-error.ts";
import { DEFAULT_DSTAT_PATHS } from "../log-server.ts";
import type { RunMetadataValues, RunSource, SourceItem, SourceRun } from "./run-source.ts";
import { zuulTime } from "./zuul-build.ts";

const MAX_RUNS_FILE_BYTES = 256 * 1024 * 1024;
const MAX_VALUE_CHARS = 4096;
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;
const KEY = /^[A-Za-z0-9_.-]{1,64}$/;

/** CI results that are test outcomes, in any case: Zuul's and Jenkins' SUCCESS, GitHub's success, GitLab's failed. */
const PASSED_RESULTS = new Set(["success", "passed"]);
const FAILED_RESULTS = new Set(["failure", "failed", "timed_out"]);

type Line = { where: string; fields: Record<string, unknown> };

/** Splits one CSV line into fields: commas, double quotes around a field, "" for a quote inside one. */
export function csvFields(line: string, where: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        const end = line.indexOf('"', i);
        if (end < 0) throw new CimlError(`${where}: a quoted field has no closing quote; runs files keep one run per line`);
        value += line.slice(i, end);
        i = end + 1;
        if (line[i] === '"') {
          value += '"';
          i++;
        } else break;
      }
      out.push(value);
    } else {
      const end = line.indexOf(",", i);
      out.push(line.slice(i, end < 0 ? line.length : end).trim());
      i = end < 0 ? line.length : end;
    }
    if (i >= line.length) return out;
    if (line[i] !== ",") throw new CimlError(`${where}: text after a quoted field; quote the whole field`);
    i++;
  }
}

function linesOf(path: string, text: string): Line[] {
  const raw = text.split(/\r?\n/);
  const csv = /\.csv$/i.test(path);
  const lines: Line[] = [];
  let header: string[] | undefined;
  raw.forEach((line, index) => {
    const where = `${path}:${index + 1}`;
    if (line.trim() === "") return;
    if (csv) {
      const fields = csvFields(line, where);
      if (!header) {
        header = fields;
        if (!header.includes("id"))
          throw new CimlError(`${where}: the header row has no "id" column; start the file with e.g. id,status,log_url,run_at`);
        return;
      }
      if (fields.length !== header.length)
        throw new CimlError(`${where}: ${fields.length} fields where the header has ${header.length}; quote values that contain commas`);
      lines.push({ where, fields: Object.fromEntries(header.map((h, i) => [h, fields[i] === "" ? null : fields[i]])) });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new CimlError(`${where}: not a JSON object; a .jsonl runs file has one JSON object per line (name it .csv for CSV)`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new CimlError(`${where}: not a JSON object; write {"id": "...", "status": "passed", "log_url": "..."}`);
    lines.push({ where, fields: value as Record<string, unknown> });
  });
  return lines;
}

function checkedUrl(value: unknown, key: string, where: string): string | null {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value !== "string" || value.length > MAX_VALUE_CHARS) throw new CimlError(`${where}: ${key} is not a URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CimlError(`${where}: ${key} ${value} is not a URL; give http://, https:// or file:///absolute/path`);
  }
  if (!["http:", "https:", "file:"].includes(url.protocol))
    throw new CimlError(`${where}: ${key} ${value}: only http://, https:// and file:// URLs are fetched`);
  return value;
}

function statusOf(fields: Record<string, unknown>, where: string): 0 | 1 | { result: string } {
  const status = fields.status;
  if (status !== undefined && status !== null && status !== "") {
    if (status === 0 || status === "0" || status === "passed") return 0;
    if (status === 1 || status === "1" || status === "failed") return 1;
    throw new CimlError(`${where}: status ${JSON.stringify(status)}: give passed or failed (or 0 or 1), or a result instead`);
  }
  const result = fields.result;
  if (typeof result !== "string" || result === "")
    throw new CimlError(`${where}: the run has neither a status (passed/failed, 0/1) nor a result (success, failure, …)`);
  const r = result.toLowerCase();
  if (PASSED_RESULTS.has(r)) return 0;
  if (FAILED_RESULTS.has(r)) return 1;
  return { result: result.slice(0, 64) };
}

/** One line as a run, or as excluded (a result that is not a test outcome, no URL). Throws on a bad line. */
function itemOf({ where, fields }: Line, buildName: string): SourceItem | undefined {
  const id = fields.id;
  if (typeof id !== "string" || !RUN_ID.test(id))
    throw new CimlError(`${where}: id ${JSON.stringify(id)}: give letters, digits, - or _ (at most 64), e.g. the CI's job id`);
  const lineBuild = fields.build_name;
  if (lineBuild !== undefined && lineBuild !== null && lineBuild !== "" && String(lineBuild) !== buildName) return undefined;
  const status = statusOf(fields, where);
  if (typeof status === "object")
    return { kind: "excluded", id, tally: status.result, reason: `${where}: result ${status.result} is not a test outcome` };
  const logRoot = checkedUrl(fields.log_url, "log_url", where);
  const dstatUrl = checkedUrl(fields.dstat_url, "dstat_url", where);
  if (!logRoot && !dstatUrl)
    return { kind: "excluded", id, tally: "no log_url", reason: `${where}: run ${id} has neither log_url nor dstat_url` };
  let runAt: string | null = null;
  if (fields.run_at !== undefined && fields.run_at !== null && fields.run_at !== "") {
    const given = fields.run_at;
    const asNumber = typeof given === "string" && /^\d+(\.\d+)?$/.test(given) ? Number(given) : given;
    runAt = typeof asNumber === "string" || typeof asNumber === "number" ? zuulTime(asNumber) : null;
    if (runAt === null)
      throw new CimlError(`${where}: run_at ${JSON.stringify(given)}: give an ISO time (2024-05-01T12:00:00Z) or epoch seconds`);
  }
  const metadata: RunMetadataValues = {};
  for (const [key, value] of Object.entries(fields)) {
    if (["id", "status", "log_url", "dstat_url", "run_at"].includes(key)) continue;
    if (!KEY.test(key)) throw new CimlError(`${where}: key ${JSON.stringify(key.slice(0, 80))}: use letters, digits, _ . or -`);
    if (value === null || typeof value === "number") metadata[key] = value;
    else if (typeof value === "boolean") metadata[key] = value ? "1" : "0";
    else if (typeof value === "string" && value.length <= MAX_VALUE_CHARS) metadata[key] = value;
    else throw new CimlError(`${where}: ${key} must be a string or a number (at most ${MAX_VALUE_CHARS} characters)`);
  }
  metadata.build_name = buildName;
  if (runAt) metadata.run_at = runAt;
  const run: SourceRun = {
    id,
    status,
    logRoot,
    runAt,
    metadata: async () => metadata,
    ...(dstatUrl ? { dstatUrl } : {}),
    ...(typeof metadata.build_uuid === "string" ? { buildUuid: metadata.build_uuid } : {}),
  };
  return { kind: "run", run };
}

export function openRunsFile(path: string): RunSource {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new CimlError(`--runs-file ${path}: no such file; give the path of a .jsonl or .csv runs file`);
  }
  if (size > MAX_RUNS_FILE_BYTES)
    throw new CimlError(`--runs-file ${path}: ${size} bytes, over the ${MAX_RUNS_FILE_BYTES}-byte limit; split it`);
  if (!/\.(jsonl|ndjson|csv)$/i.test(path))
    throw new CimlError(`--runs-file ${path}: name it .jsonl (one JSON object a line) or .csv (a header row)`, 2);
  // Read once, checked whole before anything is fetched: a bad line stops the command before any download.
  let lines: Line[] | undefined;
  const read = async () => {
    lines ??= linesOf(path, await Bun.file(path).text());
    return lines;
  };
  const itemsOf = async (buildName: string) => {
    const out: SourceItem[] = [];
    for (const line of await read()) {
      const item = itemOf(line, buildName);
      if (item) out.push(item);
    }
    return out;
  };
  return {
    description: `runs file ${path}`,
    dstatPaths: DEFAULT_DSTAT_PATHS,
    emptyMessage: (buildName) => `runs file ${path} has no runs of ${buildName}; check --build-name against the lines' build_name`,
    count: async (buildName) => (await itemsOf(buildName)).length,
    list(buildName) {
      async function* items() {
        yield* await itemsOf(buildName);
      }
      return { items: items(), mark: () => undefined };
    },
    async runsOfBuild(buildUuid, buildName) {
      const runs: SourceRun[] = [];
      const skipped: string[] = [];
      for (const item of await itemsOf(buildName)) {
        const matches = item.kind === "run" ? item.run.id === buildUuid || item.run.buildUuid === buildUuid : item.id === buildUuid;
        if (!matches) continue;
        if (item.kind === "run") runs.push({ ...item.run, buildUuid });
        else skipped.push(item.reason);
      }
      return { runs, skipped };
    },
    close: async () => undefined,
  };
}
