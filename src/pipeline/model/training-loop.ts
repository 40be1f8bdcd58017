// Training as the original did it: shuffled mini-batches, one optimizer step each, until `steps` or `epochs` runs out,
// whichever comes first. Batches are copied out of the Float32Array training matrix into the step's own
// buffers; the weights go back into the network's tfjs variables once per epoch, for scoring and saving.
import { Breather } from "../breather.ts";
import type { Emit } from "../events.ts";
import { Backprop } from "./backprop.ts";
import type { Network } from "./network.ts";
import type { Optimizer } from "./optimizers.ts";
import { seededRandom, shuffleInto } from "../seeded-random.ts";
import type { tf } from "./tfjs-runtime.ts";

const PROGRESS_EVERY_MS = 1000;

export interface Matrix {
  /** n × features, row-major */
  x: Float32Array;
  n: number;
  features: number;
}

export interface TrainingSet extends Matrix {
  labels: Int32Array;
}

export interface LoopOptions {
  batchSize: number;
  epochs: number;
  maxSteps: number;
  l2: number;
  dropout: number;
  /** weight of each class id in the loss */
  classWeights: Float32Array;
  seed: number;
  /** epochs without a better dev loss before stopping; 0 = never */
  patience: number;
  /** threads for the matrix products; the model is the same either way (default: 2 when the machine has 2 cores) */
  threads?: 1 | 2;
}

/** Scores shown beside the training loss after each epoch, e.g. {"dev/loss": …, "test/accuracy": …}. */
type EpochMonitor = (epoch: number, step: number, train: { loss: number; accuracy: number }) => Record<string, number>;

export interface LoopResult {
  steps: number;
  epochs: number;
  seconds: number;
  stoppedEarly: boolean;
  /** the epoch whose weights were kept (the best dev loss with patience, else the last) */
  keptEpoch: number;
}

export async function trainLoop(
  net: Network,
  optimizer: Optimizer,
  data: TrainingSet,
  options: LoopOptions,
  monitor: EpochMonitor,
  emit: Emit,
  signal: AbortSignal,
): Promise<LoopResult> {
  const { n, features } = data;
  const batchesPerEpoch = Math.ceil(n / options.batchSize);
  const totalEpochs = Math.min(options.epochs, Math.ceil(options.maxSteps / batchesPerEpoch));
  const totalSteps = Math.min(options.maxSteps, options.epochs * batchesPerEpoch);
  const random = seededRandom(options.seed);
  const order = new Int32Array(n);
  const targets = net.targets(data.labels);
  const outputs = targets.length / n;
  const core = await Backprop.create(net, Math.min(options.batchSize, n), options.threads, optimizer);
  const started = performance.now();
  let lastProgress = started;
  let step = 0;
  let epoch = 0;
  let examples = 0;
  let best = { loss: Infinity, epoch: 0, weights: null as tf.Tensor[] | null };
  let stoppedEarly = false;
  const breather = new Breather();

  try {
    while (epoch < totalEpochs && step < totalSteps) {
      epoch++;
      shuffleInto(order, random);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let start = 0; start < n && step < totalSteps; start += options.batchSize) {
        // The batches below never wait on anything, so Ctrl-C gets its turn here.
        await breather.maybe(signal);
        const b = Math.min(options.batchSize, n - start);
        for (let i = 0; i < b; i++) {
          const row = order[start + i]!;
          core.x.set(data.x.subarray(row * features, (row + 1) * features), i * features);
          core.targets.set(targets.subarray(row * outputs, (row + 1) * outputs), i * outputs);
          core.weights[i] = options.classWeights[data.labels[row]!]!;
        }
        const batch = core.step(b, { l2: options.l2, dropout: options.dropout, seed: options.seed * 1_000_003 + step });
        core.update(optimizer);
        lossSum += batch.loss;
        correct += batch.correct;
        seen += b;
        examples += b;
        step++;
        // Long epochs (small batches, big sets) still show movement between epoch events.
        if (performance.now() - lastProgress > PROGRESS_EVERY_MS) {
          lastProgress = performance.now();
          const elapsed = (lastProgress - started) / 1000;
          emit({
            type: "progress",
            stage: "train",
            done: step,
            total: totalSteps,
            unit: "steps",
            rate: step / elapsed,
            etaSeconds: (elapsed / step) * (totalSteps - step),
          });
        }
      }
      core.writeBack();
      const train = { loss: lossSum / seen, accuracy: correct / seen };
      const scores = monitor(epoch, step, train);
      const elapsed = (performance.now() - started) / 1000;
      const examplesPerSecond = examples / elapsed;
      const etaSeconds = (elapsed / step) * (totalSteps - step);
      emit({
        type: "epoch",
        epoch,
        totalEpochs,
        step,
        metrics: { loss: train.loss, accuracy: train.accuracy, ...scores },
        examplesPerSecond,
        etaSeconds,
      });
      emit({ type: "progress", stage: "train", done: step, total: totalSteps, unit: "steps", rate: step / elapsed, etaSeconds });
      const devLoss = scores["dev/loss"];
      if (options.patience > 0 && devLoss !== undefined) {
        if (devLoss < best.loss) {
          best.weights?.forEach((t) => t.dispose());
          best = { loss: devLoss, epoch, weights: net.variables.map((v) => v.clone()) };
        } else if (epoch - best.epoch >= options.patience) {
          stoppedEarly = true;
          break;
        }
      }
    }
    if (best.weights) net.variables.forEach((v, i) => v.assign(best.weights![i]!));
    return {
      steps: step,
      epochs: epoch,
      seconds: (performance.now() - started) / 1000,
      stoppedEarly,
      keptEpoch: best.weights ? best.epoch : epoch,
    };
  } finally {
    await core.close();
    best.weights?.forEach((t) => t.dispose());
  }
}
