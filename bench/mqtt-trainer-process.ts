// An `ciml mqtt-trainer` child for the benches: on the local Mosquitto (127.0.0.1:1883), with topics of its
// own, returned once it says it is connected, and the gearman-subunit event that asks it for one build.
import type { Subprocess } from "bun";
import type { MqttClient } from "mqtt";

export interface MqttTrainerProcess {
  process: Subprocess<"ignore", "pipe", "inherit">;
  /** where its predictions are published */
  predictions: string;
  /** publishes the firehose event of a finished build, as the firehose would */
  publishEvent(client: MqttClient, build: string): Promise<unknown>;
}

/** Starts `ciml mqtt-trainer --json` with `args` on the Mosquitto at 127.0.0.1:`port` (data path, dataset, experiment, source) and waits until it is connected. */
export async function startMqttTrainer(main: string, args: string[], port = 1883): Promise<MqttTrainerProcess> {
  const base = `ciml-bench/${process.pid}`;
  const predictions = `${base}/predictions`;
  const child = Bun.spawn(
    [
      process.execPath,
      main,
      "mqtt-trainer",
      "--json",
      ...args,
      "--mqtt-hostname",
      "127.0.0.1",
      "--port",
      String(port),
      "--topic",
      `${base}/events/#`,
      "--publish-topic",
      predictions,
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  for (let buffer = ""; !buffer.includes('"connected to'); ) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`mqtt-trainer exited before connecting (exit ${await child.exited})`);
    buffer += value;
  }
  // Its later output is read and dropped, so a full pipe never stalls it.
  void (async () => {
    while (!(await lines.read()).done);
  })();
  return {
    process: child,
    predictions,
    publishEvent: (client, build) =>
      client.publishAsync(
        `${base}/events/subunit-worker01/openstack/nova/1`,
        JSON.stringify({ build_uuid: build, source_url: "x", status: "success" }),
        { qos: 1 },
      ),
  };
}
