// bench/predict-nodelay.ts — bench/predict.ts against a Mosquitto of its own with `set_tcp_nodelay true`,
// the setting docs/mqtt.md recommends for live prediction: Mosquitto as installed leaves Nagle's algorithm
// on, and then holds an event up to 40 ms behind the trainer's acknowledgement of the one before, which is
// most of the end-to-end latency. Both rows go into the table, so the broker's share stays visible.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";

const dir = mkdtempSync(join(tmpdir(), "ciml-bench-broker-"));
// A free port: the kernel picks one for a listener that is closed at once.
const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
const port = probe.port;
probe.stop(true);
const config = join(dir, "mosquitto.conf");
writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n`);
const broker = Bun.spawn(["mosquitto", "-c", config], { stdout: "ignore", stderr: "inherit" });
try {
  await until(() => accepts(port), 10_000);
  const run = Bun.spawn(
    [process.execPath, join(import.meta.dir, "predict.ts"), "30", "60", "8", String(port), "Mosquitto with set_tcp_nodelay"],
    { stdout: "inherit", stderr: "inherit" },
  );
  process.exitCode = await run.exited;
} finally {
  broker.kill();
  rmSync(dir, { recursive: true, force: true });
}

function accepts(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(p, "127.0.0.1", () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

async function until(ready: () => Promise<boolean>, ms: number): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(50)) if (await ready()) return;
  throw new Error("the bench's Mosquitto did not start listening within 10 s");
}
