// Where ciml finds the endpoint, region and credentials for an s3:// data path: the AWS shared files'
// profiles, the AWS_* variables, and the order between them.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveS3Settings } from "../src/io/workspace/s3-settings.ts";

const home = mkdtempSync(join(tmpdir(), "ciml-aws-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
mkdirSync(join(home, ".aws"));
writeFileSync(
  join(home, ".aws", "credentials"),
  "# keys\n[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = default-secret\n\n[team]\naws_access_key_id=TEAMKEY\naws_secret_access_key = team/secret+x\naws_session_token = tok\n",
);
writeFileSync(
  join(home, ".aws", "config"),
  "[default]\nregion = eu-west-1\n[profile team]\nregion = eu-central-1\nendpoint_url = http://127.0.0.1:9000\n",
);

test("--s3-profile reads the profile's keys from credentials and its region and endpoint from config", () => {
  expect(resolveS3Settings({ profile: "team", env: { HOME: home } })).toEqual({
    accessKeyId: "TEAMKEY",
    secretAccessKey: "team/secret+x",
    sessionToken: "tok",
    region: "eu-central-1",
    endpoint: "http://127.0.0.1:9000",
  });
});

test("AWS_* variables come before the default profile; --s3-url before any endpoint", () => {
  const env = { HOME: home, AWS_ACCESS_KEY_ID: "ENVKEY", AWS_SECRET_ACCESS_KEY: "env-secret" };
  expect(resolveS3Settings({ url: "https://rgw.example.org/", env })).toEqual({
    accessKeyId: "ENVKEY",
    secretAccessKey: "env-secret",
    sessionToken: undefined,
    region: "us-east-1",
    endpoint: "https://rgw.example.org",
  });
  expect(resolveS3Settings({ env: { HOME: home } })).toMatchObject({ accessKeyId: "DEFAULTKEY", region: "eu-west-1" });
  expect(resolveS3Settings({ env: { HOME: home, AWS_PROFILE: "team" } }).accessKeyId).toBe("TEAMKEY");
});

test("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE name other files", () => {
  const other = join(home, "other-credentials");
  writeFileSync(other, "[ci]\naws_access_key_id = CIKEY\naws_secret_access_key = ci-secret\n");
  expect(resolveS3Settings({ profile: "ci", env: { HOME: "/nowhere", AWS_SHARED_CREDENTIALS_FILE: other } }).accessKeyId).toBe("CIKEY");
});

test("a missing profile, no credentials, or credentials in the endpoint: one line, no secret", () => {
  expect(() => resolveS3Settings({ profile: "nope", env: { HOME: home } })).toThrow(
    `S3 profile "nope" is in neither ${join(home, ".aws", "credentials")} nor ${join(home, ".aws", "config")}; add it there or choose another --s3-profile`,
  );
  expect(() => resolveS3Settings({ env: { HOME: "/nowhere" } })).toThrow(
    "no S3 credentials: give --s3-profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
  );
  const leaky = () => resolveS3Settings({ url: "http://KEY:hunter2@127.0.0.1:9000", env: { HOME: home } });
  expect(leaky).toThrow("the S3 endpoint must not hold credentials");
  expect(leaky).not.toThrow(/hunter2/);
});
