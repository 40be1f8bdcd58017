// Writing runs into a subunit2sql database (for `simulate`): the rows subunit2sql's own `process_results`
// would write for a run — one `runs` row and one `run_metadata` row per key.
import { createSchema } from "./subunit2sql-schema.ts";
import { openSql, type OpenSqlOptions, type SqlConnection, type SqlValue } from "./sql-connection.ts";

export interface NewRun {
  uuid: string;
  skips: number;
  fails: number;
  passes: number;
  /** wall time in seconds */
  runTime: number;
  artifacts: string | null;
  /** "YYYY-MM-DD HH:MM:SS" (UTC, no zone, as DATETIME holds it) */
  runAt: string;
  metadata: Record<string, string>;
}

export interface Subunit2sqlWriter {
  /** how many runs the database already holds, and the latest run_at ("YYYY-MM-DD HH:MM:SS") */
  history(): Promise<{ runs: number; lastRunAt: string | null }>;
  /** inserts the runs and their metadata in one transaction */
  insertRuns(runs: NewRun[]): Promise<void>;
  close(): Promise<void>;
}

// Multi-row INSERTs keep a 10,000-run simulation to a few hundred round trips on MySQL.
const ROWS_PER_INSERT = 200;

async function insertMany(sql: SqlConnection, head: string, width: number, rows: SqlValue[][]): Promise<void> {
  const placeholder = `(${new Array(width).fill("?").join(", ")})`;
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + ROWS_PER_INSERT);
    await sql.run(`${head} VALUES ${chunk.map(() => placeholder).join(", ")}`, chunk.flat());
  }
}

export async function openSubunit2sqlWriter(uri: string, options: Omit<OpenSqlOptions, "create"> = {}): Promise<Subunit2sqlWriter> {
  const sql = await openSql(uri, { ...options, create: true });
  try {
    await createSchema(sql);
  } catch (err) {
    await sql.close();
    throw err;
  }
  return {
    async history() {
      const [row] = await sql.all<{ n: number | string; last: string | null }>("SELECT COUNT(*) AS n, MAX(run_at) AS last FROM runs");
      return { runs: Number(row?.n ?? 0), lastRunAt: row?.last === null || row?.last === undefined ? null : String(row.last) };
    },
    async insertRuns(runs) {
      await sql.transaction(async () => {
        const [{ next } = { next: 1 }] = await sql.all<{ next: number | string }>("SELECT COALESCE(MAX(id), 0) + 1 AS next FROM runs");
        const first = Number(next);
        const runRows = runs.map((r, i) => [first + i, r.uuid, r.skips, r.fails, r.passes, r.runTime, r.artifacts, r.runAt]);
        await insertMany(sql, "INSERT INTO runs (id, uuid, skips, fails, passes, run_time, artifacts, run_at)", 8, runRows);
        const metaRows = runs.flatMap((r, i) => Object.entries(r.metadata).map(([k, v]) => [k, v, first + i]));
        await insertMany(sql, "INSERT INTO run_metadata (`key`, value, run_id)", 3, metaRows);
      });
    },
    close: () => sql.close(),
  };
}
