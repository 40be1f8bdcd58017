// `ciml simulate`: a synthetic CI history — subunit2sql rows (runs + run_metadata as OpenStack's subunit
// worker wrote them) and a log tree with one dstat file per run, laid out like
// logs.openstack.org so that cache-data reads it over file:// or HTTP exactly as it read the real server.
import { maskUri } from "../io/db-uri.ts";
import { fileRootUrl, writeLogFile } from "../io/log-tree.ts";
import { openSubunit2sqlWriter, type NewRun } from "../io/subunit2sql-writer.ts";
import { Breather } from "./breather.ts";
import { UsageError } from "./errors.ts";
import type { Step } from "./events.ts";
import { wholeNumber } from "./whole-number.ts";
import { generateTrace, Rng, type FailureKind } from "./simulate/trace-generator.ts";

export interface SimulateOptions {
  runs: number;
  failureRate: number;
  missingRate: number;
  buildNames: string[];
  seed: number;
  dbUri: string;
  logRoot: string;
  /** what runs.artifacts points at instead of file://<log root> (e.g. the HTTP server that will serve it) */
  logUrl?: string;
  /** seconds between dstat rows (1 like devstack; larger makes small files for demos and tests) */
  intervalSeconds: number;
  /** first run's time (unix ms); default 2019-01-07, inside the original's data years */
  startMs?: number;
}

/** What a command-line user gets without the flag; the one place these defaults are written. */
export const SIMULATE_DEFAULTS = {
  runs: 500,
  failureRate: 0.1,
  missingRate: 0.02,
  buildNames: ["tempest-full"],
  seed: 42,
  dbUri: "sqlite:///ci.db",
  logRoot: "./logs",
  intervalSeconds: 1,
} satisfies Partial<SimulateOptions>;

export interface SimulateResult {
  runs: number;
  failed: number;
  missing: number;
  bytes: number;
  dbUri: string;
  logRoot: string;
}

// Provider shares from the original authors' 792-run test split (rax 365, ovh 212, inap 111, vexxhost 48,
// limestone 37, packethost 13, fortnebula 6), with their regions; speed = how fast its nodes ran devstack.
const PROVIDERS: { regions: string[]; weight: number; speed: number }[] = [
  { regions: ["rax-dfw", "rax-iad", "rax-ord"], weight: 365, speed: 1.0 },
  { regions: ["ovh-gra1", "ovh-bhs1"], weight: 212, speed: 0.85 },
  { regions: ["inap-mtl01"], weight: 111, speed: 1.15 },
  { regions: ["vexxhost-ca-ymq-1", "vexxhost-sjc1"], weight: 48, speed: 1.1 },
  { regions: ["limestone-regionone"], weight: 37, speed: 0.95 },
  { regions: ["packethost-us-west-1"], weight: 13, speed: 1.2 },
  { regions: ["fortnebula-regionone"], weight: 6, speed: 1.05 },
];
const PROJECTS = [
  "openstack/nova",
  "openstack/neutron",
  "openstack/cinder",
  "openstack/glance",
  "openstack/keystone",
  "openstack/tempest",
  "openstack/devstack",
  "openstack/swift",
];
// How failures split between kinds; "flaky" (one test, no resource signature) keeps the problem honest.
const FAILURE_KINDS: [FailureKind, number][] = [
  ["devstack", 0.2],
  ["timeout", 0.3],
  ["tests", 0.3],
  ["flaky", 0.2],
];
const DEFAULT_START_MS = Date.UTC(2019, 0, 7, 6, 0, 0);
const BATCH = 100;
const PROGRESS_EVERY_MS = 100;

function weighted<T>(rng: Rng, items: [T, number][]): T {
  const total = items.reduce((a, [, w]) => a + w, 0);
  let x = rng.next() * total;
  for (const [item, w] of items) {
    x -= w;
    if (x < 0) return item;
  }
  return items[items.length - 1]![0];
}

