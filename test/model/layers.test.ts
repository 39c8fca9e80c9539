/**
 * The layers' own ops against tfjs-core composites and autodiff on the same inputs: GELU's
 * hand-written gradient, and conv + BatchNorm through the library's BatchNorm kernel (whichever
 * implementation the backend registered: the portable reference on cpu and wasm, TensorFlow's
 * fused kernels on native) against applyBatchNorm(applyConv), in both modes: outputs, running
 * statistics, gradients. Runs on SPRITE_DIFFUSION_TEST_BACKEND (default cpu).
 */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applyBatchNorm,
  applyConv,
  applyConvBatchNorm,
  batchNormSpecs,
  convSpecs,
  discardStatUpdates,
  gelu,
} from "../../src/lib/model/layers";
import { ParameterStore } from "../../src/lib/model/parameters";
import { useTestBackend } from "../helpers/backends";
import { relativeError } from "../helpers/relativeError";

let backend = "";
beforeAll(async () => {
  backend = await useTestBackend();
});

describe("gelu", () => {
  it("and its gradient match the composite 0.5 x (1 + erf(x / sqrt 2)) and its autodiff far into both tails", () => {
    const composite = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    const points = tf.linspace(-12, 12, 4801);
    const [value, slope, expectedValue, expectedSlope] = tf.tidy(() => [
      gelu(points).dataSync(),
      tf.grad((p: tf.Tensor) => tf.sum(gelu(p)))(points).dataSync(),
      composite(points).dataSync(),
      tf.grad((p: tf.Tensor) => tf.sum(composite(p)))(points).dataSync(),
    ]);
    expect(relativeError(value, expectedValue)).toBeLessThan(1e-6);
    expect(relativeError(slope, expectedSlope)).toBeLessThan(1e-5);
    points.dispose();
  });
});

describe("conv + BatchNorm through the BatchNorm kernel", () => {
  const store = new ParameterStore("layersTest");
  const input = tf.randomNormal([4, 6, 6, 5], 0.3, 1.5, "float32", 1);
  const x = tf.variable(input, true, "layersTest/x");
  // Weights every output element differently, so no gradient is trivially zero.
  const pattern = tf.randomUniform([4, 6, 6, 8], -1, 1, "float32", 2);
  const inputs: tf.Variable[] = [];

  beforeAll(() => {
    [...convSpecs("conv", 5, 8, 3), ...batchNormSpecs("bn", 8)].forEach((spec, i) => store.create(spec, 10 + i));
    const randomise = (key: string, low: number, high: number, seed: number) =>
      tf.tidy(() => store.get(key).assign(tf.randomUniform([8], low, high, "float32", seed)));
    randomise("bn.weight", 0.5, 1.5, 3);
    randomise("bn.bias", -0.5, 0.5, 4);
    randomise("bn.running_mean", -0.3, 0.3, 5);
    randomise("bn.running_var", 0.5, 2, 6);
    inputs.push(x, ...["conv.weight", "conv.bias", "bn.weight", "bn.bias"].map((k) => store.get(k)));
  });

  afterAll(() => {
    store.dispose();
    tf.dispose([input, x, pattern]);
  });

  /** y, the new running statistics and the gradients of sum(pattern * y) by the kernel or the composite. */
  function results(viaKernel: boolean, training: boolean) {
    const values: Record<string, Float32Array> = {};
    const { value, grads } = tf.variableGrads(() => {
      const out = viaKernel
        ? applyConvBatchNorm(store, "conv", "bn", x as tf.Tensor4D, training)
        : applyBatchNorm(store, "bn", applyConv(store, "conv", x as tf.Tensor4D), training);
      values.y = out.y.dataSync() as Float32Array;
      out.statUpdates.forEach((u, i) => (values[`running ${i}`] = u.value.dataSync() as Float32Array));
      discardStatUpdates(out.statUpdates);
      return tf.sum(tf.mul(out.y, pattern)) as tf.Scalar;
    }, inputs);
    for (const variable of inputs) values[`d ${variable.name}`] = grads[variable.name].dataSync() as Float32Array;
    tf.dispose([value, ...Object.values(grads)]);
    return values;
  }

  for (const training of [true, false]) {
    it(`agrees with applyBatchNorm(applyConv) in ${training ? "training" : "inference"} mode`, () => {
      const kernel = results(true, training);
      const composite = results(false, training);
      expect(Object.keys(kernel)).toEqual(Object.keys(composite));
      const weightGradient = composite[`d ${store.get("conv.weight").name}`];
      for (const [name, expected] of Object.entries(composite)) {
        // In training mode the conv bias cancels in y: its gradient is 0 up to rounding, so it is
        // measured on the scale of the conv weight's gradient.
        const isFoldedBias = training && name === `d ${store.get("conv.bias").name}`;
        const scale = isFoldedBias ? Math.max(...Array.from(weightGradient, Math.abs)) : 1e-30;
        const error = relativeError(kernel[name], expected, scale);
        console.info(`[layers] ${backend} ${training ? "training" : "inference"} ${name}: ${error.toExponential(2)}`);
        expect(error, name).toBeLessThan(1e-5);
      }
    });
  }
});
