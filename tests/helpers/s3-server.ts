// A real S3-compatible server on loopback for the tests: s3rver (npm, dev dependency) run by node in a
// child process, with its own folder and one bucket. No in-process mock: ciml talks HTTP to it.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const S3RVER = resolve(import.meta.dir, "../../node_modules/s3rver/bin/s3rver.js");
/** s3rver's own fixed credentials */
export const S3_KEY = "S3RVER";

export interface S3Server {
  url: string;
  bucket: string;
  /** environment that reaches it (the AWS_* variables) */
  env: Record<string, string>;
  /** the same, for a Bun.S3Client in the test itself */
  client: { accessKeyId: string; secretAccessKey: string; endpoint: string; region: string };
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

export async function startS3Server(bucket = "ciml"): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), "ciml-s3rver-"));
  const port = await freePort();
  const child = Bun.spawn(["node", S3RVER, "-d", dir, "-a", "127.0.0.1", "-p", String(port), "--configure-bucket", bucket, "--silent"], {
    stdout: "ignore",
    stderr: "pipe",
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await fetch(url);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`s3rver did not start on ${url}`);
      await Bun.sleep(100);
    }
  }
  return {
    url,
    bucket,
    env: { AWS_ACCESS_KEY_ID: S3_KEY, AWS_SECRET_ACCESS_KEY: S3_KEY, AWS_REGION: "us-east-1" },
    client: { accessKeyId: S3_KEY, secretAccessKey: S3_KEY, endpoint: url, region: "us-east-1" },
    stop() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
