/**
 * The fused native-TensorFlow paths (src/lib/perf) compute the same model as the composite
 * code: on the tensorflow backend, one ContextUnet with fused kernels on and off gives the same
 * outputs (inference and training mode), loss gradients and BatchNorm running statistics.
 * Skipped, saying why, when @tensorflow/tfjs-node cannot load here.
 */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/lib/backend";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { gelu } from "../../src/lib/model/layers";
import type { WeightMap } from "../../src/lib/model/parameters";
import { relativeError } from "../helpers/relativeError";
import { fusedNative, setFusedKernels } from "../../src/lib/perf/native";

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
    x = tf.randomNormal([6, 16, 16, 3], 0, 1, "float32", 1) as tf.Tensor4D;
    t = tf.randomUniform([6], 0, 1, "float32", 2) as tf.Tensor1D;
    c = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0], "int32"), 5), "float32") as tf.Tensor2D;
  });

  afterAll(() => {
    setFusedKernels(true);
    model?.dispose();
    tf.dispose([x, t, c]);
  });

  /** Forward in both modes, loss gradients and updated running statistics, from `initial`. */
  async function run(fused: boolean) {
    setFusedKernels(fused);
    expect(fusedNative() !== null).toBe(fused);
    model.setWeights(initial);
    const evalOut = tf.tidy(() => model.predictNoise(x, t, c, { training: false }).dataSync());
    const vars = model.trainableVariables();
    const { value, grads } = tf.variableGrads(
      () => tf.mean(tf.square(model.predictNoise(x, t, c, { training: true }))) as tf.Scalar,
      vars,
    );
    const gradValues: Record<string, Float32Array> = {};
    for (const [k, g] of Object.entries(grads)) gradValues[k] = g.dataSync() as Float32Array;
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    return { evalOut, loss, gradValues, after: await model.getWeights() };
  }

  it("agrees with the composite layers: outputs, gradients, running statistics", async () => {
    const composite = await run(false);
    const fused = await run(true);
    expect(relativeError(fused.evalOut, composite.evalOut)).toBeLessThan(1e-5);
    expect(Math.abs(fused.loss - composite.loss) / composite.loss).toBeLessThan(1e-5);
    const keys = Object.keys(composite.gradValues);
    expect(Object.keys(fused.gradValues).sort()).toEqual(keys.sort());
    for (const key of keys) {
      // Conv biases feeding a BatchNorm have a zero gradient up to rounding: compare on the
      // scale of the layer's weight gradient instead.
      const isFoldedBias = /conv[12]\.0\.bias/.test(key);
      const reference = composite.gradValues[key];
      const scale = isFoldedBias ? composite.gradValues[key.replace(".bias", ".weight")] : reference;
      let diff = 0;
      reference.forEach((v, i) => (diff = Math.max(diff, Math.abs(fused.gradValues[key][i] - v))));
      const max = scale.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
      expect(diff / max, key).toBeLessThan(1e-4);
    }
    for (const key of Object.keys(composite.after).filter((k) => k.includes("running"))) {
      expect(relativeError(fused.after[key].data, composite.after[key].data), key).toBeLessThan(1e-5);
    }
  });

  it("collects the running-statistic updates instead of assigning them when asked", async () => {
    const collect = async (fused: boolean) => {
      setFusedKernels(fused);
      model.setWeights(initial);
      const updates: Array<{ variable: tf.Variable; value: tf.Tensor }> = [];
      tf.tidy(() => model.predictNoise(x, t, c, { training: true, statUpdates: updates }));
      const after = await model.getWeights();
      for (const key of Object.keys(initial).filter((k) => k.includes("running"))) {
        expect(Array.from(after[key].data), key).toEqual(Array.from(initial[key].data));
      }
      const values = updates.map((u) => ({ name: u.variable.name, data: u.value.dataSync() }));
      tf.dispose(updates.map((u) => u.value));
      return values;
    };
    const composite = await collect(false);
    const fused = await collect(true);
    expect(fused.map((u) => u.name)).toEqual(composite.map((u) => u.name));
    fused.forEach((u, i) => expect(relativeError(u.data, composite[i].data), u.name).toBeLessThan(1e-5));
  });

  it("GELU and its gradient match the composite far into both tails", () => {
    const points = tf.linspace(-12, 12, 4801);
    const f = (on: boolean) => {
      setFusedKernels(on);
      return tf.tidy(() => {
        const value = gelu(points).dataSync().slice();
        const slope = tf.grad((p: tf.Tensor) => tf.sum(gelu(p)))(points).dataSync().slice();
        return { value, slope };
      });
    };
    const composite = f(false);
    const fused = f(true);
    expect(relativeError(fused.value, composite.value)).toBeLessThan(1e-6);
    expect(relativeError(fused.slope, composite.slope)).toBeLessThan(1e-5);
    points.dispose();
  });

  it("leaks no tensors in a training step", () => {
    setFusedKernels(true);
    const step = () => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(model.predictNoise(x, t, c, { training: true }))) as tf.Scalar,
        model.trainableVariables(),
      );
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
  });
});
