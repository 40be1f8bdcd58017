// A trained experiment as the prediction path sees it: the class vocabulary and a function from
// normalised rows to probabilities. The model files carry their own vocabulary and the dataset's
// normalisation (userDefinedMetadata), so class ids mean the same in every process (a fix: docs/compatibility.md, "Class order is sorted").
import { z } from "zod";
import { checkFile, WorkspaceFileError } from "../../io/checked-file.ts";
import { loadLayersModel, MODEL_JSON, readModelJsonBytes, saveLayersModel } from "../../io/tfjs-model-files.ts";
import type { Workspace } from "../../io/workspace.ts";
import { StoreError, type Store, within } from "../../io/workspace/store.ts";
import { CimlError } from "../errors.ts";
import { DenseForward } from "./dense-forward.ts";
import { DNN, SVM } from "./experiment.ts";
import { initTf, type tf, type BackendName } from "./tfjs-runtime.ts";

export interface TrainedModel {
  classes: string[];
  /** the bytes of the model.json it was loaded from: a newer model has other bytes */
  manifest: Uint8Array;
  predict(rows: Float32Array, n: number): Float32Array;
}

/** What model.json's userDefinedMetadata.ciml holds; checked on load like every workspace file. */
const metadataSchema = z
  .object({
    estimator: z.enum([DNN, SVM]),
    dataset: z.string(),
    experiment: z.string(),
    class_label: z.string(),
    classes: z.array(z.string()).min(1),
    global_step: z.number().int().nonnegative(),
    /** feature names and the dataset's normalisation, in input order */
    features: z.array(z.string()).min(1),
    normalization_mean: z.array(z.number()),
    normalization_range: z.array(z.number()),
  })
  .refine((m) => m.normalization_mean.length === m.features.length && m.normalization_range.length === m.features.length, {
    message: "normalization_mean and normalization_range need one value per feature",
    path: ["normalization_mean"],
  });

type ModelMetadata = z.infer<typeof metadataSchema>;

export async function saveTrainedModel(store: Store, dir: string, model: tf.LayersModel, metadata: ModelMetadata): Promise<void> {
  await saveLayersModel(store, model, dir, { ciml: metadata });
}

/**
 * Probabilities from a LayersModel whose output is sigmoid (1 column, class 1) or softmax (k columns), by
 * the hand-written forward pass every prediction command uses (dense-forward.ts). For one call (train-model's
 * dev set); a loaded model keeps its forward pass.
 */
export function predictProbabilities(
  model: tf.LayersModel,
  rows: Float32Array,
  n: number,
  features: number,
  classes: number,
): Float32Array {
  const forward = DenseForward.of(model, "training");
  if (forward.features !== features) throw new CimlError(`the model takes ${forward.features} features, the rows have ${features}`);
  return forward.probabilities(rows, n, classes);
}

export async function loadTrainedModel(
  ws: Workspace,
  dataset: string,
  experiment: string,
  options: { backend?: BackendName; manifest?: Uint8Array } = {},
): Promise<TrainedModel> {
  const dir = ws.modelDir(dataset, experiment);
  const manifest = options.manifest ?? (await readModelJsonBytes(ws.store, dir));
  if (manifest === undefined) {
    throw new CimlError(
      `no trained model for dataset ${dataset} and experiment ${experiment} (${within(dir, MODEL_JSON)}); run \`ciml train-model --dataset ${dataset} --experiment ${experiment}\``,
    );
  }
  await initTf(options.backend ?? "wasm");
  let loaded: Awaited<ReturnType<typeof loadLayersModel>>;
  try {
    loaded = await loadLayersModel(ws.store, dir, manifest);
  } catch (err) {
    if (err instanceof WorkspaceFileError || err instanceof StoreError) throw err;
    throw new CimlError(
      `model in ${dir} cannot be loaded (${(err as Error).message.split("\n")[0]}); train it again with \`ciml train-model\``,
    );
  }
  const { model } = loaded;
  let meta: ModelMetadata;
  let forward: DenseForward;
  try {
    meta = checkFile(metadataSchema, loaded.metadata.ciml, within(dir, MODEL_JSON), "train it again with `ciml train-model`");
    // The weights are copied out once; tfjs is not called again for this model.
    forward = DenseForward.of(model, dir);
  } finally {
    model.dispose();
  }
  const features = forward.features;
  if (meta.features.length !== features) {
    throw new WorkspaceFileError(
      `${within(dir, MODEL_JSON)}: field userDefinedMetadata.ciml.features names ${meta.features.length} features but the model takes ${features}; train it again with \`ciml train-model\``,
    );
  }
  return {
    classes: meta.classes,
    manifest,
    predict(rows, n) {
      if (rows.length !== n * features)
        throw new CimlError(`model ${dataset}/${experiment} takes ${features} features per example, got ${rows.length / Math.max(1, n)}`);
      return forward.probabilities(rows, n, meta.classes.length);
    },
  };
}
