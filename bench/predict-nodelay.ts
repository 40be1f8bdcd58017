// bench/predict-nodelay.ts — bench/predict.ts against a Mosquitto of its own with `set_tcp_nodelay true`,
// the setting docs/mqtt.md recommends for live prediction: Mosquitto as installed leaves Nagle's algorithm
// on, and then holds a small packet up to 40 ms behind the acknowledgement of the one before (mqtt-trainer's
// two connections keep its events out of that). Both rows go into the table, so the broker's share stays
// visible.
import { join } from "node:path";
import { PrivateMosquitto } from "../tests/helpers/private-mosquitto.ts";

const broker = await PrivateMosquitto.start(["allow_anonymous true", "set_tcp_nodelay true"]);
try {
  const run = Bun.spawn(
    [process.execPath, join(import.meta.dir, "predict.ts"), "60", "60", "8", String(broker.port), "Mosquitto with set_tcp_nodelay"],
    { stdout: "inherit", stderr: "inherit" },
  );
  process.exitCode = await run.exited;
} finally {
  await broker.stop();
}
