/**
 * The fused native-TensorFlow kernels (src/lib/perf) compute the same models as the portable
 * versions (src/lib/model/batchNormKernels.ts's reference, tfjs composites for GELU, SiLU and
 * GroupNorm): on the tensorflow backend, one ContextUnet run with each registered gives the same
 * outputs (inference and training mode), loss gradients and new BatchNorm running statistics, and
 * so does an attention UNet (GroupNorm, SiLU, attention) for its outputs and gradients. Skipped,
 * saying why, when @tensorflow/tfjs-node cannot load.
 */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/lib/backend";
import { BatchNormAfterBiasTraining } from "../../src/lib/model/batchNormKernels";
import { AttentionUnet } from "../../src/lib/model/attentionUnet";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { type RunningStatUpdate, commitStatUpdates, discardStatUpdates } from "../../src/lib/model/layers";
import type { WeightMap } from "../../src/lib/model/parameters";
import { registerNativeKernels } from "../../src/lib/perf";
import { FUSED_BATCH_NORM_KERNELS } from "../../src/lib/perf/fusedBatchNorm";
import { normRelativeError, relativeError } from "../helpers/relativeError";

/** Why native TensorFlow cannot load here, or null when it registered its backend. */
function nativeUnavailable(): string | null {
  try {
    require("@tensorflow/tfjs-node");
  } catch (error) {
    return `@tensorflow/tfjs-node does not load: ${(error as Error).message.split("\n")[0]}`;
  }
  return tf.findBackend("tensorflow") ? null : "@tensorflow/tfjs-node registered no tensorflow backend";
}

const unavailable = nativeUnavailable();

