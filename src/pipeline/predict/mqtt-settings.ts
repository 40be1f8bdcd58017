// mqtt-trainer's broker flags, checked once, with a one-line fix in every message (exit 2).
import { defaultPort, type MqttSettings, type QoS } from "../../io/mqtt-connection.ts";
import { UsageError } from "../errors.ts";
import { wholeNumber } from "../whole-number.ts";

export interface BrokerFlags {
  host: string;
  port?: string | number;
  tls?: boolean;
  websocket?: boolean;
  username?: string;
  password?: string;
  clientId?: string;
}

export function brokerSettings(flags: BrokerFlags): MqttSettings {
  if (!flags.host || /[\s/]/.test(flags.host))
    throw new UsageError(`--mqtt-hostname ${JSON.stringify(flags.host)} is not a host name; give e.g. firehose.openstack.org or 127.0.0.1`);
  const tls = flags.tls === true;
  const websocket = flags.websocket === true;
  const port = flags.port === undefined ? defaultPort(tls, websocket) : wholeNumber("--port", flags.port, 1, 65535);
  if (flags.password !== undefined && flags.username === undefined) throw new UsageError("--password needs --username too");
  return { host: flags.host, port, tls, websocket, username: flags.username, password: flags.password, clientId: flags.clientId };
}

export function parseQos(value: string | number): QoS {
  const n = Number(value);
  if (n !== 0 && n !== 1 && n !== 2) throw new UsageError(`--qos ${value} is not an MQTT QoS; use 0, 1 or 2`);
  return n;
}

/** The topic actually subscribed: `$share/<group>/<topic>` with a share group (MQTT v5 shared subscription). */
export function subscriptionTopic(topic: string, shareGroup?: string): string {
  checkFilter(topic);
  if (shareGroup === undefined) return topic;
  if (shareGroup.length === 0 || /[/+#]/.test(shareGroup))
    throw new UsageError(`--share-group ${JSON.stringify(shareGroup)} must be a plain name without "/", "+" or "#", e.g. ciml-predictors`);
  if (topic.startsWith("$share/"))
    throw new UsageError(`--topic ${topic} is already a shared subscription; drop --share-group or the $share/ prefix`);
  return `$share/${shareGroup}/${topic}`;
}

export function publishTopic(flag: string | undefined, buildName: string): string {
  const topic = flag ?? `ciml/predictions/${buildName}`;
  if (topic.length === 0 || /[+#]/.test(topic))
    throw new UsageError(
      `--publish-topic ${JSON.stringify(topic)} must be a plain topic without "+" or "#", e.g. ciml/predictions/tempest-full`,
    );
  return topic;
}

function checkFilter(topic: string): void {
  if (topic.length === 0) throw new UsageError("--topic must not be empty; the firehose's is gearman-subunit/#");
  const levels = topic.split("/");
  levels.forEach((level, i) => {
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1))
      throw new UsageError(`--topic ${topic}: "#" may only be the whole last level, e.g. gearman-subunit/#`);
    if (level.includes("+") && level !== "+")
      throw new UsageError(`--topic ${topic}: "+" must be a whole level, e.g. gearman-subunit/+/openstack/#`);
  });
}
