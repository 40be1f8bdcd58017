// A small CI history for prediction tests: a subunit2sql database (written by simulate's own writer, so
// the real schema) in SQLite or a uniquely named MariaDB database, and an HTTP log server on loopback
// serving each run's `logs/dstat-csv_log.txt.gz`, with a switch to make runs fail as a server in trouble does.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { gzip } from "../../src/io/gzip-json.ts";
import { openSubunit2sqlWriter, type Subunit2sqlWriter } from "../../src/io/subunit2sql-writer.ts";

export interface HistoryRun {
  uuid: string;
  status: 0 | 1;
  metadata: Record<string, string>;
}

export interface HistoryDb {
  uri: string;
  add(runs: HistoryRun[], artifactsRoot: string): Promise<void>;
  drop(): Promise<void>;
}

async function history(uri: string, cleanup: () => Promise<void>): Promise<HistoryDb> {
  const writer: Subunit2sqlWriter = await openSubunit2sqlWriter(uri);
  return {
    uri,
    add: (runs, root) =>
      writer.insertRuns(
        runs.map((r) => ({ uuid: r.uuid, skips: 0, fails: r.status ? 3 : 0, passes: r.status ? 290 : 293, runTime: 2400.5, artifacts: `${root}/${r.uuid}`, runAt: "2018-03-09 17:33:07", metadata: r.metadata })),
      ),
    async drop() {
      await writer.close();
      await cleanup();
    },
  };
}

export async function sqliteHistory(): Promise<HistoryDb> {
  const dir = mkdtempSync(join(tmpdir(), "ciml-history-"));
  return history(`sqlite:///${join(dir, "subunit2sql.db")}`, async () => rmSync(dir, { recursive: true, force: true }));
}

export async function mariadbHistory(area: string): Promise<HistoryDb> {
  const name = `ciml_test_${area}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  return history(`mysql+pymysql://root:@127.0.0.1:3306/${name}`, async () => {
    const admin = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", password: "" });
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.end();
  });
}

/** Serves `<root>/<run uuid>/logs/dstat-csv_log.txt.gz`; runs in `down` answer 503 (a log server in trouble). */
export class LogServer {
  private readonly files = new Map<string, Uint8Array>();
  readonly down = new Set<string>();
  readonly requests: string[] = [];
  private readonly server: ReturnType<typeof Bun.serve>;

  constructor() {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => {
        const path = new URL(req.url).pathname;
        this.requests.push(path);
        const run = path.split("/")[2] ?? "";
        if (this.down.has(run)) return new Response("Service Unavailable", { status: 503 });
        const body = this.files.get(path);
        return body ? new Response(body, { headers: { "content-type": "application/gzip" } }) : new Response("Not Found", { status: 404 });
      },
    });
  }

  get root(): string {
    return `http://127.0.0.1:${this.server.port}/logs`;
  }

  addTrace(runUuid: string, text: string): void {
    this.files.set(`/logs/${runUuid}/logs/dstat-csv_log.txt.gz`, gzip(new TextEncoder().encode(text)));
  }

  fetchesOf(runUuid: string): number {
    return this.requests.filter((p) => p.split("/")[2] === runUuid).length;
  }

  stop(): void {
    this.server.stop(true);
  }
}
