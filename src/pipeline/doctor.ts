// `ciml doctor`: proves that this build's runtime works end to end (tfjs backend, wasm files, training)
// by fitting a tiny model to a rule it can learn, then checking that it did.
import type { Step } from "./events.ts";
import { CimlError, throwIfAborted } from "./errors.ts";
import { seededRandom } from "./seeded-random.ts";
import { initTf, tf, type BackendName, type RuntimeInfo } from "./model/tfjs-runtime.ts";

export interface DoctorOptions {
  backend: BackendName;
}

/** What a command-line user gets without the flag; the one place these defaults are written. */
export const DOCTOR_DEFAULTS = { backend: "wasm" } satisfies DoctorOptions;

export interface DoctorResult extends RuntimeInfo {
  accuracy: number;
  seconds: number;
}

const N = 256;
const EPOCHS = 40;

export const doctor: Step<DoctorOptions, DoctorResult> = async (options, { emit, signal }) => {
  const started = performance.now();
  emit({ type: "stage", stage: "runtime", state: "started", detail: options.backend });
  const info = await initTf(options.backend);
  emit({ type: "info", message: `tfjs ${info.tfjsVersion} on ${info.backend}${info.wasmFlavour ? ` (${info.wasmFlavour})` : ""}` });
  emit({ type: "stage", stage: "runtime", state: "finished" });

  // Two features, class = whether they sum above zero: learnable in a few epochs by any working backend.
  const x = new Float32Array(N * 2);
  const y = new Float32Array(N);
  const uniform = seededRandom(1);
  const rand = () => uniform() * 2 - 1;
  for (let i = 0; i < N; i++) {
    x[2 * i] = rand();
    x[2 * i + 1] = rand();
    y[i] = x[2 * i]! + x[2 * i + 1]! > 0 ? 1 : 0;
  }
  emit({ type: "stage", stage: "train", state: "started", training: true, detail: `${N} examples, ${EPOCHS} epochs` });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, inputShape: [2], activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }),
      tf.layers.dense({ units: 1, activation: "sigmoid", kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.05), loss: "binaryCrossentropy", metrics: ["accuracy"] });
  const xs = tf.tensor2d(x, [N, 2]);
  const ys = tf.tensor2d(y, [N, 1]);
  try {
    for (let epoch = 1; epoch <= EPOCHS; epoch++) {
      throwIfAborted(signal);
      const h = await model.fit(xs, ys, { epochs: 1, batchSize: 32, verbose: 0, shuffle: false });
      emit({
        type: "epoch",
        epoch,
        totalEpochs: EPOCHS,
        step: epoch * Math.ceil(N / 32),
        metrics: { loss: Number(h.history.loss?.[0]), accuracy: Number(h.history.acc?.[0]) },
      });
    }
    const p = model.predict(xs) as tf.Tensor;
    const probs = await p.data();
    p.dispose();
    let correct = 0;
    for (let i = 0; i < N; i++) if ((probs[i]! > 0.5 ? 1 : 0) === y[i]) correct++;
    const accuracy = correct / N;
    if (accuracy < 0.9)
      throw new CimlError(
        `doctor: the ${info.backend} backend trained to only ${(accuracy * 100).toFixed(1)}% on a trivial rule; this runtime is broken`,
      );
    const seconds = (performance.now() - started) / 1000;
    emit({ type: "stage", stage: "train", state: "finished" });
    emit({
      type: "result",
      stage: "doctor",
      summary: { backend: info.backend, wasm: info.wasmFlavour, tfjs: info.tfjsVersion, accuracy, seconds: Number(seconds.toFixed(2)) },
      lines: ["ciml runtime OK"],
    });
    return { ...info, accuracy, seconds };
  } finally {
    xs.dispose();
    ys.dispose();
    model.dispose();
  }
};
