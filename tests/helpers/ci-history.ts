// A small CI history for prediction tests: a subunit2sql database (written by simulate's own writer, so
// the real schema) in SQLite or a uniquely named MariaDB database, and an HTTP log server on loopback
// serving each run's `logs/dstat-csv_log.txt.gz`, with a switch to make runs fail as a server in trouble does.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzip } from "../../src/io/gzip-json.ts";
import { openSubunit2sqlWriter, type Subunit2sqlWriter } from "../../src/io/subunit2sql-writer.ts";
import { serveLogTree, type TestLogServer } from "./log-server.ts";
import { dropDatabase, mariadbUri, uniqueDatabaseName } from "./mariadb.ts";

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
        runs.map((r) => ({
          uuid: r.uuid,
          skips: 0,
          fails: r.status ? 3 : 0,
          passes: r.status ? 290 : 293,
          runTime: 2400.5,
          artifacts: `${root}/${r.uuid}`,
          runAt: "2018-03-09 17:33:07",
          metadata: r.metadata,
        })),
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
  const name = uniqueDatabaseName(area);
  return history(mariadbUri(name), () => dropDatabase(name));
}

/** Serves `<root>/<run uuid>/logs/dstat-csv_log.txt.gz` from memory; runs in `down` answer 503 (a log server in trouble). */
export class LogServer {
  private readonly files = new Map<string, Uint8Array>();
  readonly down = new Set<string>();
  private readonly server: TestLogServer;

  constructor() {
    this.server = serveLogTree({
      route: (path) => {
        if (this.down.has(runOf(path))) return new Response("Service Unavailable", { status: 503 });
        const body = this.files.get(path);
        return body ? new Response(body, { headers: { "content-type": "application/gzip" } }) : undefined;
      },
    });
  }

  get root(): string {
    return `${this.server.url}/logs`;
  }

  addTrace(runUuid: string, text: string): void {
    this.files.set(`/logs/${runUuid}/logs/dstat-csv_log.txt.gz`, gzip(new TextEncoder().encode(text)));
  }

  fetchesOf(runUuid: string): number {
    return this.server.requests.filter((p) => runOf(p) === runUuid).length;
  }

  stop(): void {
    this.server.stop();
  }
}

function runOf(path: string): string {
  return path.split("/")[2] ?? "";
}
