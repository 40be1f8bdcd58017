// Synthetic devstack + tempest dstat traces, classic dstat 0.7.2 CSV (`dstat -tcmndrylpg --tcp --output`).
// Pure and seeded: the same seed and run give the same bytes. Levels, noise and durations come from the real
// real traces (tests/fixtures/dstat) (figures in docs/simulate.md). Passing and failing runs differ the way the original
// authors found real ones do — user CPU and 1-minute load carry most of the signal — but a share of failures
// (a single flaky test) leaves no mark in the resources at all, so no model can be perfect.

import { seededRandom } from "../seeded-random.ts";

export type FailureKind = "none" | "devstack" | "timeout" | "tests" | "flaky";

interface TraceSpec {
  failure: FailureKind;
  /** unix ms of the first row */
  startMs: number;
  host: string;
  /** seconds between rows (dstat's delay argument; devstack used 1) */
  intervalSeconds: number;
  /** the node's relative speed: 1 = a typical rax node; slower nodes run longer and busier */
  nodeSpeed: number;
}

interface Trace {
  csv: string;
  rows: number;
  durationSeconds: number;
  /** seconds from the first row to the first test (devstack's share); tests start here */
  setupSeconds: number;
}

/** The project's seeded generator (Math.random cannot be seeded) with the draws a trace needs. */
export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed >>> 0 || 0x9e3779b9);
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  int(lo: number, hiExclusive: number): number {
    return lo + Math.floor(this.next() * (hiExclusive - lo));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length)]!;
  }
  hex(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += "0123456789abcdef"[this.int(0, 16)];
    return s;
  }
}

const GIB = 1024 ** 3;
const NODE_MEMORY = 8 * GIB;

/** Per-phase levels; see docs/simulate.md for where each figure comes from. */
interface Phase {
  seconds: number;
  usr: number;
  sys: number;
  wai: number;
  /** runnable processes: drives the load averages */
  run: number;
  usedBytes: number;
  recv: number;
  writ: number;
  csw: number;
  tcpActive: number;
  /** how bursty usr is: chance per second of a compile/pip burst */
  burst: number;
}

function phases(spec: TraceSpec, rng: Rng): { list: Phase[]; setupSeconds: number } {
  const slow = 1 / spec.nodeSpeed;
  const setup = Math.round(rng.normal(1200, 150) * slow);
  const tests = Math.round(rng.normal(3300, 350) * slow);
  const base: Phase = { seconds: 0, usr: 0, sys: 0, wai: 0, run: 0, usedBytes: 0, recv: 0, writ: 0, csw: 0, tcpActive: 0, burst: 0 };
  const install = {
    ...base,
    seconds: setup,
    usr: 14 * slow,
    sys: 3.5,
    wai: 0.8,
    run: 1.6,
    usedBytes: 4.2 * GIB,
    recv: 3e5,
    writ: 2e6,
    csw: 5000,
    tcpActive: 40,
    burst: 0.008,
  };
  const tempest = {
    ...base,
    seconds: tests,
    usr: 26 * slow,
    sys: 6,
    wai: 0.6,
    run: 3.0,
    usedBytes: 5.6 * GIB,
    recv: 4e5,
    writ: 3e6,
    csw: 9000,
    tcpActive: 220,
    burst: 0.004,
  };
  const cleanup = {
    ...base,
    seconds: Math.round(rng.uniform(40, 120)),
    usr: 8,
    sys: 3,
    wai: 0.3,
    run: 1,
    usedBytes: 5.2 * GIB,
    recv: 2e5,
    writ: 8e6,
    csw: 3000,
    tcpActive: 30,
    burst: 0.01,
  };
  switch (spec.failure) {
    case "devstack": {
      // devstack stops at a failed step: no tests run, the node idles briefly while logs are collected.
      const stoppedAt = Math.round(setup * rng.uniform(0.25, 0.9));
      return {
        list: [
          { ...install, seconds: stoppedAt },
          { ...cleanup, usedBytes: 2.4 * GIB },
        ],
        setupSeconds: stoppedAt,
      };
    }
    case "timeout": {
      // Services wedge: tests wait on timeouts, load piles up with little user work; memory runs short.
      const stall = {
        ...tempest,
        seconds: Math.round(tests * rng.uniform(0.35, 0.6)),
        usr: 11 * slow,
        sys: 8,
        wai: 7,
        run: 6.5,
        usedBytes: 7.1 * GIB,
        csw: 15000,
        tcpActive: 380,
        burst: 0.002,
      };
      return { list: [install, { ...tempest, seconds: Math.round(tests * rng.uniform(0.3, 0.55)) }, stall, cleanup], setupSeconds: setup };
    }
    case "tests": {
      // A broken service: tests fail fast, so the run ends early, after a burst of kernel time and retries.
      const fast = { ...tempest, seconds: Math.round(tests * rng.uniform(0.2, 0.45)), usr: 18 * slow, sys: 13, run: 4.5, csw: 13000 };
      return { list: [install, { ...tempest, seconds: Math.round(tests * rng.uniform(0.2, 0.4)) }, fast, cleanup], setupSeconds: setup };
    }
    default:
      return { list: [install, tempest, cleanup], setupSeconds: setup };
  }
}

const PREAMBLE_GROUPS = `"system","total cpu usage",,,,,,"memory usage",,,,"net/total",,"dsk/total",,"io/total",,"system",,"load avg",,,"procs",,,"paging",,"tcp sockets",,,,`;
const PREAMBLE_COLUMNS = `"time","usr","sys","idl","wai","hiq","siq","used","buff","cach","free","recv","send","read","writ","read","writ","int","csw","1m","5m","15m","run","blk","new","in","out","lis","act","syn","tim","clo"`;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const pad = (n: number) => String(n).padStart(2, "0");

