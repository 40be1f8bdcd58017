// The subunit2sql schema at alembic head 10a2b6d4b06e (subunit2sql's own migrations), for MySQL/MariaDB
// and SQLite. SQLite has no index prefixes (test_id(30)) and auto-increments only an INTEGER PRIMARY KEY,
// so those two details differ; every table, column type and index is otherwise the same.
import type { SqlConnection } from "./sql-connection.ts";

const ALEMBIC_HEAD = "10a2b6d4b06e";

interface Table {
  name: string;
  columns: string[];
  /** [name, columns as MySQL writes them, unique] */
  indexes: [string, string, boolean][];
}

const TABLES: Table[] = [
  {
    name: "tests",
    columns: ["test_id VARCHAR(256) NOT NULL", "run_count INT NULL", "success INT NULL", "failure INT NULL", "run_time FLOAT NULL"],
    indexes: [
      ["ix_test_ids", "id, test_id(30)", false],
      ["ix_tests_test_id", "test_id(30)", false],
    ],
  },
  {
    name: "runs",
    columns: [
      "uuid VARCHAR(36) NULL",
      "skips INT NULL",
      "fails INT NULL",
      "passes INT NULL",
      "run_time FLOAT NULL",
      "artifacts TEXT NULL",
      "run_at DATETIME NULL",
    ],
    indexes: [
      ["ix_run_at", "run_at", false],
      ["ix_run_uuid", "uuid", false],
    ],
  },
  {
    name: "test_runs",
    columns: [
      "test_id BIGINT NULL",
      "run_id BIGINT NULL",
      "status VARCHAR(256) NULL",
      "start_time DATETIME NULL",
      "start_time_microsecond INT NULL DEFAULT 0",
      "stop_time DATETIME NULL",
      "stop_time_microsecond INT NULL DEFAULT 0",
    ],
    indexes: [
      ["uq_test_runs", "test_id, run_id", true],
      ["ix_test_id_status", "test_id, status(30)", false],
      ["ix_test_id_start_time", "test_id, start_time", false],
      ["ix_test_runs_test_id", "test_id", false],
      ["ix_test_runs_run_id", "run_id", false],
      ["ix_test_runs_start_time", "start_time", false],
      ["ix_test_runs_stop_time", "stop_time", false],
    ],
  },
  {
    name: "run_metadata",
    columns: ["`key` VARCHAR(255) NULL", "value VARCHAR(255) NULL", "run_id BIGINT NULL"],
    indexes: [
      ["uq_run_metadata", "run_id, `key`, value", true],
      ["ix_run_key_value", "`key`, value", false],
      ["ix_run_id", "run_id", false],
    ],
  },
  {
    name: "test_run_metadata",
    columns: ["`key` VARCHAR(255) NULL", "value VARCHAR(255) NULL", "test_run_id BIGINT NULL"],
    indexes: [
      ["uq_test_run_metadata", "test_run_id, `key`, value", true],
      ["ix_test_run_key_value", "`key`, value", false],
      ["ix_test_run_id", "test_run_id", false],
    ],
  },
  {
    name: "test_metadata",
    columns: ["`key` VARCHAR(255) NULL", "value VARCHAR(255) NULL", "test_id BIGINT NULL"],
    indexes: [
      ["uq_test_metadata", "test_id, `key`, value", true],
      ["ix_test_key_value", "`key`, value", false],
      ["ix_test_id", "test_id", false],
    ],
  },
  {
    name: "attachments",
    columns: ["test_run_id BIGINT NULL", "label VARCHAR(255) NULL", "attachment BLOB NULL"],
    indexes: [["ix_attach_test_run_id", "test_run_id", false]],
  },
];

/** The statements that create the schema in `dialect`, tables first, then (SQLite) indexes. */
function schemaStatements(dialect: "mysql" | "sqlite"): string[] {
  const out: string[] = [];
  for (const t of TABLES) {
    if (dialect === "mysql") {
      const keys = t.indexes.map(([name, cols, unique]) => `${unique ? "UNIQUE KEY" : "KEY"} ${name} (${cols})`);
      out.push(
        `CREATE TABLE IF NOT EXISTS ${t.name} (id BIGINT NOT NULL AUTO_INCREMENT, ${[...t.columns, "PRIMARY KEY (id)", ...keys].join(", ")}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      );
    } else {
      out.push(`CREATE TABLE IF NOT EXISTS ${t.name} (id INTEGER PRIMARY KEY AUTOINCREMENT, ${t.columns.join(", ")})`);
      for (const [name, cols, unique] of t.indexes) {
        out.push(`CREATE ${unique ? "UNIQUE INDEX" : "INDEX"} IF NOT EXISTS ${name} ON ${t.name} (${cols.replace(/\(\d+\)/g, "")})`);
      }
    }
  }
  out.push("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL, PRIMARY KEY (version_num))");
  return out;
}

export const SCHEMA_TABLES = [...TABLES.map((t) => t.name), "alembic_version"];

export async function createSchema(sql: SqlConnection): Promise<void> {
  for (const statement of schemaStatements(sql.dialect)) await sql.run(statement);
  const head = await sql.all<{ version_num: string }>("SELECT version_num FROM alembic_version");
  if (head.length === 0) await sql.run("INSERT INTO alembic_version (version_num) VALUES (?)", [ALEMBIC_HEAD]);
}
