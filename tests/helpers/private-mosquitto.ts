// A Mosquitto of the test's own on a free port, so a test can stop and restart "the broker" without
// disturbing the shared one on 1883 that other sessions use.
import { connect } from "node:net";
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
  constructor(readonly port: number) {}

  static async start(): Promise<PrivateMosquitto> {
    const broker = new PrivateMosquitto(await freePort());
    await broker.start();
    return broker;
  }

  async start(): Promise<void> {
    // `-p` alone makes mosquitto 2 listen on localhost with anonymous access, which is what a test needs.
    this.proc = Bun.spawn(["mosquitto", "-p", String(this.port)], { stdout: "ignore", stderr: "ignore" });
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
  }
}
