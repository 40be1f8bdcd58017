// A MariaDB account whose password holds every character that ends a part of a URL (@ / # ? :), written
// raw as SQLAlchemy users write it: the commands connect with it, and no output mode ever shows any of it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminQuery, dropDatabase, uniqueDatabaseName } from "./helpers/mariadb.ts";
import { runCiml } from "./helpers/run-ciml.ts";

const PASSWORD = "Qz7k@Kx9w/Vb4n#Wm2p?Jt6r:Hy3s@Pq8v";
const WRONG = "Zr5t@Lm1c/Np0e#Gh4u?Fd7y";
const database = uniqueDatabaseName("password");
const user = `ciml_pw_${process.pid}`;
const uri = (password: string) => `mysql+pymysql://${user}:${password}@127.0.0.1:3306/${database}`;
const dir = mkdtempSync(join(tmpdir(), "ciml-password-"));

beforeAll(async () => {
  await adminQuery(`CREATE DATABASE \`${database}\``);
  for (const host of ["localhost", "127.0.0.1", "%"]) {
    await adminQuery("CREATE USER ?@? IDENTIFIED BY ?", [user, host, PASSWORD]);
    await adminQuery(`GRANT ALL ON \`${database}\`.* TO ?@?`, [user, host]);
  }
});

afterAll(async () => {
  for (const host of ["localhost", "127.0.0.1", "%"]) await adminQuery("DROP USER IF EXISTS ?@?", [user, host]);
  await dropDatabase(database);
  rmSync(dir, { recursive: true, force: true });
});

async function ciml(...args: string[]) {
  const { code, out, err } = await runCiml(args, dir);
  return { code, all: out + err, out };
}

/** Every piece of the password between its special characters, so a half-masked password is caught too. */
function expectNoPiece(text: string, password: string): void {
  for (const piece of password.split(/[@/#?:]/).filter((p) => p.length > 1)) expect(text).not.toContain(piece);
}

describe("a database password with @ / # ? : in it", () => {
  test("simulate connects with it and its success lines, plain and --json, show it masked", async () => {
    for (const face of ["--no-tui", "--json"]) {
      const r = await ciml("simulate", face, "--runs", "5", "--db-uri", uri(PASSWORD), "--log-root", `logs${face}`, "--interval", "60");
      expect(r.code).toBe(0);
      expect(r.all).toContain(`${user}:***@127.0.0.1:3306/${database}`);
      expectNoPiece(r.all, PASSWORD);
    }
  }, 120_000);

  test("cache-data refused for a wrong password says so without showing it, in both faces", async () => {
    for (const face of ["--no-tui", "--json"]) {
      const r = await ciml("cache-data", face, "--data-path", "data", "--db-uri", uri(WRONG));
      expect(r.code).toBe(1);
      expect(r.all).toContain(`${user}:***@127.0.0.1:3306/${database}`);
      expectNoPiece(r.all, WRONG);
    }
  }, 60_000);
});
