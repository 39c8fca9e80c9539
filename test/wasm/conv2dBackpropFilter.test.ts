/**
 * Conv2DBackpropFilter on wasm (src/lib/wasm/conv2dBackpropFilter.ts): the filter gradient of
 * L(W) = sum R * conv2d(x, W) against central differences of the wasm forward, and against the
 * cpu backend's kernel on the same inputs.
 */
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect } from "vitest";
import { conv2dBackpropFilterConfig } from "../../src/lib/wasm/conv2dBackpropFilter";
import { COMMON_CONV_CASES, type ConvCase } from "./convCases";
import { centralDifferences, dot, product, readOn, relativeError, itOnWasm, uniform } from "./wasmBackend";

const CASES: ConvCase[] = [
  ...COMMON_CONV_CASES,
  {
    name: "explicit padding",
    x: [1, 5, 6, 2],
    filter: [3, 3, 2, 2],
    strides: 1,
    pad: [[0, 0], [2, 0], [1, 3], [0, 0]],
  },
];

/** dW on a backend through conv2d's registered gradient, which runs Conv2DBackpropFilter. */
function filterGradient(c: ConvCase, x: Float32Array, filter: Float32Array, weights: Float32Array) {
  return () => {
    const xt = tf.tensor4d(x, c.x);
    const loss = (w: tf.Tensor) => {
      const y = tf.conv2d(xt, w as tf.Tensor4D, c.strides, c.pad);
      return tf.sum(tf.mul(y, tf.tensor(weights, y.shape)));
    };
    return tf.grad(loss)(tf.tensor4d(filter, c.filter));
  };
}

describe("Conv2DBackpropFilter on wasm", () => {
  itOnWasm("is this project's kernel", () => {
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).toBe(conv2dBackpropFilterConfig);
  });

  for (const c of CASES) {
    itOnWasm(`${c.name}: matches central differences and the cpu backend`, async () => {
      await tf.setBackend("wasm");
      const x = uniform(product(c.x), 11);
      const filter = uniform(product(c.filter), 12);
      const outShape = tf.tidy(
        () => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape,
      );
      const weights = uniform(product(outShape), 13);

      const [wasmGrad] = await readOn("wasm", filterGradient(c, x, filter, weights));
      const [cpuGrad] = await readOn("cpu", filterGradient(c, x, filter, weights));
      expect(relativeError(wasmGrad, cpuGrad)).toBeLessThan(1e-4);

      // L is linear in W: central differences are exact but for the forward's float32 rounding,
      // about 2^-24 x (terms per output, <= 27 here) per output touched; with h = 0.5 that stays
      // under 1e-5 of the gradient's scale (measured: ~1e-7). 1e-4 leaves room, not slack for bugs
      // (a misplaced padding row or offset is an O(1) error).
      await tf.setBackend("wasm");
      const xt = tf.tensor4d(x, c.x);
      const forwardLoss = (w: Float32Array) =>
        tf.tidy(() => dot(tf.conv2d(xt, tf.tensor4d(w, c.filter), c.strides, c.pad).dataSync(), weights));
      const numeric = centralDifferences(forwardLoss, filter, 0.5);
      xt.dispose();
      expect(relativeError(wasmGrad, numeric)).toBeLessThan(1e-4);
    });
  }

  itOnWasm("rejects NCHW with a message that says to use NHWC", async () => {
    await tf.setBackend("wasm");
    const x = tf.zeros([1, 2, 5, 5]);
    const dy = tf.zeros([1, 2, 5, 5]);
    const attrs = { strides: 1, pad: "same", dataFormat: "NCHW", filterShape: [3, 3, 2, 2] };
    const run = () => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, attrs as unknown as tf.NamedAttrMap);
    expect(run).toThrow(/NHWC/);
    tf.dispose([x, dy]);
  });
});
