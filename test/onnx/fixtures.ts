/**
 * What the ONNX tests share: whether onnxruntime-node is here, tiny networks, random norms.
 *
 * The ONNX tests need onnxruntime-node (an optional dependency, which `npm ci` and scripts/setup.sh
 * install on the platforms the project supports). Without it they fail, naming why: a skip would
 * hide a broken install.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe } from "vitest";
import type { AttentionUnetConfig } from "../../src/lib/model/attentionUnet";
import type { ParameterizedNetwork } from "../../src/lib/model/parameterizedNetwork";
import { tryLoadOnnxRuntime } from "../../src/lib/onnx/runtime";

const runtime = tryLoadOnnxRuntime();

/** describe, whose tests fail first thing, with the loader's reason, when onnxruntime-node cannot be loaded. */
export function describeWithOnnxRuntime(name: string, body: () => void): void {
  describe(name, () => {
    beforeAll(() => {
      if ("error" in runtime) throw new Error(`onnxruntime-node did not load (bash scripts/setup.sh installs it): ${runtime.error}`);
    });
    body();
  });
}

/** ONNX Runtime's threads in tests: one, as the tests share the machine with other work. */
export const TEST_ONNX_THREADS = 1;

/** Tiny ContextUnet: GroupNorm's 8 groups need nFeat a multiple of 8; height 8 gives 4x4 and 2x2 below. */
export const TINY_CONTEXT_UNET = { nFeat: 8, height: 8, nContext: 5 };

/** The attention UNet tests' tiny config (test/model/attentionUnet.test.ts): both kinds of down block, attention at both resolutions, shortcuts. */
export const TINY_ATTENTION_UNET: AttentionUnetConfig = {
  imageSize: 8, imageChannels: 3, downChannels: [8, 16, 16], midChannels: [16, 16], downsample: [true, false], attention: [true, true],
  timeEmbeddingSize: 16, downLayers: 2, midLayers: 2, upLayers: 2, attentionHeads: 2, normGroups: 4, finalChannels: 8,
};

/** Norm scales in [0.5, 1.5], shifts, running means and attention biases in [-0.5, 0.5], running variances in [0.5, 2]. */
export async function randomizeNormsAndStatistics(model: ParameterizedNetwork, seed: number): Promise<void> {
  const weights = await model.getWeights();
  let s = seed;
  for (const key of model.parameters.keys()) {
    const kind = model.parameters.spec(key).kind;
    if (kind !== "ones" && kind !== "zeros") continue;
    const [low, high] = key.endsWith("running_var") ? [0.5, 2] : kind === "ones" ? [0.5, 1.5] : [-0.5, 0.5];
    weights[key].data = tf.tidy(() => tf.randomUniform(weights[key].shape, low, high, "float32", s++).dataSync() as Float32Array);
  }
  model.setWeights(weights);
}
