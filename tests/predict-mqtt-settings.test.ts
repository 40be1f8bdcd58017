import { describe, expect, test } from "bun:test";
import { UsageError } from "../src/pipeline/errors.ts";
import { brokerSettings, parseQos, publishTopic, subscriptionTopic } from "../src/pipeline/predict/mqtt-settings.ts";

describe("mqtt-trainer flags", () => {
  test("ports follow the transport unless given (the firehose's 1883/8883/80/8080)", () => {
    expect(brokerSettings({ host: "firehose.openstack.org" }).port).toBe(1883);
    expect(brokerSettings({ host: "h", tls: true }).port).toBe(8883);
    expect(brokerSettings({ host: "h", websocket: true }).port).toBe(80);
    expect(brokerSettings({ host: "h", websocket: true, tls: true }).port).toBe(8080);
    expect(brokerSettings({ host: "h", port: "18830" }).port).toBe(18830);
  });

  test.each([
    [() => brokerSettings({ host: "h", port: "70000" }), /--port 70000/],
    [() => brokerSettings({ host: "mqtt://h" }), /--mqtt-hostname/],
    [() => brokerSettings({ host: "h", password: "secret" }), /--password needs --username/],
    [() => parseQos("3"), /--qos 3/],
    [() => subscriptionTopic("a/#/b"), /"#" may only be/],
    [() => subscriptionTopic("a/b+"), /"\+" must be a whole level/],
    [() => subscriptionTopic("a/#", "x/y"), /--share-group/],
    [() => subscriptionTopic("$share/g/a/#", "g"), /already a shared subscription/],
    [() => publishTopic("ciml/#", "tempest-full"), /--publish-topic/],
  ])("a bad value is a usage error naming the flag (%#)", (call, message) => {
    expect(call).toThrow(UsageError);
    expect(call).toThrow(message);
  });

  test("the share group prefixes the topic; the publish topic defaults per build name", () => {
    expect(subscriptionTopic("gearman-subunit/#", "ciml")).toBe("$share/ciml/gearman-subunit/#");
    expect(subscriptionTopic("gearman-subunit/#")).toBe("gearman-subunit/#");
    expect(publishTopic(undefined, "tempest-full")).toBe("ciml/predictions/tempest-full");
    expect(parseQos(1)).toBe(1);
  });
});