/** dstat 0.7.2 prints whole numbers as "12.0" and others with three decimals. */
function num(x: number): string {
  if (Number.isInteger(x)) return `${x}.0`;
  const s = x.toFixed(3);
  return s === "-0.000" ? "0.0" : s;
}

function dstatTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}-${pad(d.getUTCMonth() + 1)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

function headerDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export function generateTrace(spec: TraceSpec, seed: number): Trace {
  const rng = new Rng(seed);
  const { list, setupSeconds } = phases(spec, rng);
  const dt = Math.max(1, spec.intervalSeconds);
  const lines = [
    `"Dstat 0.7.2 CSV output"`,
    `"Author:","Dag Wieers <dag@wieers.com>",,,,"URL:","http://dag.wieers.com/home-made/dstat/"`,
    `"Host:","${spec.host}",,,,"User:","stack"`,
    `"Cmdline:","dstat -tcmndrylpg --tcp --output /opt/stack/logs/dstat-csv.log",,,,"Date:","${headerDate(spec.startMs)}"`,
    "",
    PREAMBLE_GROUPS,
    PREAMBLE_COLUMNS,
  ];
  // Slowly varying state: memory, load averages and an AR(1) noise term per signal.
  let used = 0.72 * GIB * rng.uniform(0.95, 1.05);
  const buff = rng.uniform(0.1, 0.25) * GIB;
  let cach = 1.9 * GIB;
  let load1 = rng.uniform(0.3, 1.0);
  let load5 = load1 * 0.8;
  let load15 = load1 * 0.6;
  let noiseUsr = 0;
  let noiseRun = 0;
  let burstLeft = 0;
  const decay = (window: number) => Math.exp(-dt / window);
  let elapsed = 0;
  for (const phase of list) {
    const phaseRows = Math.max(1, Math.round(phase.seconds / dt));
    for (let r = 0; r < phaseRows; r++, elapsed += dt) {
      noiseUsr = 0.85 * noiseUsr + rng.normal(0, 4);
      noiseRun = 0.9 * noiseRun + rng.normal(0, 0.5);
      if (burstLeft <= 0 && rng.next() < phase.burst * dt) burstLeft = rng.int(5, 40);
      const burst = burstLeft > 0 ? rng.uniform(30, 60) : 0;
      burstLeft -= dt;
      const usr = clamp(phase.usr + noiseUsr + burst, 0.1, 97);
      const sys = clamp(phase.sys * rng.uniform(0.6, 1.4) + burst * 0.15, 0, 100 - usr);
      const wai = clamp(phase.wai * rng.uniform(0, 2), 0, 100 - usr - sys);
      const siq = clamp(rng.uniform(0, 0.4), 0, 100 - usr - sys - wai);
      const idl = Math.max(0, 100 - usr - sys - wai - siq);
      used += (phase.usedBytes - used) * (1 - decay(300)) + rng.normal(0, 8e6);
      cach += (Math.min(NODE_MEMORY - used - buff - 0.12 * GIB, 1.9 * GIB + elapsed * 4e5) - cach) * (1 - decay(600));
      // Under memory pressure the kernel evicts page cache first: the four always add up to the node's RAM.
      used = Math.min(used, NODE_MEMORY - buff - 0.1 * GIB);
      cach = clamp(cach, 0, NODE_MEMORY - used - buff - 40e6);
      const free = NODE_MEMORY - used - buff - cach;
      const running = Math.max(0, phase.run + noiseRun + burst / 15);
      load1 = load1 * decay(60) + running * (1 - decay(60));
      load5 = load5 * decay(300) + running * (1 - decay(300));
      load15 = load15 * decay(900) + running * (1 - decay(900));
      const recv = Math.max(0, phase.recv * Math.exp(rng.normal(-0.5, 1.2)));
      const writ = Math.max(0, phase.writ * Math.exp(rng.normal(-0.7, 1.3)));
      const read = rng.next() < 0.15 ? phase.writ * 0.1 * Math.exp(rng.normal(0, 1)) : 0;
      const csw = Math.max(500, phase.csw * Math.exp(rng.normal(-0.1, 0.45)) + burst * 200);
      const values = [
        usr,
        sys,
        idl,
        wai,
        0,
        siq,
        Math.round(used),
        Math.round(buff),
        Math.round(cach),
        Math.round(free),
        recv,
        recv * rng.uniform(0.3, 1.1),
        read,
        writ,
        read / 40960,
        writ / 24576,
        csw * rng.uniform(0.6, 0.95),
        csw,
        Math.round(load1 * 100) / 100,
        Math.round(load5 * 100) / 100,
        Math.round(load15 * 100) / 100,
        Math.round(running),
        rng.next() < phase.wai / 20 ? 1 : 0,
        Math.max(0, Math.round(phase.run * 8 * Math.exp(rng.normal(0, 0.8)))),
        0,
        rng.next() < 0.05 ? rng.uniform(0, 400) : 0,
        Math.round(10 + phase.tcpActive / 12),
        Math.round(phase.tcpActive * rng.uniform(0.8, 1.2)),
        rng.next() < 0.01 ? 1 : 0,
        Math.round(phase.tcpActive * rng.uniform(0.5, 1.6)),
        rng.int(0, 5),
      ];
      lines.push(`${dstatTime(spec.startMs + elapsed * 1000)},${values.map(num).join(",")}`);
    }
  }
  return { csv: `${lines.join("\n")}\n`, rows: lines.length - 7, durationSeconds: elapsed, setupSeconds };
}
