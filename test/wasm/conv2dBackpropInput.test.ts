/**
 * Conv2DBackpropInput on wasm (src/lib/wasm/conv2dBackpropInput.ts, replacing wasm's plain loop):
 * the input gradient of L(x) = sum R * conv2d(x, W) against central differences of the wasm
 * forward, and against the cpu backend's kernel on the same inputs.
 */
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect } from "vitest";
import { conv2dBackpropInputConfig } from "../../src/lib/wasm/conv2dBackpropInput";
import { COMMON_CONV_CASES, type ConvCase } from "./convCases";
import { centralDifferences, dot, product, readOn, relativeError, itOnWasm, uniform } from "./wasmBackend";

const CASES: ConvCase[] = [
  ...COMMON_CONV_CASES,
  {
    name: "explicit padding wider than the filter",
    x: [1, 5, 6, 2],
    filter: [2, 3, 2, 2],
    strides: 1,
    pad: [[0, 0], [3, 0], [1, 4], [0, 0]],
  },
];

/** dx on a backend through conv2d's registered gradient, which runs Conv2DBackpropInput. */
function inputGradient(c: ConvCase, x: Float32Array, filter: Float32Array, weights: Float32Array) {
  return () => {
    const w = tf.tensor4d(filter, c.filter);
    const loss = (input: tf.Tensor) => {
      const y = tf.conv2d(input as tf.Tensor4D, w, c.strides, c.pad);
      return tf.sum(tf.mul(y, tf.tensor(weights, y.shape)));
    };
    return tf.grad(loss)(tf.tensor4d(x, c.x));
  };
}

describe("Conv2DBackpropInput on wasm", () => {
  itOnWasm("is this project's kernel", () => {
    expect(tf.getKernel("Conv2DBackpropInput", "wasm")).toBe(conv2dBackpropInputConfig);
  });

  for (const c of CASES) {
    itOnWasm(`${c.name}: matches central differences and the cpu backend`, async () => {
      const x = uniform(product(c.x), 41);
      const filter = uniform(product(c.filter), 42);
      const outShape = tf.tidy(
        () => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape,
      );
      const weights = uniform(product(outShape), 43);

      const [wasmGrad] = await readOn("wasm", inputGradient(c, x, filter, weights));
      const [cpuGrad] = await readOn("cpu", inputGradient(c, x, filter, weights));
      expect(relativeError(wasmGrad, cpuGrad)).toBeLessThan(1e-4);

      // L is linear in x: central differences are exact but for the forward's float32 rounding
      // (see conv2dBackpropFilter.test.ts); with h = 0.5 it stays far below 1e-4 of the scale.
      await tf.setBackend("wasm");
      const w = tf.tensor4d(filter, c.filter);
      const forwardLoss = (v: Float32Array) =>
        tf.tidy(() => dot(tf.conv2d(tf.tensor4d(v, c.x), w, c.strides, c.pad).dataSync(), weights));
      const numeric = centralDifferences(forwardLoss, x, 0.5);
      w.dispose();
      expect(relativeError(wasmGrad, numeric)).toBeLessThan(1e-4);
    });
  }
});
