import { describe, expect, test } from "bun:test";
import { maskUri, parseDbUri } from "../src/io/db-uri.ts";

describe("parseDbUri", () => {
  test("SQLAlchemy mysql+pymysql URI with user, password, host and database", () => {
    expect(parseDbUri("mysql+pymysql://query:query@logstash.openstack.org/subunit2sql")).toEqual({
      kind: "mysql",
      host: "logstash.openstack.org",
      port: 3306,
      user: "query",
      password: "query",
      database: "subunit2sql",
    });
  });

  test("plain mysql://, a port, a percent-encoded password and ?charset=", () => {
    expect(parseDbUri("mysql://ci:p%40ss%3Aw@db.example.org:3307/sub?charset=utf8mb4")).toEqual({
      kind: "mysql",
      host: "db.example.org",
      port: 3307,
      user: "ci",
      password: "p@ss:w",
      database: "sub",
      charset: "utf8mb4",
    });
  });

  test("unix socket form without a host", () => {
    const t = parseDbUri("mysql+pymysql://root@/subunit2sql?unix_socket=/run/mysqld/mysqld.sock");
    expect(t).toMatchObject({ kind: "mysql", user: "root", password: "", database: "subunit2sql", socketPath: "/run/mysqld/mysqld.sock" });
  });

  test("sqlite:///relative resolves against the working directory, sqlite:////absolute stays absolute", () => {
    expect(parseDbUri("sqlite:///ci.db", "/home/u/work")).toEqual({ kind: "sqlite", path: "/home/u/work/ci.db" });
    expect(parseDbUri("sqlite:///data/ci.db", "/w")).toEqual({ kind: "sqlite", path: "/w/data/ci.db" });
    expect(parseDbUri("sqlite:////tmp/ci.db", "/w")).toEqual({ kind: "sqlite", path: "/tmp/ci.db" });
  });

  test("unusable URIs are usage errors (exit 2) that never show the password", () => {
    for (const uri of ["postgresql://u:secret@h/db", "mysql://u:secret@h", "sqlite://", "sqlite:///", "not a uri"]) {
      let caught: unknown;
      try {
        parseDbUri(uri);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(Error);
      expect((caught as { exitCode: number }).exitCode).toBe(2);
      expect((caught as Error).message).not.toContain("secret");
      expect((caught as Error).message).toContain("database URI");
    }
  });
});

describe("maskUri", () => {
  test("hides the password and keeps everything else", () => {
    expect(maskUri("mysql+pymysql://query:query@logstash.openstack.org/subunit2sql")).toBe(
      "mysql+pymysql://query:***@logstash.openstack.org/subunit2sql",
    );
    expect(maskUri("mysql://ci:p%40ss@db:3307/sub?charset=utf8")).toBe("mysql://ci:***@db:3307/sub?charset=utf8");
  });

  test("leaves URIs without a password alone", () => {
    expect(maskUri("mysql://root@127.0.0.1/test")).toBe("mysql://root@127.0.0.1/test");
    expect(maskUri("sqlite:///ci.db")).toBe("sqlite:///ci.db");
  });
});

describe("passwords written raw, with @ / # ? : in them", () => {
  const cases = [
    ["p@ss", "mysql+pymysql://ci:p@ss@db.example.org/sub"],
    ["p@ss@word", "mysql://ci:p@ss@word@db.example.org:3307/sub?charset=utf8"],
    ["se/cret", "mysql://ci:se/cret@db.example.org/sub"],
    ["se#cret", "mysql://ci:se#cret@db.example.org/sub"],
    ["se?cret", "mysql://ci:se?cret@db.example.org/sub"],
    ["a:b/c#d?e@f", "mysql://ci:a:b/c#d?e@f@db.example.org/sub"],
  ] as const;

  for (const [password, uri] of cases) {
    test(`${password}: connects with that password and is never shown`, () => {
      expect(parseDbUri(uri)).toMatchObject({ kind: "mysql", host: "db.example.org", user: "ci", password, database: "sub" });
      expect(maskUri(uri)).toBe(uri.replace(`:${password}@`, ":***@"));
    });
  }

  test("a socket path in the query does not move the split", () => {
    const t = parseDbUri("mysql://ci:p@ss@/sub?unix_socket=/run/my@sql.sock");
    expect(t).toMatchObject({ user: "ci", password: "p@ss", database: "sub", socketPath: "/run/my@sql.sock" });
  });

  test("URIs that cannot be used still hide what could be a password", () => {
    for (const uri of ["mysql://ci:se/cr@et@host", "ci:se@cret@host/db", "postgresql://ci:se#cr@et@host/db"]) {
      let message = "";
      try {
        parseDbUri(uri);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain("database URI");
      for (const piece of ["se/cr", "cr@et", "se@cret", "se#cr"]) expect(message).not.toContain(piece);
    }
  });
});

/** The one line a user sees for a URI that cannot be used (all are usage errors, exit 2). */
function uriProblem(uri: string): string {
  try {
    parseDbUri(uri);
  } catch (err) {
    expect((err as { exitCode: number }).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error(`${uri} was accepted`);
}

describe("what each URI form means", () => {
  test("every SQLAlchemy MySQL/MariaDB driver name is accepted, in any case", () => {
    for (const scheme of [
      "mysql",
      "mysql+pymysql",
      "mysql+mysqldb",
      "mysql+mysqlconnector",
      "mariadb",
      "mariadb+pymysql",
      "MySQL+PyMySQL",
    ]) {
      expect(parseDbUri(`${scheme}://ci:pw@db.example.org/sub`)).toMatchObject({
        kind: "mysql",
        user: "ci",
        password: "pw",
        host: "db.example.org",
      });
    }
  });

  test("no user info: no user, no password, the host is the host", () => {
    expect(parseDbUri("mysql://db.example.org/sub")).toEqual({
      kind: "mysql",
      host: "db.example.org",
      port: 3306,
      user: "",
      password: "",
      database: "sub",
    });
  });

  test("an empty user with a password: the password is the password, and it is masked", () => {
    expect(parseDbUri("mysql://:secret@db.example.org/sub")).toMatchObject({ user: "", password: "secret" });
    expect(maskUri("mysql://:secret@db.example.org/sub")).toBe("mysql://:***@db.example.org/sub");
  });

  test("empty user info before a socket-only URI still finds the database", () => {
    expect(parseDbUri("mysql://@/sub?unix_socket=/run/mysqld/mysqld.sock")).toMatchObject({
      host: "localhost",
      user: "",
      database: "sub",
      socketPath: "/run/mysqld/mysqld.sock",
    });
  });

  test("an IPv6 host loses its brackets (the driver wants the bare address)", () => {
    expect(parseDbUri("mysql://ci:pw@[::1]:3307/sub")).toMatchObject({ host: "::1", port: 3307 });
  });

  test("percent escapes that are not UTF-8 stay as written; the valid ones around them are decoded", () => {
    expect(parseDbUri("mysql://ci:p%41ss%@db/sub")).toMatchObject({ password: "pAss%" });
    expect(parseDbUri("mysql://ci:%C3%A9t%C3%A9%zz@db/sub")).toMatchObject({ password: "été%zz" });
    expect(parseDbUri("mysql://ci:%C3x%@db/sub")).toMatchObject({ password: "%C3x%" });
  });

  test("SQLite paths may hold @ : and percent escapes; the query is not part of the file name", () => {
    expect(parseDbUri("sqlite:////tmp/ci@home:1.db?mode=ro", "/w")).toEqual({ kind: "sqlite", path: "/tmp/ci@home:1.db" });
    expect(parseDbUri("sqlite:///my%20ci.db", "/w")).toEqual({ kind: "sqlite", path: "/w/my ci.db" });
    expect(parseDbUri("sqlite:///a", "/w")).toEqual({ kind: "sqlite", path: "/w/a" });
    expect(maskUri("sqlite:////tmp/ci@home:1.db")).toBe("sqlite:////tmp/ci@home:1.db");
  });
});

describe("the problem named for each unusable URI", () => {
  test("no scheme: nothing before ://, or a scheme that is not a word", () => {
    for (const uri of ["localhost", "://ci:secret@db/sub", "my sql://ci:secret@db/sub", "1db://ci:secret@db/sub"]) {
      const message = uriProblem(uri);
      expect(message).toContain(": no scheme;");
      expect(message).not.toContain("secret");
    }
  });

  test("each problem is named", () => {
    expect(uriProblem("postgresql://ci:secret@db/sub")).toContain('unsupported scheme "postgresql"');
    expect(uriProblem("sqlite://ci.db")).toContain("SQLite needs a file path");
    expect(uriProblem("mysql://ci:secret@db.example.org")).toContain("no database name after the host");
    expect(uriProblem("mysql://@host")).toContain("no database name after the host");
    expect(uriProblem("mysql://ci:secret@db exa mple/sub")).toContain("cannot be parsed");
  });

  test("the masked URI in a message keeps everything but the password", () => {
    expect(uriProblem("mysql://ci:se@cret@db.example.org")).toContain("database URI mysql://ci:***@db.example.org: ");
    expect(maskUri("ci:secret@db.example.org/sub")).toBe("***@db.example.org/sub");
    expect(maskUri("not a uri")).toBe("not a uri");
  });
});
