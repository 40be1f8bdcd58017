// subunit2sql database URIs as users already write them for SQLAlchemy:
//   mysql+pymysql://user:pass@host[:port]/db[?charset=utf8&unix_socket=/run/mysqld/mysqld.sock]
//   mysql://...    (same)
//   sqlite:///relative/path.db   sqlite:////absolute/path.db   (SQLAlchemy: three slashes, then the path)
import { isAbsolute, resolve } from "node:path";
import { CimlError } from "./ciml-error.ts";

export interface MysqlTarget {
  kind: "mysql";
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  socketPath?: string;
  charset?: string;
}

interface SqliteTarget {
  kind: "sqlite";
  /** absolute path of the database file */
  path: string;
}

type DbTarget = MysqlTarget | SqliteTarget;

const MYSQL_SCHEMES = new Set(["mysql", "mysql+pymysql", "mysql+mysqldb", "mysql+mysqlconnector", "mariadb", "mariadb+pymysql"]);
const DEFAULT_MYSQL_PORT = 3306;

/** Hides the password of a URI, so it can appear in messages and logs. */
export function maskUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):[^@/?#]*@/i, "$1:***@");
}

function uriError(uri: string, problem: string): CimlError {
  return new CimlError(
    `database URI ${maskUri(uri)}: ${problem}; expected mysql+pymysql://user:pass@host[:port]/db or sqlite:///path/to/file.db`,
    2,
  );
}

export function parseDbUri(uri: string, cwd = process.cwd()): DbTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
  if (!scheme) throw uriError(uri, "no scheme");
  if (scheme === "sqlite") return parseSqlite(uri, cwd);
  if (MYSQL_SCHEMES.has(scheme)) return parseMysql(uri);
  throw uriError(uri, `unsupported scheme "${scheme}"`);
}

function parseSqlite(uri: string, cwd: string): SqliteTarget {
  // What follows "sqlite://" is "/" + path: "sqlite:///ci.db" → "ci.db", "sqlite:////tmp/ci.db" → "/tmp/ci.db".
  const rest = uri.slice("sqlite://".length).replace(/\?.*$/, "");
  if (!rest.startsWith("/") || rest.length < 2) throw uriError(uri, "SQLite needs a file path (an in-memory database would hold nothing)");
  const path = decodeURIComponent(rest.slice(1));
  return { kind: "sqlite", path: isAbsolute(path) ? path : resolve(cwd, path) };
}

function parseMysql(uri: string): MysqlTarget {
  let url: URL;
  try {
    // URL only knows the authority syntax for special schemes; "http" parses user, host and port the same way.
    // The unix_socket form may leave the host empty ("root@/db"), which URL rejects: stand in localhost.
    url = new URL(uri.replace(/^[^:]+:/, "http:").replace(/^(http:\/\/(?:[^/@]*@)?)(?=\/)/, "$1localhost"));
  } catch {
    throw uriError(uri, "cannot be parsed");
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!database || database.includes("/")) throw uriError(uri, "no database name after the host");
  const params = url.searchParams;
  const socketPath = params.get("unix_socket") ?? undefined;
  const port = url.port ? Number(url.port) : DEFAULT_MYSQL_PORT;
  return {
    kind: "mysql",
    host: url.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost",
    port,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database,
    ...(socketPath ? { socketPath } : {}),
    ...(params.get("charset") ? { charset: params.get("charset")! } : {}),
  };
}
