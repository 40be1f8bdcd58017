// One MQTT v5 connection, reconnected for ever: it subscribes to a topic (mqtt-trainer's events) or only
// publishes (its predictions; mqtt-listener.ts says why those are two connections).
// Flow control: a message handler that cannot take a message yet returns a promise, and the message is
// acknowledged only when it settles. mqtt.js reads the next packet only after that, so the broker keeps
// what we cannot take (QoS 1) instead of us buffering without bound; the receive window we announce caps
// how many unacknowledged messages it sends ahead.
// mqtt.js gets an options object (a URL string prints a url.parse() deprecation warning inside the
// compiled binary). Its own reconnect timer retries at a fixed period, so we disable it and run our own
// loop with exponential backoff and jitter: instances of one share group restarting together then do not
// hammer the broker in lock step.
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";

export interface MqttSettings {
  host: string;
  port: number;
  tls: boolean;
  websocket: boolean;
  username?: string;
  password?: string;
  clientId?: string;
}

export type QoS = 0 | 1 | 2;

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000 };

/**
 * What the listener tells its owner about the connection. An outage is reported once when it starts
 * ("down") and once when it ends ("up" with how long it lasted and how many attempts it took), never
 * per attempt.
 */
export type ConnectionChange =
  | { state: "up"; reconnected: boolean; attempts: number; outageMs: number }
  | { state: "down"; reason: string }
  | { state: "subscribe-failed"; reason: string }
  | { state: "refused"; reason: string };

export interface ConnectionHandlers {
  /** A promise holds the message's acknowledgement (and the next message) until it settles. */
  message(topic: string, payload: Uint8Array): undefined | Promise<void>;
  connection(change: ConnectionChange): void;
}

export interface Subscription {
  topic: string;
  qos: QoS;
  /** further topics, best effort: a broker that refuses them (e.g. $SYS) is not an error */
  watch?: string[];
}

/** Unacknowledged messages the broker may send ahead of our acknowledgements (MQTT v5 Receive Maximum). */
const RECEIVE_WINDOW = 32;

export class MqttConnection {
  private readonly client: MqttClient;
  private closing = false;
  private everConnected = false;
  private outageStarted: number | null = null;
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private lastError = "";
  /** the acknowledgement hold of the message being handled, if its handler asked for one */
  private hold: Promise<void> | undefined;

  /** Without a subscription the connection only publishes, and is "up" as soon as it is connected. */
  constructor(
    settings: MqttSettings,
    private readonly subscription: Subscription | null,
    private readonly handlers: ConnectionHandlers,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
  ) {
    this.client = mqtt.connect(clientOptions(settings));
    this.client.on("connect", () => this.onConnect());
    // mqtt.js emits 'message' and then calls handleMessage, whose callback sends the acknowledgement and
    // lets the next packet in.
    this.client.on("message", (topic, payload) => {
      this.hold = this.handlers.message(topic, payload);
    });
    this.client.handleMessage = (_packet, done) => {
      const hold = this.hold;
      this.hold = undefined;
      if (hold === undefined) done();
      else void hold.then(() => done());
    };
    // Without a listener an 'error' event would throw; the reason is reported with the outage instead.
    this.client.on("error", (err) => this.onError(err));
    this.client.on("close", () => this.onClose());
  }

  /** Resolves when the broker acknowledged the message (QoS ≥ 1); queued while the broker is away. */
  async publish(topic: string, payload: string, qos: QoS): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Stops reconnecting, lets acknowledged-delivery publishes in flight finish, then disconnects. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    // A graceful end waits for the broker, which may be away: then only a forced end returns.
    if (this.client.connected) await this.client.endAsync(false);
    else await this.client.endAsync(true);
  }

  private onConnect(): void {
    const reconnected = this.everConnected;
    const outageMs = this.outageStarted === null ? 0 : Date.now() - this.outageStarted;
    const attempts = this.attempts;
    this.everConnected = true;
    this.outageStarted = null;
    this.attempts = 0;
    this.lastError = "";
    if (this.subscription === null) {
      this.handlers.connection({ state: "up", reconnected, attempts, outageMs });
      return;
    }
    const subscription = this.subscription;
    // Subscribing here, not once after connect(), is what makes a reconnect with a clean session
    // (the broker forgot us) receive events again. "up" is told once the broker has acknowledged the
    // subscription: from then on nothing published is missed.
    this.client.subscribe(subscription.topic, { qos: subscription.qos }, (err, granted) => {
      // Lost again before the acknowledgement: the next connection subscribes anew.
      if (!this.client.connected) return;
      const refusedGrant = granted?.find((g) => g.qos > 2);
      if (err || refusedGrant) {
        const reason = err ? err.message : `broker refused subscription to ${subscription.topic} (reason code ${refusedGrant?.qos})`;
        this.handlers.connection({ state: "subscribe-failed", reason });
      }
      this.handlers.connection({ state: "up", reconnected, attempts, outageMs });
    });
    for (const topic of subscription.watch ?? []) this.client.subscribe(topic, { qos: 0 }, () => {});
  }

  private onError(err: Error & { code?: string | number }): void {
    this.lastError = err.message || String(err.code ?? "connection error");
    // A broker that refuses our credentials or protocol will refuse them on every attempt.
    if (/^Connection refused: (Not authorized|Bad User Name or Password|Banned|Unsupported Protocol Version)/i.test(err.message)) {
      this.closing = true;
      this.handlers.connection({ state: "refused", reason: err.message });
    }
  }

  private onClose(): void {
    if (this.closing) return;
    if (this.outageStarted === null) {
      this.outageStarted = Date.now();
      this.handlers.connection({
        state: "down",
        reason: this.lastError || (this.everConnected ? "connection closed" : "could not connect"),
      });
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.retryTimer) return;
    const exp = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(this.attempts, 20));
    const delay = exp * (0.75 + Math.random() * 0.5);
    this.attempts++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.closing) return;
      // Keeping the stores keeps unacknowledged QoS 1 publishes, which mqtt.js re-sends on connect.
      this.client.reconnect({ incomingStore: this.client.incomingStore, outgoingStore: this.client.outgoingStore });
    }, delay);
  }
}

function clientOptions(s: MqttSettings): IClientOptions {
  return {
    host: s.host,
    port: s.port,
    protocol: s.websocket ? (s.tls ? "wss" : "ws") : s.tls ? "mqtts" : "mqtt",
    ...(s.websocket ? { path: "/mqtt" } : {}),
    protocolVersion: 5,
    clientId: s.clientId ?? `ciml-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
    username: s.username,
    password: s.password,
    clean: true,
    keepalive: 30,
    properties: { receiveMaximum: RECEIVE_WINDOW },
    connectTimeout: 10_000,
    reconnectPeriod: 0,
    resubscribe: false,
  };
}

/** The default port for the transport, as the OpenStack firehose used them. */
export function defaultPort(tls: boolean, websocket: boolean): number {
  if (websocket) return tls ? 8080 : 80;
  return tls ? 8883 : 1883;
}
