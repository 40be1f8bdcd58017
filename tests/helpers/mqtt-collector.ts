// A plain mqtt.js client for tests: publish firehose-shaped events and collect what the pipeline publishes.
import mqtt, { type MqttClient } from "mqtt";

export class MqttTestClient {
  readonly received: { topic: string; payload: string }[] = [];
  private constructor(private readonly client: MqttClient) {
    client.on("message", (topic, payload) => this.received.push({ topic, payload: payload.toString("utf8") }));
  }

  static async connect(port = 1883): Promise<MqttTestClient> {
    const client = await mqtt.connectAsync({ host: "127.0.0.1", port, protocolVersion: 5, reconnectPeriod: 0 });
    return new MqttTestClient(client);
  }

  async subscribe(topic: string): Promise<void> {
    await this.client.subscribeAsync(topic, { qos: 1 });
  }

  async publish(topic: string, payload: string | Uint8Array): Promise<void> {
    await this.client.publishAsync(topic, typeof payload === "string" ? payload : Buffer.from(payload), { qos: 1 });
  }

  json<T>(): T[] {
    return this.received.map((m) => JSON.parse(m.payload) as T);
  }

  async waitFor(count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} messages, got ${this.received.length}`);
      await Bun.sleep(10);
    }
  }

  /**
   * Waits until everything the broker had taken for `topic` has arrived here, instead of sleeping "long
   * enough": a marker published now is queued behind it, so once the marker arrives nothing earlier is on
   * its way. The marker is then forgotten.
   */
  async settled(topic: string, timeoutMs = 30_000): Promise<void> {
    const marker = JSON.stringify({ marker: Math.random().toString(36).slice(2) });
    await this.publish(topic, marker);
    const deadline = Date.now() + timeoutMs;
    const at = () => this.received.findIndex((m) => m.topic === topic && m.payload === marker);
    while (at() < 0) {
      if (Date.now() > deadline) throw new Error(`the marker on ${topic} did not come back within ${timeoutMs} ms`);
      await Bun.sleep(10);
    }
    this.received.splice(at(), 1);
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

export function uniqueTopic(area: string): string {
  return `ciml-test/${area}/${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}
