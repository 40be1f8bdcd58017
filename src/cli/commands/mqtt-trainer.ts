// `ciml mqtt-trainer` (alias mqtt-predict): its help and the normaliser from flags to the step's options.
import type { CommandSpec } from "../command-spec.ts";
import { stepCommand } from "../command-spec.ts";
import { option } from "../option-spec.ts";
import { DATA_PATH, S3_OPTIONS, SOURCE_OPTIONS, DSTAT_PATH, dataPath, predictorOptions, TIMEOUT } from "./shared-options.ts";

export const mqttTrainerCommand: CommandSpec = {
  name: "mqtt-trainer",
  alias: "mqtt-predict",
  summary: "Listen for finished CI runs on MQTT and publish a prediction for each",
  notes: ["Runs until Ctrl-C. The broker password is better given as $CIML_MQTT_PASSWORD: a command line is visible in `ps`."],
  examples: [
    "ciml mqtt-trainer --mqtt-hostname firehose.openstack.org --dataset usr-1min --experiment dnn-3x10",
    "ciml mqtt-trainer --mqtt-hostname broker.example --tls --username ciml   # password from $CIML_MQTT_PASSWORD",
  ],
  options: [
    ...SOURCE_OPTIONS,
    option("--mqtt-hostname <host>", "MQTT broker"),
    option("--port <n>", "broker port (default: 1883, 8883 with --tls)"),
    option("--tls", "connect over TLS"),
    option("--websocket", "connect over websockets"),
    option("--username <user>", "broker user"),
    option("--password <password>", "broker password (visible in `ps`; prefer $CIML_MQTT_PASSWORD)"),
    option("--client-id <id>", "MQTT client id (the connection that publishes the predictions adds -publish)"),
    option("--qos <n>", "subscription QoS"),
    option("--topic <topic>", "topic to subscribe to"),
    option("--share-group <name>", "subscribe as $share/<name>/<topic> so several instances split the events"),
    option("--publish-topic <topic>", "where predictions go (default: ciml/predictions/<build-name>)"),
    option("--dataset <name>", "dataset whose normalisation the model uses"),
    option("--experiment <name>", "experiment whose model predicts"),
    option("--sample-interval <alias>", "accepted for compatibility; the dataset's own interval is used"),
    option("--build-name <name>", "only predict runs of this build name"),
    option("--model-dir <path>", "accepted for compatibility; same as --data-path"),
    DSTAT_PATH,
    TIMEOUT,
    option("--concurrency <n>", "builds predicted at once"),
    option("--retries <n>", "further attempts for a build whose data cannot be fetched yet, or whose runs are not in the database yet"),
    option(
      "--queue-size <n>",
      "builds waiting at most; beyond it the broker holds further messages (QoS 1), and drops what its own queue cannot hold",
    ),
    option("--debug", "also print events that are not for us, and each run's dstat fetch"),
    DATA_PATH,
    ...S3_OPTIONS,
  ],
  async load() {
    const { mqttTrainer, MQTT_TRAINER_DEFAULTS: d } = await import("../../pipeline/mqtt-trainer.ts");
    return stepCommand(mqttTrainer, (f) => ({
      ...predictorOptions(f, d),
      // --model-dir is the original mqtt-predict's name for the data path.
      dataPath: f.string("--data-path") ?? f.string("--model-dir") ?? dataPath(f),
      sampleInterval: f.string("--sample-interval"),
      broker: {
        host: f.string("--mqtt-hostname", d.mqttHostname),
        port: f.whole("--port"),
        tls: f.on("--tls"),
        websocket: f.on("--websocket"),
        username: f.string("--username"),
        password: f.fromEnv("--password", "CIML_MQTT_PASSWORD"),
        clientId: f.string("--client-id"),
      },
      qos: f.whole("--qos", d.qos),
      topic: f.string("--topic", d.topic),
      shareGroup: f.string("--share-group"),
      publishTopic: f.string("--publish-topic"),
      buildName: f.string("--build-name", d.buildName),
      concurrency: f.whole("--concurrency", d.concurrency),
      retries: f.whole("--retries", d.retries),
      queueSize: f.whole("--queue-size", d.queueSize),
      debug: f.on("--debug"),
    }));
  },
};
