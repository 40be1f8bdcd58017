// mqtt-trainer's link to the broker: events arrive on one connection, predictions leave on another.
// Why two: Mosquitto, as installed, leaves Nagle's algorithm on (no `set_tcp_nodelay`), so it holds a
// small packet while an earlier one on the same connection is not yet acknowledged by our kernel. On one
// shared connection the broker's PUBACK for a prediction is such a packet: nothing we send soon after
// carries its acknowledgement, so our kernel delays it (Linux: ~40 ms), and the next event waits behind it
// in the broker. On a connection that only receives events, every packet the broker sends is an event we
// answer at once with our PUBACK, which carries the acknowledgement; on one that only publishes, each
// prediction carries the acknowledgement of the PUBACK before it. docs/mqtt.md ("Speed") has the capture.
// The owner sees one link: one message handler, one publish, and one outage however many connections
// it took down.
import {
  type Backoff,
  type ConnectionChange,
  type ConnectionHandlers,
  MqttConnection,
  type MqttSettings,
  type QoS,
  type Subscription,
} from "./mqtt-connection.ts";

type Side = "events" | "predictions";

export class MqttListener {
  private readonly events: MqttConnection;
  private readonly predictions: MqttConnection;
  private readonly up = { events: false, predictions: false };
  private everUp = false;
  private outageStarted: number | null = null;
  /** the most reconnect attempts either connection needed in the current outage */
  private attempts = 0;
  private refused = false;

  constructor(
    settings: MqttSettings,
    subscription: Subscription,
    private readonly handlers: ConnectionHandlers,
    backoff?: Backoff,
  ) {
    this.events = new MqttConnection(
      settings,
      subscription,
      { message: handlers.message, connection: (change) => this.onChange("events", change) },
      backoff,
    );
    // A client id the user chose names both connections (a broker drops a client whose id reconnects elsewhere).
    const publishing = settings.clientId === undefined ? settings : { ...settings, clientId: `${settings.clientId}-publish` };
    this.predictions = new MqttConnection(
      publishing,
      null,
      { message: () => undefined, connection: (change) => this.onChange("predictions", change) },
      backoff,
    );
  }

  /** Resolves when the broker acknowledged the message (QoS ≥ 1); queued while the broker is away. */
  publish(topic: string, payload: string, qos: QoS): Promise<void> {
    return this.predictions.publish(topic, payload, qos);
  }

  /** Stops reconnecting, lets acknowledged-delivery publishes in flight finish, then disconnects both. */
  async close(): Promise<void> {
    await Promise.all([this.events.close(), this.predictions.close()]);
  }

  /**
   * One outage for the owner: "down" when the first connection is lost, "up" once both are back (with
   * the time since the first was lost), so a restarted broker is told once, not once per connection.
   */
  private onChange(side: Side, change: ConnectionChange): void {
    switch (change.state) {
      case "up": {
        this.up[side] = true;
        this.attempts = Math.max(this.attempts, change.attempts);
        if (!this.up.events || !this.up.predictions) return;
        const outageMs = this.outageStarted === null ? 0 : Date.now() - this.outageStarted;
        this.handlers.connection({ state: "up", reconnected: this.everUp, attempts: this.attempts, outageMs });
        this.everUp = true;
        this.outageStarted = null;
        this.attempts = 0;
        return;
      }
      case "down":
        this.up[side] = false;
        if (this.outageStarted !== null) return;
        this.outageStarted = Date.now();
        this.handlers.connection(change);
        return;
      case "refused":
        // Both connections are refused alike; once is enough.
        if (this.refused) return;
        this.refused = true;
        this.handlers.connection(change);
        return;
      case "subscribe-failed":
        this.handlers.connection(change);
    }
  }
}
