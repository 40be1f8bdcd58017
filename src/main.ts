#!/usr/bin/env bun
// The CLI: a table of commands, each mapping its flags to one pipeline call (docs/architecture.md).
import { cac, type CAC } from "cac";
import pkg from "../package.json" with { type: "json" };
import { buildDataset, DEFAULT_SEED } from "./pipeline/build-dataset.ts";
import { cacheData } from "./pipeline/cache-data.ts";
import { dbBatchPredict } from "./pipeline/db-batch-predict.ts";
import { dbPredict } from "./pipeline/db-predict.ts";
import { doctor } from "./pipeline/doctor.ts";
import { mqttTrainer } from "./pipeline/mqtt-trainer.ts";
import type { PredictorOptions } from "./pipeline/predict/predict-build.ts";
import type { ExperimentFlags } from "./pipeline/model/experiment.ts";
import { plotData } from "./pipeline/plot-data.ts";
import { quickstart } from "./pipeline/quickstart.ts";
import { setupExperiment } from "./pipeline/setup-experiment.ts";
import { simulate } from "./pipeline/simulate.ts";
import { trainModel } from "./pipeline/train-model.ts";
import { CimlError, UsageError } from "./pipeline/errors.ts";
import { parseBackend } from "./pipeline/model/tfjs-runtime.ts";
import { closest, commandFromLinkName, joinMultiValues, splitMultiValue } from "./cli/argv.ts";
import { runStep, type FaceFlags } from "./cli/run-step.ts";

const ORIGINAL_DB_URI = "mysql+pymysql://query:query@logstash.openstack.org/subunit2sql";
const DB_URI_HELP = `subunit2sql database URI: mysql+pymysql://user:pass@host[:port]/db, mysql://..., sqlite:///path (default: $CIML_DB_URI, else ${ORIGINAL_DB_URI})`;
const DSTAT_PATH_HELP = "dstat file path under the run's log root, tried in order (repeatable; replaces the four defaults)";

type Flags = FaceFlags & Record<string, unknown>;

let exitCode = 0;
const run = async (code: Promise<number>) => {
  exitCode = await code;
};

/** --db-uri, else $CIML_DB_URI, else the original's public database. */
function dbUriFlag(flags: Flags): string {
  return flags.dbUri !== undefined ? String(flags.dbUri) : process.env.CIML_DB_URI || ORIGINAL_DB_URI;
}

