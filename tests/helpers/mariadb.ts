// A uniquely named database on the machine's MariaDB (root, empty password) per test file, dropped afterwards.
import mysql from "mysql2/promise";

export const MARIADB = { host: "127.0.0.1", port: 3306, user: "root", password: "" };

export function uniqueDatabaseName(area: string): string {
  return `ciml_test_${area}_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
}

export function mariadbUri(database: string, scheme = "mysql+pymysql"): string {
  return `${scheme}://${MARIADB.user}@${MARIADB.host}:${MARIADB.port}/${database}`;
}

/** One statement as root outside any database (creating users, granting, dropping databases). */
export async function adminQuery(sql: string, params: unknown[] = []): Promise<void> {
  const c = await mysql.createConnection(MARIADB);
  try {
    await c.query(sql, params);
  } finally {
    await c.end();
  }
}

export function dropDatabase(database: string): Promise<void> {
  return adminQuery(`DROP DATABASE IF EXISTS \`${database}\``);
}

export async function queryDatabase<T>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = await mysql.createConnection({ ...MARIADB, database, dateStrings: true });
  try {
    const [rows] = await c.query(sql, params);
    return rows as T[];
  } finally {
    await c.end();
  }
}
