// Reading a subunit2sql database: the queries of the original, over MySQL/MariaDB or SQLite.
import { openSql, type OpenSqlOptions, type SqlConnection } from "./sql-connection.ts";

/** The original tool's public database, its default when no URI is given. */
export const ORIGINAL_DB_URI = "mysql+pymysql://query:query@logstash.openstack.org/subunit2sql";

export interface RunRow {
  id: number;
  uuid: string;
  fails: number;
  passes: number;
  skips: number;
  artifacts: string | null;
  run_at: string | null;
}

interface TestRunRow {
  status: string | null;
  start_time: string | null;
  start_time_microsecond: number | null;
  stop_time: string | null;
  stop_time_microsecond: number | null;
}

/** Rows that cannot be a run: no uuid (it would name `null.csv.gz`), or a uuid an earlier row already had. */
interface SkippedRuns {
  noUuid: number;
  duplicate: number;
}

/** Runs streamed in id order, each uuid once; `skipped` counts the rows left out so far. */
type RunStream = AsyncIterable<RunRow> & { readonly skipped: SkippedRuns };

export interface Subunit2sql {
  /** how many distinct run uuids carry run_metadata key=value (for progress totals; the runs themselves are streamed) */
  countRunsByKeyValue(key: string, value: string): Promise<number>;
  /** `get_runs_by_key_value`: runs with a run_metadata row key=value, in id order, streamed, each uuid once */
  runsByKeyValue(key: string, value: string): RunStream;
  /** `get_run_metadata`: every key of the run; as in the original's dict, the last row wins when a key repeats */
  runMetadata(runUuid: string): Promise<Record<string, string>>;
  /** `get_test_runs_by_run_id` */
  testRuns(runUuid: string): Promise<TestRunRow[]>;
  close(): Promise<void>;
}

// `key` is a reserved word in MySQL; back-quotes work in SQLite too.
const RUNS_BY_KEY_VALUE = `SELECT runs.id, runs.uuid, runs.fails, runs.passes, runs.skips, runs.artifacts, runs.run_at
  FROM runs JOIN run_metadata ON runs.id = run_metadata.run_id
  WHERE run_metadata.\`key\` = ? AND run_metadata.value = ? ORDER BY runs.id`;
const COUNT_BY_KEY_VALUE = `SELECT COUNT(DISTINCT runs.uuid) AS n FROM runs JOIN run_metadata ON runs.id = run_metadata.run_id
  WHERE run_metadata.\`key\` = ? AND run_metadata.value = ?`;
const RUN_METADATA = `SELECT run_metadata.\`key\` AS k, run_metadata.value AS v FROM run_metadata
  JOIN runs ON run_metadata.run_id = runs.id WHERE runs.uuid = ? ORDER BY run_metadata.id`;
const TEST_RUNS = `SELECT test_runs.status, test_runs.start_time, test_runs.start_time_microsecond,
  test_runs.stop_time, test_runs.stop_time_microsecond
  FROM test_runs JOIN runs ON test_runs.run_id = runs.id WHERE runs.uuid = ? ORDER BY test_runs.id`;

function toRunRow(row: Record<string, unknown>, uuid: string): RunRow {
  const int = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
  return {
    id: Number(row.id),
    uuid,
    fails: int(row.fails),
    passes: int(row.passes),
    skips: int(row.skips),
    artifacts: row.artifacts === null || row.artifacts === undefined ? null : String(row.artifacts),
    run_at: row.run_at === null || row.run_at === undefined ? null : String(row.run_at),
  };
}

function subunit2sqlOver(sql: SqlConnection): Subunit2sql {
  return {
    async countRunsByKeyValue(key, value) {
      const rows = await sql.all<{ n: number | string }>(COUNT_BY_KEY_VALUE, [key, value]);
      return Number(rows[0]?.n ?? 0);
    },
    runsByKeyValue(key, value) {
      const skipped: SkippedRuns = { noUuid: 0, duplicate: 0 };
      return {
        skipped,
        async *[Symbol.asyncIterator]() {
          // The first row of a uuid wins; a later one would be the same run cached, listed and predicted twice.
          const seen = new Set<string>();
          for await (const row of sql.stream(RUNS_BY_KEY_VALUE, [key, value])) {
            if (row.uuid === null || row.uuid === undefined || row.uuid === "") {
              skipped.noUuid++;
              continue;
            }
            const run = toRunRow(row, String(row.uuid));
            if (seen.has(run.uuid)) {
              skipped.duplicate++;
              continue;
            }
            seen.add(run.uuid);
            yield run;
          }
        },
      };
    },
    async runMetadata(runUuid) {
      const rows = await sql.all<{ k: string | null; v: string | null }>(RUN_METADATA, [runUuid]);
      // No prototype: keys are the database's, and "__proto__" or "constructor" must be kept as data.
      const out: Record<string, string> = Object.create(null);
      for (const { k, v } of rows) if (k !== null) out[k] = v ?? "";
      return out;
    },
    async testRuns(runUuid) {
      return sql.all<TestRunRow & Record<string, unknown>>(TEST_RUNS, [runUuid]);
    },
    close: () => sql.close(),
  };
}

export async function openSubunit2sql(uri: string, options: Omit<OpenSqlOptions, "create"> = {}): Promise<Subunit2sql> {
  return subunit2sqlOver(await openSql(uri, options));
}

/** The original's label: failed when any test failed or none passed. */
export function runStatus(run: Pick<RunRow, "fails" | "passes">): 0 | 1 {
  return run.fails > 0 || run.passes === 0 ? 1 : 0;
}