/** A repeatable option: cac gives one value or an array; undefined when not given. */
function listFlag(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** S3 is part of the original's interface; until it lands, saying so beats silently writing locally. */
function rejectS3(flags: Flags): void {
  // cac does not camel-case names that contain digits, so these keep their dashes.
  if (flags["s3-profile"] !== undefined || flags["s3-url"] !== undefined) {
    throw new CimlError("S3 storage (--s3-profile, --s3-url) is not supported yet; use a local --data-path");
  }
}

function optionalString(value: unknown): string | undefined {
  return value === undefined ? undefined : String(value);
}

/** The flags every prediction command shares; --model-dir is the original mqtt-predict's name for the data path. */
function predictorFlags(flags: Flags): PredictorOptions {
  return {
    dataPath: optionalString(flags.dataPath ?? flags.modelDir),
    dbUri: dbUriFlag(flags),
    dataset: String(flags.dataset),
    experiment: String(flags.experiment),
    dstatPaths: listFlag(flags.dstatPath),
    timeoutSeconds: flags.timeout as string | number,
    sampleInterval: optionalString(flags.sampleInterval),
  };
}

function withS3(cmd: ReturnType<CAC["command"]>) {
  return cmd.option("--s3-profile <name>", "S3 profile (not supported yet)").option("--s3-url <url>", "S3 endpoint (not supported yet)");
}

export function buildCli(): CAC {
  const cli = cac("ciml");
  cli
    .option("--data-path <path>", "workspace root (default: $CIML_DATA_PATH, else ./data)")
    .option("--json", "one JSON object per line on stdout, nothing else there")
    .option("--quiet", "only warnings and errors")
    .option("--no-tui", "plain lines even on a terminal");

  withS3(
    cli
      .command("cache-data", "Fetch runs of a build name from the subunit2sql DB and their dstat files into the local cache")
      .option("--build-name <name>", "run_metadata build_name of the runs to fetch", { default: "tempest-full" })
      .option("--db-uri <uri>", DB_URI_HELP)
      .option("--limit <n>", "stop when this many runs of the build name are cached (0 = no limit)", { default: 0 })
      .option("--parallel <n>", "downloads in flight at once", { default: 8 })
      .option("--dstat-path <path>", DSTAT_PATH_HELP)
      .option("--timeout <seconds>", "overall time allowed per file download", { default: 60 }),
  ).action((flags: Flags) =>
    run(
      runStep(
        cacheData,
        {
          dataPath: flags.dataPath as string | undefined,
          buildName: String(flags.buildName),
          dbUri: dbUriFlag(flags),
          limit: Number(flags.limit),
          parallel: Number(flags.parallel),
          dstatPaths: listFlag(flags.dstatPath),
          timeoutSeconds: Number(flags.timeout),
        },
        flags,
      ),
    ),
  );

  cli
    .command("simulate", "Write a synthetic CI history: a subunit2sql database and a log tree of dstat files")
    .option("--runs <n>", "number of runs", { default: 500 })
    .option("--failure-rate <p>", "fraction of failed runs", { default: 0.1 })
    .option("--missing-rate <p>", "fraction of runs without a dstat file", { default: 0.02 })
    .option("--build-name <name>", "build name of the runs (repeatable)")
    .option("--seed <n>", "random seed", { default: 42 })
    .option("--db-uri <uri>", "where to write the database", { default: "sqlite:///ci.db" })
    .option("--log-root <dir>", "where to write the log tree", { default: "./logs" })
    .option(
      "--log-url <url>",
      "log root URL stored in runs.artifacts, e.g. where an HTTP server will serve --log-root (default: file://<log-root>)",
    )
    .option("--interval <seconds>", "seconds between dstat rows (devstack used 1)", { default: 1 })
    .action((flags: Flags) =>
      run(
        runStep(
          simulate,
          {
            runs: Number(flags.runs),
            failureRate: Number(flags.failureRate),
            missingRate: Number(flags.missingRate),
            buildNames: listFlag(flags.buildName) ?? ["tempest-full"],
            seed: Number(flags.seed),
            dbUri: String(flags.dbUri),
            logRoot: String(flags.logRoot),
            logUrl: flags.logUrl === undefined ? undefined : String(flags.logUrl),
            intervalSeconds: Number(flags.interval),
          },
          flags,
        ),
      ),
    );

  withS3(
    cli
      .command("build-dataset", "Select cached runs, pick features, resample, normalise and split into numpy archives")
      .option("--dataset <name>", "dataset name", { default: "dataset" })
      .option("--build-name <name>", "cached run list to use", { default: "tempest-full" })
      .option("--slicer <slice>", "python slice over the cached runs, e.g. :5000", { default: ":" })
      .option("--sample-interval <alias>", "resample to a pandas offset alias (1s, 10s, 1min, 5min, ...)")
      .option("--features-regex <regex>", "dstat columns to keep, searched in each name (default: all)")
      .option("--class-label <label>", "status, node_provider, node_provider_all or any metadata key", { default: "status" })
      .option("--tdt-split <t d s>", "training, dev and test in tenths, summing to 10", { default: "6 2 2" })
      .option("--force", "overwrite an existing dataset")
      .option("--visualize", "draw sizes_by_result.png/.svg into --data-plots-folder")
      .option("--target-data-path <path>", "where the dataset is written (default: --data-path)")
      .option("--data-plots-folder <dir>", "folder for plots", { default: "/tmp" })
      .option(
        "--aggregation-functions <name>",
        "aggregate each column instead of fixing its length (repeatable: mean std min max size median sum var)",
      )
      .option(
        "--plot-examples <n>",
        "with --visualize: also draw the per-example plots (resampled, fixed size, unrolled, normalised) of the first n training examples",
        { default: 0 },
      )
      .option("--seed <n>", "seed of the train/dev/test split", { default: DEFAULT_SEED })
      .option("--dtype <dtype>", "float32 or float64 examples", { default: "float32" }),
  ).action((flags: Flags) =>
    run(
      runStep(
        buildDataset,
        {
          dataPath: flags.dataPath as string | undefined,
          targetDataPath: flags.targetDataPath as string | undefined,
          dataset: String(flags.dataset),
          buildName: String(flags.buildName),
          slicer: String(flags.slicer),
          sampleInterval: flags.sampleInterval === undefined ? undefined : String(flags.sampleInterval),
          featuresRegex: flags.featuresRegex === undefined ? undefined : String(flags.featuresRegex),
          classLabel: String(flags.classLabel),
          tdtSplit: splitMultiValue(String(flags.tdtSplit)),
          force: flags.force === true,
          visualize: flags.visualize === true,
          dataPlotsFolder: String(flags.dataPlotsFolder),
          plotExamples: flags.plotExamples as number | string,
          aggregationFunctions: [flags.aggregationFunctions ?? []].flat().map(String),
          seed: flags.seed as string | number,
          dtype: String(flags.dtype),
        },
        flags,
      ),
    ),
  );

  withS3(
    cli
      .command("setup-experiment", "Name a model and its hyper-parameters, stored as JSON in the workspace")
      .option("--experiment <name>", "experiment name", { default: "experiment" })
      .option("--estimator <name>", "tf.estimator.DNNClassifier (dnn) or tf.contrib.learn.SVM (svm)", {
        default: "tf.estimator.DNNClassifier",
      })
      .option("--hidden-layers <units>", "units per hidden layer, separated by /", { default: "10/10/10" })
      .option("--steps <n>", "maximum training steps", { default: 30 })
      .option("--batch-size <n>", "batch size", { default: "1" })
      .option("--epochs <n>", "number of epochs", { default: "1" })
      .option("--optimizer <name>", "Adagrad, Adam, Ftrl, RMSProp, SGD or ProximalAdagrad", { default: "Adagrad" })
      .option("--learning-rate <x>", "optimizer learning rate", { default: 0.05 })
      .option("--force", "overwrite an existing experiment")
      .option("--dropout <p>", "fraction of hidden units dropped while training (default 0, as TF)")
      .option("--l2 <x>", "L2 penalty on the weights (default 0 for dnn, 0.01 for svm)")
      .option("--class-weights <w>", "balanced, or label=weight pairs such as 0=1,1=10")
      .option("--patience <n>", "stop after this many epochs without a better dev loss (default 0 = never)")
      .option("--seed <n>", "seed of initial weights, shuffling and dropout (default 42)"),
  ).action((flags: Flags) =>
    run(
      runStep(
        setupExperiment,
        {
          ...(flags as unknown as ExperimentFlags),
          experiment: String(flags.experiment),
          force: Boolean(flags.force),
          dataPath: flags.dataPath as string | undefined,
        },
        flags,
      ),
    ),
  );

  withS3(
    cli
      .command("train-model", "Train an experiment on a dataset, evaluate on the test set, write TensorBoard logs")
      .option("--dataset <name>", "dataset to train on", { default: "dataset" })
      .option("--experiment <name>", "experiment to run", { default: "experiment" })
      .option("--eval-dataset <name>", "also evaluate this dataset's test set (repeatable)")
      .option("--backend <name>", "tfjs backend: wasm, cpu or tensorflow (needs @tensorflow/tfjs-node)", { default: "wasm" })
      .option("--gpu", "accepted for compatibility; GPUs need --backend tensorflow")
      .option("--debug", "verbose logging"),
  ).action((flags: Flags) =>
    run(
      runStep(
        trainModel,
        {
          dataPath: flags.dataPath as string | undefined,
          dataset: String(flags.dataset),
          experiment: String(flags.experiment),
          evalDatasets: listFlag(flags.evalDataset) ?? [],
          backend: parseBackend(String(flags.backend)),
        },
        flags,
      ),
    ),
  );

  withS3(
    cli
      .command("plot-data", "Bar charts of evaluation metrics across dataset/experiment pairs")
      .option("--dataset-experiment-label <d e l>", "DATASET EXPERIMENT LABEL (repeatable)")
      .option("--dataset-experiment-comp <d e>", "DATASET EXPERIMENT compared 1:1 with the list above (repeatable)")
      .option("--experiment-sets-names <a b>", "legend names of the two compared sets")
      .option("-k, --data-keys <key>", "eval metric keys to plot (repeatable)")
      .option("--output <file>", "output image (.png or .svg)")
      .option("--title <title>", "graph title"),
  ).action((flags: Flags) => {
    const multi = (v: unknown) => ([] as unknown[]).concat(v ?? []).map((x) => splitMultiValue(String(x)));
    return run(
      runStep(
        plotData,
        {
          dataPath: flags.dataPath as string | undefined,
          labels: multi(flags.datasetExperimentLabel),
          comparisons: multi(flags.datasetExperimentComp),
          setNames: flags.experimentSetsNames === undefined ? undefined : splitMultiValue(String(flags.experimentSetsNames)),
          keys: ([] as unknown[]).concat(flags.dataKeys ?? []).map(String),
          output: flags.output as string | undefined,
          title: flags.title as string | undefined,
        },
        flags,
      ),
    );
  });

  cli
    .command("mqtt-trainer", "Listen for finished CI runs on MQTT and publish a prediction for each")
    .alias("mqtt-predict")
    .option("--db-uri <uri>", DB_URI_HELP)
    .option("--mqtt-hostname <host>", "MQTT broker", { default: "firehose.openstack.org" })
    .option("--port <n>", "broker port (default 1883, 8883 with --tls)")
    .option("--tls", "connect over TLS")
    .option("--websocket", "connect over websockets")
    .option("--username <user>", "broker user")
    .option("--password <password>", "broker password")
    .option("--client-id <id>", "MQTT client id")
    .option("--qos <n>", "subscription QoS", { default: 1 })
    .option("--topic <topic>", "topic to subscribe to", { default: "gearman-subunit/#" })
    .option("--share-group <name>", "subscribe as $share/<name>/<topic> so several instances split the events")
    .option("--publish-topic <topic>", "where predictions go (default: ciml/predictions/<build-name>)")
    .option("--dataset <name>", "dataset whose normalisation the model uses", { default: "dataset" })
    .option("--experiment <name>", "experiment whose model predicts", { default: "experiment" })
    .option("--sample-interval <alias>", "accepted for compatibility; the dataset's own interval is used")
    .option("--build-name <name>", "only predict runs of this build name", { default: "tempest-full" })
    .option("--model-dir <path>", "accepted for compatibility; same as --data-path")
    .option("--dstat-path <path>", DSTAT_PATH_HELP)
    .option("--timeout <seconds>", "overall time allowed per dstat download", { default: 60 })
    .option("--concurrency <n>", "builds predicted at once", { default: 4 })
    .option("--retries <n>", "further attempts for a build whose data cannot be fetched yet", { default: 3 })
    .option("--queue-size <n>", "builds waiting at most; more are dropped with a warning", { default: 1000 })
    .option("--debug", "also print events that are not for us, and each run's dstat fetch")
    .action((flags: Flags) =>
      run(
        runStep(
          mqttTrainer,
          {
            ...predictorFlags(flags),
            broker: {
              host: String(flags.mqttHostname),
              port: flags.port as string | undefined,
              tls: Boolean(flags.tls),
              websocket: Boolean(flags.websocket),
              username: optionalString(flags.username),
              password: optionalString(flags.password),
              clientId: optionalString(flags.clientId),
            },
            qos: flags.qos as string | number,
            topic: String(flags.topic),
            shareGroup: optionalString(flags.shareGroup),
            publishTopic: optionalString(flags.publishTopic),
            buildName: String(flags.buildName),
            concurrency: flags.concurrency as string | number,
            retries: flags.retries as string | number,
            queueSize: flags.queueSize as string | number,
            debug: Boolean(flags.debug),
          },
          flags,
        ),
      ),
    );

  cli
    .command("db-predict <build_uuid>", "Predict the runs of one Zuul build from the database")
    .option("--db-uri <uri>", DB_URI_HELP)
    .option("--dataset <name>", "dataset whose normalisation the model uses", { default: "dataset" })
    .option("--experiment <name>", "experiment whose model predicts", { default: "experiment" })
    .option("--sample-interval <alias>", "accepted for compatibility; the dataset's own interval is used")
    .option("--build-name <name>", "only predict runs of this build name", { default: "tempest-full" })
    .option("--dstat-path <path>", DSTAT_PATH_HELP)
    .option("--timeout <seconds>", "overall time allowed per dstat download", { default: 60 })
    .option("--debug", "verbose logging")
    .action((buildUuid: string, flags: Flags) =>
      run(runStep(dbPredict, { ...predictorFlags(flags), buildUuid: String(buildUuid), buildName: String(flags.buildName) }, flags)),
    );

  cli
    .command("db-batch-predict", "Predict every run of the dataset's build name that the dataset does not contain")
    .option("--db-uri <uri>", DB_URI_HELP)
    .option("--dataset <name>", "dataset whose normalisation the model uses", { default: "dataset" })
    .option("--experiment <name>", "experiment whose model predicts", { default: "experiment" })
    .option("--slice <slice>", "python slice over the runs to predict", { default: ":" })
    .option("--parallel <n>", "downloads in flight at once", { default: 8 })
    .option("--dstat-path <path>", DSTAT_PATH_HELP)
    .option("--timeout <seconds>", "overall time allowed per dstat download", { default: 60 })
    .option("--gpu [value]", "accepted for compatibility (a value option in the original)")
    .option("--debug", "verbose logging")
    .action((flags: Flags) =>
      run(
        runStep(
          dbBatchPredict,
          { ...predictorFlags(flags), slice: String(flags.slice), parallel: flags.parallel as string | number },
          flags,
        ),
      ),
    );

  cli
    .command("quickstart", "Run the whole pipeline on a simulated CI history (no server, no network)")
    .option("--dir <dir>", "where to work", { default: "./ciml-quickstart" })
    .option("--runs <n>", "simulated runs", { default: 300 })
    .option("--seed <n>", "seed of the simulation, split and training", { default: 42 })
    .option("--force", "start afresh over an earlier quickstart in --dir")
    .action((flags: Flags) =>
      run(
        runStep(
          quickstart,
          { dir: String(flags.dir), runs: flags.runs as string | number, seed: flags.seed as string | number, force: Boolean(flags.force) },
          flags,
        ),
      ),
    );

  cli
    .command("doctor", "Check this build's runtime: train a tiny model on the chosen tfjs backend")
    .option("--backend <name>", "wasm, cpu or tensorflow", { default: "wasm" })
    .action((flags: Flags) => run(runStep(doctor, { backend: parseBackend(String(flags.backend)) }, flags)));

  cli.option("-v, --version", "print the version");
  cli.help();
  return cli;
}

export function versionLine(): string {
  return `ciml ${pkg.version} (bun ${Bun.version}, ${process.platform}-${process.arch})`;
}

async function main(argv: string[]): Promise<number> {
  const cli = buildCli();
  const commands = cli.commands.flatMap((c) => [c.name.split(" ")[0]!, ...c.aliasNames]).filter((n) => n);
  let args = joinMultiValues(argv.slice(2));
  const linked = commandFromLinkName(process.argv0, commands) ?? commandFromLinkName(argv[1], commands);
  if (linked) args = [linked, ...args];
  try {
    cli.parse(["ciml", "ciml", ...args], { run: false });
    if (!cli.matchedCommand) {
      const first = cli.args[0];
      if (first !== undefined) {
        const hint = closest(first, commands);
        throw new UsageError(`unknown command "${first}"${hint ? `; did you mean "${hint}"?` : ""} Run \`ciml --help\` for the list`);
      }
      if (cli.options.version) process.stdout.write(`${versionLine()}\n`);
      else if (!cli.options.help) cli.outputHelp();
      return 0;
    }
    if (cli.options.help) return 0;
    rejectS3(cli.options as Flags);
    await cli.runMatchedCommand();
    return exitCode;
  } catch (err) {
    const usage = err instanceof Error && err.name === "CACError";
    if (!(err instanceof CimlError) && !usage) throw err;
    const command = cli.matchedCommand?.name.split(" ")[0];
    const message = usage ? `${(err as Error).message}; run \`ciml ${command ? `${command} ` : ""}--help\`` : (err as Error).message;
    if ((cli.options as Flags).json)
      process.stdout.write(`${JSON.stringify({ type: "error", message, exitCode: usage ? 2 : (err as CimlError).exitCode })}\n`);
    else process.stderr.write(`error: ${message}\n`);
    return usage ? 2 : (err as CimlError).exitCode;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv);
}
