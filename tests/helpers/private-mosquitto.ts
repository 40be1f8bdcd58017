// A Mosquitto of the test's own on a free port, so a test can stop and restart "the broker" without
// disturbing the shared one on 1883 that other sessions use.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

export class PrivateMosquitto {
  private proc: Subprocess | null = null;
  private configDir: string | null = null;
  constructor(
    readonly port: number,
    private readonly configLines: string[] = [],
  ) {}

  /** With config lines (e.g. "allow_anonymous false") they go to a temporary config file with the listener. */
  static async start(configLines: string[] = []): Promise<PrivateMosquitto> {
    const broker = new PrivateMosquitto(await freePort(), configLines);
    await broker.start();
    return broker;
  }

  async start(): Promise<void> {
    let args = ["-p", String(this.port)];
    if (this.configLines.length > 0) {
      this.configDir ??= mkdtempSync(join(tmpdir(), "ciml-mosquitto-"));
      writeFileSync(join(this.configDir, "mosquitto.conf"), [`listener ${this.port} 127.0.0.1`, ...this.configLines, ""].join("\n"));
      args = ["-c", join(this.configDir, "mosquitto.conf")];
    }
    // `-p` alone makes mosquitto 2 listen on localhost with anonymous access, which is what most tests need.
    this.proc = Bun.spawn(["mosquitto", ...args], { stdout: "ignore", stderr: "ignore" });
    const deadline = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (Date.now() > deadline) throw new Error(`private mosquitto on port ${this.port} did not start`);
      await Bun.sleep(20);
    }
  }

  async stop(): Promise<void> {
    if (!this.proc) return;
    this.proc.kill("SIGTERM");
    await this.proc.exited;
    this.proc = null;
    if (this.configDir) rmSync(this.configDir, { recursive: true, force: true });
    this.configDir = null;
  }
}
