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
