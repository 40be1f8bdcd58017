// One small SQL surface over the two drivers a subunit2sql database can sit behind: mysql2 (MySQL/MariaDB)
// and bun:sqlite. Queries are written once with `?` placeholders; both drivers take them as is.
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Connection as CallbackConnection } from "mysql2";
import mysql from "mysql2/promise";
import { CimlError } from "./ciml-error.ts";
import { maskUri, parseDbUri, type MysqlTarget } from "./db-uri.ts";

export type SqlValue = string | number | null;
type SqlRow = Record<string, unknown>;

export interface SqlConnection {
  readonly dialect: "mysql" | "sqlite";
  all<T extends SqlRow>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /** rows one at a time, without holding the whole result */
  stream<T extends SqlRow>(sql: string, params?: SqlValue[]): AsyncIterable<T>;
  run(sql: string, params?: SqlValue[]): Promise<void>;
  /** `fn` runs inside one transaction; it commits when `fn` resolves and rolls back when it throws */
  transaction(fn: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export interface OpenSqlOptions {
  /** create the SQLite file or the MySQL database when it does not exist (simulate) */
  create?: boolean;
  /** how long a MySQL connection may take to open */
  connectTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

export async function openSql(uri: string, options: OpenSqlOptions = {}): Promise<SqlConnection> {
  const target = parseDbUri(uri);
  return target.kind === "sqlite" ? openSqlite(uri, target.path, options) : openMysql(uri, target, options);
}

function openSqlite(uri: string, path: string, options: OpenSqlOptions): SqlConnection {
  if (!options.create && !existsSync(path)) {
    throw new CimlError(
      `database ${maskUri(uri)}: the file ${path} does not exist; check the path (sqlite:///relative or sqlite:////absolute) or run \`ciml simulate\` to create one`,
    );
  }
  if (options.create) mkdirSync(dirname(path), { recursive: true });
  let db: Database;
  try {
    db = new Database(path, options.create ? { create: true, readwrite: true } : { readonly: true });
    db.query("SELECT 1").get();
  } catch (err) {
    throw new CimlError(`database ${maskUri(uri)}: cannot open ${path}: ${(err as Error).message}`);
  }
  if (options.create) db.run("PRAGMA journal_mode = WAL");
  const fail = (err: unknown): never => {
    throw new CimlError(`database ${maskUri(uri)}: ${(err as Error).message.split("\n")[0]}`);
  };
  return {
    dialect: "sqlite",
    async all<T extends SqlRow>(sql: string, params: SqlValue[] = []) {
      try {
        return db.query(sql).all(...params) as T[];
      } catch (err) {
        return fail(err);
      }
    },
    async *stream<T extends SqlRow>(sql: string, params: SqlValue[] = []) {
      let rows: IterableIterator<T>;
      try {
        // prepare(), not the cached query(): concurrent streams of one SQL would share (and break) a cursor.
        rows = db.prepare(sql).iterate(...params) as IterableIterator<T>;
      } catch (err) {
        return fail(err);
      }
      yield* rows;
    },
    async run(sql: string, params: SqlValue[] = []) {
      try {
        db.query(sql).run(...params);
      } catch (err) {
        fail(err);
      }
    },
    async transaction(fn) {
      db.run("BEGIN");
      try {
        await fn();
        db.run("COMMIT");
      } catch (err) {
        db.run("ROLLBACK");
        throw err;
      }
    },
    async close() {
      db.close();
    },
  };
}

/** The one line a user sees when MySQL/MariaDB refuses or cannot be reached; never the password. */
function mysqlError(uri: string, target: MysqlTarget, err: unknown): CimlError {
  const e = err as { code?: string; message?: string };
  const reasons: Record<string, string> = {
    ER_ACCESS_DENIED_ERROR: `access denied for user "${target.user}" (wrong user or password)`,
    ER_DBACCESS_DENIED_ERROR: `user "${target.user}" may not use database "${target.database}"`,
    ER_BAD_DB_ERROR: `database "${target.database}" does not exist`,
    ECONNREFUSED: "connection refused (is the server running, and on this port?)",
    ETIMEDOUT: "no answer within the connect timeout (host down or firewalled?)",
    ENOTFOUND: `unknown host "${target.host}"`,
    EHOSTUNREACH: "host unreachable",
    ENOENT: `no socket at ${target.socketPath ?? "?"}`,
  };
  const reason = (e.code && reasons[e.code]) ?? (e.message ?? String(err)).split("\n")[0];
  // mysql2 puts the user name and host in some messages but never the password; the URI is masked anyway.
  return new CimlError(`database ${maskUri(uri)}: ${reason}`);
}

async function openMysql(uri: string, target: MysqlTarget, options: OpenSqlOptions): Promise<SqlConnection> {
  const connectTimeout = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const base = {
    user: target.user,
    password: target.password,
    connectTimeout,
    // subunit2sql keeps times as DATETIME; strings keep them exactly as stored, without a time-zone guess.
    dateStrings: true,
    supportBigNumbers: true,
    ...(target.socketPath ? { socketPath: target.socketPath } : { host: target.host, port: target.port }),
    ...(target.charset ? { charset: target.charset } : {}),
  };
  if (options.create) {
    const admin = await withConnectDeadline(mysql.createConnection(base), connectTimeout).catch((err) => {
      throw mysqlError(uri, target, err);
    });
    try {
      await admin.query(`CREATE DATABASE IF NOT EXISTS \`${target.database.replace(/`/g, "``")}\` CHARACTER SET utf8mb4`);
    } catch (err) {
      throw mysqlError(uri, target, err);
    } finally {
      await admin.end();
    }
  }
  // Two connections: one streams the runs while the other answers the per-run metadata queries.
  const pool = mysql.createPool({ ...base, database: target.database, connectionLimit: 4, waitForConnections: true });
  try {
    await withConnectDeadline(pool.query("SELECT 1"), connectTimeout);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw mysqlError(uri, target, err);
  }
  const fail = (err: unknown): never => {
    throw mysqlError(uri, target, err);
  };
  let txConnection: mysql.PoolConnection | undefined;
  const runner = () => txConnection ?? pool;
  return {
    dialect: "mysql",
    async all<T extends SqlRow>(sql: string, params: SqlValue[] = []) {
      try {
        const [rows] = await runner().query(sql, params);
        return rows as T[];
      } catch (err) {
        return fail(err);
      }
    },
    async *stream<T extends SqlRow>(sql: string, params: SqlValue[] = []) {
      const conn = await pool.getConnection().catch(fail);
      let complete = false;
      try {
        // The callback connection's stream() applies backpressure: rows stay on the socket until asked for.
        const rows = (conn.connection as unknown as CallbackConnection).query(sql, params).stream({ highWaterMark: 64 });
        for await (const row of rows) yield row as T;
        complete = true;
      } catch (err) {
        fail(err);
      } finally {
        // A consumer that stopped early leaves unread rows on the wire: that connection cannot be reused.
        if (complete) conn.release();
        else conn.destroy();
      }
    },
    async run(sql: string, params: SqlValue[] = []) {
      try {
        await runner().query(sql, params);
      } catch (err) {
        fail(err);
      }
    },
    async transaction(fn) {
      const conn = await pool.getConnection().catch(fail);
      txConnection = conn;
      try {
        await conn.beginTransaction();
        await fn();
        await conn.commit();
      } catch (err) {
        await conn.rollback().catch(() => undefined);
        throw err;
      } finally {
        txConnection = undefined;
        conn.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/** mysql2's connectTimeout covers the TCP connect; this also bounds a server that accepts but never greets. */
function withConnectDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" })), ms + 500);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
