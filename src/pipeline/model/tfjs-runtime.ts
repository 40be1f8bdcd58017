// One place that decides how TensorFlow.js runs. Measured here: wasm SIMD single-threaded is the
// fastest backend that installs here; tfjs-node is optional and only loaded when asked for.
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
// `type: "file"` makes `bun build --compile` embed these in the binary; the import gives their path.
import wasmPlain from "../../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm" with { type: "file" };
import wasmSimd from "../../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm" with { type: "file" };
import wasmThreaded from "../../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm" with {
  type: "file",
};
import { CimlError } from "../errors.ts";

export type BackendName = "wasm" | "cpu" | "tensorflow";
const BACKENDS: readonly BackendName[] = ["wasm", "cpu", "tensorflow"];

export interface RuntimeInfo {
  backend: BackendName;
  /** "simd", "simd+threads" or "plain" for wasm; null for the others */
  wasmFlavour: string | null;
  tfjsVersion: string;
}

let ready: Promise<RuntimeInfo> | null = null;
let readyFor: BackendName | null = null;

/** Selects and initialises the backend once per process; later calls with the same name reuse it. */
export function initTf(backend: BackendName = "wasm"): Promise<RuntimeInfo> {
  if (ready && readyFor === backend) return ready;
  readyFor = backend;
  ready = start(backend);
  return ready;
}

async function start(backend: BackendName): Promise<RuntimeInfo> {
  tf.env().set("PROD", true);
  if (backend === "tensorflow") {
    // A computed specifier keeps the bundler from trying to embed a package we do not ship.
    const name = ["@tensorflow", "tfjs-node"].join("/");
    try {
      await import(name);
    } catch {
      throw new CimlError(
        'backend "tensorflow" needs @tensorflow/tfjs-node, which is not installed: run `npm install @tensorflow/tfjs-node` where it can be installed, or use --backend wasm',
      );
    }
  }
  if (backend === "wasm") {
    setWasmPaths({
      "tfjs-backend-wasm.wasm": wasmPlain,
      "tfjs-backend-wasm-simd.wasm": wasmSimd,
      "tfjs-backend-wasm-threaded-simd.wasm": wasmThreaded,
    });
  }
  if (!(await tf.setBackend(backend))) {
    throw new CimlError(`tfjs backend "${backend}" failed to initialise; try --backend cpu`);
  }
  await tf.ready();
  let wasmFlavour: string | null = null;
  if (backend === "wasm") {
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
    wasmFlavour = simd ? (threads ? "simd+threads" : "simd") : "plain";
  }
  return { backend, wasmFlavour, tfjsVersion: tf.version.tfjs };
}

export function parseBackend(value: string): BackendName {
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendName;
  throw new CimlError(`--backend ${value}: unknown backend; use one of ${BACKENDS.join(", ")}`, 2);
}

export { tf };