describe.skipIf(unavailable !== null)(`fused native kernels (${unavailable ?? "tensorflow backend"})`, () => {
  let model: ContextUnet;
  let initial: WeightMap;
  let x: tf.Tensor4D;
  let t: tf.Tensor1D;
  let c: tf.Tensor2D;

  beforeAll(async () => {
    await initBackend("tensorflow");
    model = new ContextUnet({}, 3);
    // Move the BatchNorm running statistics away from 0 / 1 so inference mode is a real test.
    for (const key of model.parameters.keys()) {
      const v = model.parameters.get(key);
      if (key.endsWith("running_mean")) v.assign(tf.randomUniform(v.shape, -0.3, 0.3, "float32", 5));
      if (key.endsWith("running_var")) v.assign(tf.randomUniform(v.shape, 0.5, 2, "float32", 6));
    }
    initial = await model.getWeights();
    // Max-pool and ReLU make the network piecewise smooth: where two values of a pooling window
    // lie within rounding of each other, the two implementations (forwards ~1e-6 apart) may pick
    // different maxima and the gradients upstream differ by percents. Input seed 1 has such a
    // window in down2 (top two values 3.4e-6 apart); seed 2 has none.
    x = tf.randomNormal([6, 16, 16, 3], 0, 1, "float32", 2) as tf.Tensor4D;
    t = tf.randomUniform([6], 0, 1, "float32", 2) as tf.Tensor1D;
    c = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0], "int32"), 5), "float32") as tf.Tensor2D;
  });

  afterAll(() => {
    registerNativeKernels(true);
    model?.dispose();
    tf.dispose([x, t, c]);
  });

  /** A training forward and the gradients of mean(predNoise^2); the caller disposes all. */
  function trainingGradients() {
    let statUpdates: RunningStatUpdate[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forwardTraining(x, t, c);
      statUpdates = out.statUpdates;
      return tf.mean(tf.square(out.predNoise)) as tf.Scalar;
    }, model.trainableVariables());
    return { value, grads, statUpdates };
  }

  /**
   * From `initial`, with the fused or the reference kernels registered: the inference forward,
   * a training step's loss, gradients and returned running statistics, and the weights after
   * committing them (the variables before committing, too).
   */
  async function run(fused: boolean) {
    registerNativeKernels(fused);
    expect(tf.getKernel(BatchNormAfterBiasTraining, "tensorflow") === FUSED_BATCH_NORM_KERNELS[0]).toBe(fused);
    model.setWeights(initial);
    const evalOut = tf.tidy(() => model.predictNoise(x, t, c).dataSync());
    const { value, grads, statUpdates } = trainingGradients();
    const gradValues: Record<string, Float32Array> = {};
    for (const [k, g] of Object.entries(grads)) gradValues[k] = g.dataSync() as Float32Array;
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    const uncommitted = await model.getWeights();
    const stats = statUpdates.map((u) => ({ name: u.variable.name, data: u.value.dataSync().slice() }));
    commitStatUpdates(statUpdates);
    return { evalOut, loss, gradValues, uncommitted, stats, after: await model.getWeights() };
  }

  it("agrees with the reference kernels: outputs, gradients, running statistics", async () => {
    const reference = await run(false);
    const fused = await run(true);
    expect(relativeError(fused.evalOut, reference.evalOut)).toBeLessThan(1e-5);
    expect(Math.abs(fused.loss - reference.loss) / reference.loss).toBeLessThan(1e-5);
    const keys = Object.keys(reference.gradValues);
    expect(Object.keys(fused.gradValues).sort()).toEqual(keys.sort());
    for (const key of keys) {
      // Conv biases feeding a BatchNorm have a zero gradient up to rounding: compare on the
      // scale of the layer's weight gradient instead.
      const isFoldedBias = /conv[12]\.0\.bias/.test(key);
      const expected = reference.gradValues[key];
      const scale = isFoldedBias ? reference.gradValues[key.replace(".bias", ".weight")] : expected;
      let diff = 0;
      expected.forEach((v, i) => (diff = Math.max(diff, Math.abs(fused.gradValues[key][i] - v))));
      const max = scale.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
      expect(diff / max, key).toBeLessThan(1e-4);
    }
    // The training forward returned the running statistics and left the variables alone.
    expect(fused.stats.map((u) => u.name)).toEqual(reference.stats.map((u) => u.name));
    fused.stats.forEach((u, i) => expect(relativeError(u.data, reference.stats[i].data), u.name).toBeLessThan(1e-5));
    for (const key of Object.keys(initial).filter((k) => k.includes("running"))) {
      for (const run of [reference, fused]) expect(Array.from(run.uncommitted[key].data), key).toEqual(Array.from(initial[key].data));
      expect(relativeError(fused.after[key].data, reference.after[key].data), key).toBeLessThan(1e-5);
    }
  });

  it("leaks no tensors in a training step", () => {
    registerNativeKernels(true);
    const step = () => {
      const { value, grads, statUpdates } = trainingGradients();
      tf.dispose([value, ...Object.values(grads)]);
      discardStatUpdates(statUpdates);
    };
    step();
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.skipIf(unavailable !== null)(`fused native kernels in the attention UNet (${unavailable ?? "tensorflow backend"})`, () => {
  it("agree with the portable versions: outputs and every gradient", async () => {
    await initBackend("tensorflow");
    const model = new AttentionUnet(
      { imageSize: 8, imageChannels: 1, downChannels: [16, 32], midChannels: [32, 16], downsample: [true], attention: [true],
        timeEmbeddingSize: 16, downLayers: 1, midLayers: 1, upLayers: 1, attentionHeads: 2, normGroups: 4, finalChannels: 8 },
      1,
    );
    const x = tf.randomNormal([4, 8, 8, 1], 0, 1, "float32", 3) as tf.Tensor4D;
    const t = tf.tensor1d([0.1, 0.4, 0.7, 1]);
    const run = (fused: boolean) => {
      registerNativeKernels(fused);
      return tf.tidy(() => {
        const output = model.predictNoise(x, t, null).dataSync();
        const { grads } = tf.variableGrads(() => tf.mean(tf.square(model.forwardTraining(x, t, null).predNoise)) as tf.Scalar, model.trainableVariables());
        return { output, grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync()])) };
      });
    };
    const reference = run(false);
    const fused = run(true);
    expect(relativeError(fused.output, reference.output)).toBeLessThan(1e-5);
    for (const key of Object.keys(reference.grads)) expect(normRelativeError(fused.grads[key], reference.grads[key]), key).toBeLessThan(1e-4);
    model.dispose();
    tf.dispose([x, t]);
  });
});