function uuid4(rng: Rng): string {
  const h = rng.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${"89ab"[rng.int(0, 4)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function datetime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

function checkSimulateOptions(o: SimulateOptions): void {
  wholeNumber("--runs", o.runs, 1);
  for (const [flag, p] of [
    ["--failure-rate", o.failureRate],
    ["--missing-rate", o.missingRate],
  ] as const) {
    if (!(p >= 0 && p <= 1)) throw new UsageError(`${flag} ${p}: give a fraction between 0 and 1, e.g. 0.1`);
  }
  wholeNumber("--seed", o.seed, 0, 0xffffffff);
  if (!(o.intervalSeconds >= 1 && o.intervalSeconds <= 3600))
    throw new UsageError(`--interval ${o.intervalSeconds}: give seconds between 1 and 3600`);
  if (o.buildNames.length === 0 || o.buildNames.some((b) => !/^[A-Za-z0-9._-]+$/.test(b))) {
    throw new UsageError(`--build-name ${o.buildNames.join(",")}: use job names such as tempest-full (letters, digits, . _ -)`);
  }
  if (o.logUrl !== undefined && !/^(https?|file):\/\//.test(o.logUrl))
    throw new UsageError(`--log-url ${o.logUrl}: give an http://, https:// or file:// URL`);
}

export const simulate: Step<SimulateOptions, SimulateResult> = async (options, { emit, signal }) => {
  checkSimulateOptions(options);
  const started = performance.now();
  const base = (options.logUrl ?? fileRootUrl(options.logRoot)).replace(/\/+$/, "");
  emit({
    type: "stage",
    stage: "simulate",
    state: "started",
    detail: `${options.runs} runs into ${maskUri(options.dbUri)} and ${options.logRoot}`,
  });
  const writer = await openSubunit2sqlWriter(options.dbUri);
  // Adding to a history must not repeat its runs: the seed's stream moves on by what is there already.
  // ... and its time goes on after the last run, so that id order stays chronological.
  const history = await writer.history().catch(async (err) => {
    await writer.close();
    throw err;
  });
  if (history.runs > 0)
    emit({ type: "info", message: `${maskUri(options.dbUri)} already holds ${history.runs} runs; adding ${options.runs} more after them` });
  const rng = new Rng(options.seed + history.runs * 7919);
  let failed = 0;
  let missing = 0;
  let bytes = 0;
  const after = history.lastRunAt ? Date.parse(`${history.lastRunAt.replace(" ", "T").slice(0, 19)}Z`) + 3_600_000 : NaN;
  let at = options.startMs ?? (Number.isFinite(after) ? after : DEFAULT_START_MS);
  let reported = Number.NEGATIVE_INFINITY;
  try {
    let batch: NewRun[] = [];
    const breather = new Breather();
    for (let i = 0; i < options.runs; i++) {
      await breather.maybe(signal).catch(async (err: unknown) => {
        // The batch's log files are written already: the database gets the runs that point at them,
        // so an interrupted history is shorter, never inconsistent.
        if (batch.length > 0) await writer.insertRuns(batch);
        throw err;
      });
      const buildName = options.buildNames[i % options.buildNames.length]!;
      const isFailed = rng.next() < options.failureRate;
      const failure: FailureKind = isFailed ? weighted(rng, FAILURE_KINDS) : "none";
      const provider = weighted(
        rng,
        PROVIDERS.map((p) => [p, p.weight] as [typeof p, number]),
      );
      const region = rng.pick(provider.regions);
      const speed = provider.speed * Math.exp(rng.normal(0, 0.08));
      const buildUuid = rng.hex(32);
      const change = rng.int(500000, 700000);
      const patchset = rng.int(1, 12);
      const short = buildUuid.slice(0, 7);
      const artifactsPath = `${String(change % 100).padStart(2, "0")}/${change}/${patchset}/gate/${buildName}/${short}`;
      const host = `ubuntu-bionic-${region}-000${rng.int(1000000, 9999999)}`;
      const traceSeed = rng.int(0, 2 ** 31);
      at += rng.uniform(5, 40) * 60_000;
      const trace = generateTrace({ failure, startMs: at, host, intervalSeconds: options.intervalSeconds, nodeSpeed: speed }, traceSeed);
      const testsStart = at + trace.setupSeconds * 1000;
      const ranTests = failure !== "devstack";
      const passes = ranTests ? rng.int(1050, 1250) - (failure === "tests" ? rng.int(100, 600) : 0) : 0;
      const fails = failure === "none" ? 0 : failure === "devstack" ? 0 : failure === "flaky" ? 1 : rng.int(2, 60);
      if (isFailed) failed++;
      const multinode = buildName.includes("multinode");
      const hasFile = rng.next() >= options.missingRate;
      if (hasFile) {
        // Most jobs published the gzipped file; a few log servers kept it plain (the original's 3rd path).
        const plain = rng.next() < 0.05;
        const dir = multinode ? "controller/logs" : "logs";
        bytes += writeLogFile(options.logRoot, `${artifactsPath}/${dir}/dstat-csv_log.txt${plain ? "" : ".gz"}`, trace.csv, !plain);
      } else {
        missing++;
      }
      batch.push({
        uuid: uuid4(rng),
        skips: ranTests ? rng.int(120, 180) : 0,
        fails,
        passes,
        runTime: Math.max(1, trace.durationSeconds - trace.setupSeconds),
        artifacts: `${base}/${artifactsPath}`,
        runAt: datetime(testsStart),
        metadata: {
          build_name: buildName,
          build_uuid: buildUuid,
          build_short_uuid: short,
          build_change: String(change),
          build_patchset: String(patchset),
          build_queue: "gate",
          build_ref: `refs/changes/${String(change % 100).padStart(2, "0")}/${change}/${patchset}`,
          build_branch: "master",
          build_zuul_url: "N/A",
          build_master: `ze0${rng.int(1, 10)}.openstack.org`,
          build_node: "ubuntu-bionic",
          project: rng.pick(PROJECTS),
          voting: "1",
          node_provider: region,
          filename: "logs/testrepository.subunit",
        },
      });
      if (batch.length >= BATCH || i === options.runs - 1) {
        await writer.insertRuns(batch);
        batch = [];
      }
      // A run takes tens of milliseconds to simulate: report from the first runs on, not per batch.
      const now = performance.now();
      if (now - reported >= PROGRESS_EVERY_MS || i === options.runs - 1) {
        reported = now;
        const seconds = (now - started) / 1000;
        const done = i + 1;
        emit({
          type: "progress",
          stage: "simulate",
          done,
          total: options.runs,
          unit: "runs",
          rate: done / seconds,
          bytes,
          counts: { failed, missing },
          etaSeconds: ((options.runs - done) * seconds) / done,
        });
      }
    }
  } finally {
    await writer.close();
  }
  emit({ type: "stage", stage: "simulate", state: "finished" });
  const seconds = (performance.now() - started) / 1000;
  emit({
    type: "result",
    stage: "simulate",
    summary: { runs: options.runs, failed, missing, bytes, seconds: Number(seconds.toFixed(2)), db: maskUri(options.dbUri), logs: base },
    lines: [
      `Wrote ${options.runs} runs (${failed} failed, ${missing} without dstat) to ${maskUri(options.dbUri)}; logs under ${options.logRoot}`,
    ],
  });
  return { runs: options.runs, failed, missing, bytes, dbUri: maskUri(options.dbUri), logRoot: options.logRoot };
};
