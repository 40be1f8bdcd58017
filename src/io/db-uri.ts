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

/**
 * A URI cut into scheme, user info and the rest (host, port, path, query), the way users write passwords
 * in SQLAlchemy URIs: raw, with any of `@ / # ? :` in them. The user info therefore ends at the LAST `@`
 * that is followed by a database path (a `/`), not at the first `/` as in a web address: in
 * `mysql://ci:p@ss/w#rd@db.example.org/sub` the password is `p@ss/w#rd`. Masking and connecting both use
 * this one split, so what is hidden is exactly what is sent as the password.
 */
interface UriParts {
  scheme: string;
  user: string;
  /** undefined when the URI has no `user:password@` part */
  password: string | undefined;
  /** host[:port][/database][?query] */
  rest: string;
}

function splitUri(uri: string): UriParts | undefined {
  const sep = uri.indexOf("://");
  const scheme = uri.slice(0, sep);
  if (sep <= 0 || !/^[a-z][a-z0-9+.-]*$/i.test(scheme)) return undefined;
  const afterScheme = uri.slice(sep + 3);
  // SQLite's "authority" is empty and the path may hold any character: there is no user info to find.
  if (scheme.toLowerCase() === "sqlite") return { scheme, user: "", password: undefined, rest: afterScheme };
  let at = -1;
  for (let i = afterScheme.lastIndexOf("@"); i >= 0; i = afterScheme.lastIndexOf("@", i - 1)) {
    if (at < 0) at = i; // without any database path, the last "@" hides the most
    if (afterScheme.indexOf("/", i) >= 0) {
      at = i;
      break;
    }
    if (i === 0) break;
  }
  if (at < 0) return { scheme, user: "", password: undefined, rest: afterScheme };
  const userInfo = afterScheme.slice(0, at);
  const colon = userInfo.indexOf(":");
  return {
    scheme,
    user: colon < 0 ? userInfo : userInfo.slice(0, colon),
    password: colon < 0 ? undefined : userInfo.slice(colon + 1),
    rest: afterScheme.slice(at + 1),
  };
}

/** Hides the password of a URI, so it can appear in messages and logs. */
export function maskUri(uri: string): string {
  const parts = splitUri(uri);
  if (parts === undefined) {
    // Not a URI we can cut: whatever stands before an "@" may be a password.
    const at = uri.lastIndexOf("@");
    return at < 0 ? uri : `***${uri.slice(at)}`;
  }
  if (parts.password === undefined) return uri;
  return `${parts.scheme}://${parts.user}:***@${parts.rest}`;
}

/** Percent-decoding as SQLAlchemy's unquote does it: an escape that is not one stays as written. */
function unquote(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

function uriError(uri: string, problem: string): CimlError {
  return new CimlError(
    `database URI ${maskUri(uri)}: ${problem}; expected mysql+pymysql://user:pass@host[:port]/db or sqlite:///path/to/file.db`,
    2,
  );
}

export function parseDbUri(uri: string, cwd = process.cwd()): DbTarget {
  const parts = splitUri(uri);
  if (!parts) throw uriError(uri, "no scheme");
  const scheme = parts.scheme.toLowerCase();
  if (scheme === "sqlite") return parseSqlite(uri, parts.rest, cwd);
  if (MYSQL_SCHEMES.has(scheme)) return parseMysql(uri, parts);
  throw uriError(uri, `unsupported scheme "${scheme}"`);
}

function parseSqlite(uri: string, rest: string, cwd: string): SqliteTarget {
  // What follows "sqlite://" is "/" + path: "sqlite:///ci.db" → "ci.db", "sqlite:////tmp/ci.db" → "/tmp/ci.db".
  const query = rest.indexOf("?");
  const path = query < 0 ? rest : rest.slice(0, query);
  if (!path.startsWith("/") || path.length < 2) throw uriError(uri, "SQLite needs a file path (an in-memory database would hold nothing)");
  const file = unquote(path.slice(1));
  return { kind: "sqlite", path: isAbsolute(file) ? file : resolve(cwd, file) };
}

function parseMysql(uri: string, parts: UriParts): MysqlTarget {
  let url: URL;
  try {
    // The user info is already cut off; URL parses host, port, path and query ("http" has the same syntax
    // for them). The unix_socket form may leave the host empty ("root@/db"): stand in localhost.
    url = new URL(`http://${parts.rest.startsWith("/") ? "localhost" : ""}${parts.rest}`);
  } catch {
    throw uriError(uri, "cannot be parsed");
  }
  const database = unquote(url.pathname.replace(/^\//, ""));
  if (!database || database.includes("/")) throw uriError(uri, "no database name after the host");
  const params = url.searchParams;
  const socketPath = params.get("unix_socket") ?? undefined;
  const port = url.port ? Number(url.port) : DEFAULT_MYSQL_PORT;
  return {
    kind: "mysql",
    host: url.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost",
    port,
    user: unquote(parts.user),
    password: unquote(parts.password ?? ""),
    database,
    ...(socketPath ? { socketPath } : {}),
    ...(params.get("charset") ? { charset: params.get("charset")! } : {}),
  };
}
