// How ciml reaches a bucket: the endpoint (--s3-url, for MinIO, Ceph RGW, R2, …), the region and the
// credentials. They come, in this order, from --s3-profile (a named profile of the standard AWS shared
// files ~/.aws/credentials and ~/.aws/config, or the files named by $AWS_SHARED_CREDENTIALS_FILE and
// $AWS_CONFIG_FILE), else the standard AWS_* variables, else the profile named by $AWS_PROFILE or
// "default" in those files — the order the AWS tools use, so a machine set up for them works as it is.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CimlError } from "../ciml-error.ts";

/** What the command line gives: its two flags and the environment variables named below. */
export interface S3Access {
  url?: string;
  profile?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

/** The environment variables read; the CLI passes these and no others. */
export const S3_VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_PROFILE",
  "AWS_ENDPOINT_URL_S3",
  "AWS_ENDPOINT_URL",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_CONFIG_FILE",
  "HOME",
] as const;

export interface S3Settings {
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A shared file larger than this is not an AWS config file; refusing it bounds what we read. */
const MAX_SHARED_FILE = 1 << 20;

type IniSections = Map<string, Map<string, string>>;

/** The INI dialect of the AWS shared files: `[section]`, `key = value`, `#` and `;` comments. */
function parseIni(text: string): IniSections {
  const sections: IniSections = new Map();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq > 0 && current) current.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return sections;
}

function readShared(path: string): IniSections | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CimlError(
      `${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"}); check the AWS shared file's permissions`,
    );
  }
  if (bytes.length > MAX_SHARED_FILE)
    throw new CimlError(
      `${path} is larger than 1 MiB, which no AWS shared file is; check $AWS_CONFIG_FILE and $AWS_SHARED_CREDENTIALS_FILE`,
    );
  return parseIni(bytes.toString("utf8"));
}

function sharedFiles(env: Readonly<Record<string, string | undefined>>): { credentials: string; config: string } {
  const home = env.HOME ?? "";
  return {
    credentials: env.AWS_SHARED_CREDENTIALS_FILE || join(home, ".aws", "credentials"),
    config: env.AWS_CONFIG_FILE || join(home, ".aws", "config"),
  };
}

/** A profile's settings: its keys from the credentials file, its region and endpoint from the config file. */
function fromProfile(name: string, env: Readonly<Record<string, string | undefined>>, required: boolean): Partial<S3Settings> | undefined {
  const files = sharedFiles(env);
  const credentials = readShared(files.credentials)?.get(name);
  // In the config file every profile but "default" is written `[profile NAME]`.
  const configSections = readShared(files.config);
  const config = configSections?.get(name === "default" ? "default" : `profile ${name}`) ?? configSections?.get(name);
  if (!credentials && !config) {
    if (!required) return undefined;
    throw new CimlError(
      `S3 profile "${name}" is in neither ${files.credentials} nor ${files.config}; add it there or choose another --s3-profile`,
    );
  }
  const get = (key: string) => credentials?.get(key) ?? config?.get(key);
  return {
    accessKeyId: get("aws_access_key_id"),
    secretAccessKey: get("aws_secret_access_key"),
    sessionToken: get("aws_session_token"),
    region: config?.get("region"),
    endpoint: config?.get("endpoint_url"),
  };
}

/** An endpoint must be a plain http(s) URL; credentials inside it would end up in messages. */
function checkEndpoint(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CimlError(`S3 endpoint "${url.replace(/\/\/[^@/]*@/, "//***@")}" is not a URL; give --s3-url like http://127.0.0.1:9000`, 2);
  }
  if (parsed.username || parsed.password)
    throw new CimlError(
      "the S3 endpoint must not hold credentials; give them with --s3-profile or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
      2,
    );
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new CimlError(
      `S3 endpoint ${parsed.protocol}//${parsed.host}: only http and https are supported; give --s3-url like https://s3.example.com`,
      2,
    );
  return url.replace(/\/+$/, "");
}

export function resolveS3Settings(access: S3Access): S3Settings {
  const env = access.env ?? {};
  let found: Partial<S3Settings> | undefined;
  if (access.profile) found = fromProfile(access.profile, env, true);
  else if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY)
    found = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      sessionToken: env.AWS_SESSION_TOKEN,
    };
  else found = fromProfile(env.AWS_PROFILE || "default", env, Boolean(env.AWS_PROFILE));
  if (!found?.accessKeyId || !found.secretAccessKey)
    throw new CimlError(
      access.profile
        ? `S3 profile "${access.profile}" has no aws_access_key_id and aws_secret_access_key; add them to ${sharedFiles(env).credentials}`
        : "no S3 credentials: give --s3-profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    );
  const endpoint = access.url || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || found.endpoint;
  return {
    endpoint: endpoint ? checkEndpoint(endpoint) : undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || found.region || "us-east-1",
    accessKeyId: found.accessKeyId,
    secretAccessKey: found.secretAccessKey,
    sessionToken: found.sessionToken || undefined,
  };
}
