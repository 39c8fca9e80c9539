/**
 * MaxPoolGrad on wasm (src/lib/wasm/maxPoolGrad.ts): hand-worked windows (all negative, ties),
 * central differences of the wasm forward, and the cpu backend on the same inputs.
 */
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect } from "vitest";
import { maxPoolGradConfig } from "../../src/lib/wasm/maxPoolGrad";
import { centralDifferences, dot, product, readOn, relativeError, itOnWasm, uniform } from "./wasmBackend";

interface PoolCase {
  name: string;
  x: [number, number, number, number];
  filter: number | [number, number];
  strides: number | [number, number];
  pad: "same" | "valid";
}

const CASES: PoolCase[] = [
  { name: "2x2 stride 2 valid (ContextUnet's)", x: [2, 6, 6, 3], filter: 2, strides: 2, pad: "valid" },
  { name: "3x3 stride 3 valid, windows tiling 6x9", x: [2, 6, 9, 2], filter: 3, strides: 3, pad: "valid" },
  { name: "2x2 stride 2 same on 6x8 (no padding needed)", x: [1, 6, 8, 3], filter: 2, strides: 2, pad: "same" },
  { name: "2x2 stride 2 valid on 7x6 (a row left over)", x: [1, 7, 6, 2], filter: 2, strides: 2, pad: "valid" },
  { name: "3x3 stride 2 same (overlapping, padded)", x: [2, 7, 6, 2], filter: 3, strides: 2, pad: "same" },
  { name: "3x3 stride 1 same", x: [1, 5, 6, 2], filter: 3, strides: 1, pad: "same" },
  { name: "2x3 strides [2, 1] valid", x: [1, 7, 7, 2], filter: [2, 3], strides: [2, 1], pad: "valid" },
  { name: "3x3 stride 3 same (windows past the edge)", x: [1, 5, 5, 2], filter: 3, strides: 3, pad: "same" },
];

/** dL/dx of L = sum R * maxPool(x), through maxPool's registered gradient (MaxPoolGrad). */
function poolGradient(c: PoolCase, x: Float32Array, weights: Float32Array) {
  return () =>
    tf.grad((input: tf.Tensor) => {
      const y = tf.maxPool(input as tf.Tensor4D, c.filter, c.strides, c.pad);
      return tf.sum(tf.mul(y, tf.tensor(weights, y.shape)));
    })(tf.tensor4d(x, c.x));
}

/** Distinct values k / 1024 in [-1, 1), shuffled: no ties, and x +- 2^-12 stays exact in float32. */
function distinctValues(count: number, seed: number): Float32Array {
  const order = Array.from(uniform(count, seed), (u, i) => [u, i] as const).sort((a, b) => a[0] - b[0]);
  const values = new Float32Array(count);
  order.forEach(([, i], rank) => (values[i] = (Math.round((rank * 2048) / count) - 1024) / 1024));
  return values;
}

describe("MaxPoolGrad on wasm", () => {
  itOnWasm("is this project's kernel", () => {
    expect(tf.getKernel("MaxPoolGrad", "wasm")).toBe(maxPoolGradConfig);
  });

  itOnWasm("routes dy to the maximum of windows whose values are all negative", async () => {
    const x = [-3, -1, -2, -4, 1, -5, -6, 2, -1, -1.5, -7, -8, 0.5, -2, -3, -1];
    const dy = [1, 2, 3, 4];
    // Window (0,0) = {-3,-1,1,-5}: max 1 at index 4; (0,1) = {-2,-4,-6,2}: 2 at 7;
    // (1,0) = {-1,-1.5,0.5,-2}: 0.5 at 12; (1,1) = {-7,-8,-3,-1}, all negative: -1 at 15.
    const expected = [0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 4];
    const run = () => {
      const weights = tf.tensor4d(dy, [1, 2, 2, 1]);
      const loss = (input: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, 2, 2, "valid"), weights));
      return tf.grad(loss)(tf.tensor4d(x, [1, 4, 4, 1]));
    };
    const [onWasm] = await readOn("wasm", run);
    expect(Array.from(onWasm)).toEqual(expected);
    const [onCpu] = await readOn("cpu", run);
    expect(Array.from(onCpu)).toEqual(expected);
  });

  itOnWasm("gives a tied window's gradient to its first maximum in row-major order, as cpu does", async () => {
    // Windows: {5,5,1,5} ties at 0, 1 and 4 -> first is index 0; {-2,-2,-2,-2} -> index 2.
    const x = [5, 5, -2, -2, 1, 5, -2, -2];
    const run = () => {
      const dy = tf.tensor4d([10, 20], [1, 1, 2, 1]);
      const loss = (input: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, 2, 2, "valid"), dy));
      return tf.grad(loss)(tf.tensor4d(x, [1, 2, 4, 1]));
    };
    const expected = [10, 0, 20, 0, 0, 0, 0, 0];
    const [onWasm] = await readOn("wasm", run);
    expect(Array.from(onWasm)).toEqual(expected);
    const [onCpu] = await readOn("cpu", run);
    expect(Array.from(onCpu)).toEqual(expected);
  });

  for (const c of CASES) {
    itOnWasm(`${c.name}: matches central differences and the cpu backend`, async () => {
      const x = distinctValues(product(c.x), 21);
      const outShape = tf.tidy(() => tf.maxPool(tf.zeros(c.x) as tf.Tensor4D, c.filter, c.strides, c.pad).shape);
      const weights = uniform(product(outShape), 22);

      const [wasmGrad] = await readOn("wasm", poolGradient(c, x, weights));
      const [cpuGrad] = await readOn("cpu", poolGradient(c, x, weights));
      expect(relativeError(wasmGrad, cpuGrad)).toBeLessThan(1e-4);

      // Values sit 2^-10 apart and h = 2^-12, so no window changes its maximum and x +- h is exact:
      // the difference quotient is exactly the sum of the weights routed to x_i, up to float32
      // rounding of those sums (< 1e-6 of their scale). A misrouted window is an O(1) error.
      await tf.setBackend("wasm");
      const forwardLoss = (v: Float32Array) =>
        tf.tidy(() => dot(tf.maxPool(tf.tensor4d(v, c.x), c.filter, c.strides, c.pad).dataSync(), weights));
      const numeric = centralDifferences(forwardLoss, x, 2 ** -12);
      expect(relativeError(wasmGrad, numeric)).toBeLessThan(1e-5);
    });
  }

  itOnWasm("passes dy through exactly once per window for the model's shapes at batch 4 (no leaks)", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor4d(uniform(4 * 16 * 16 * 64, 31), [4, 16, 16, 64]);
    const before = tf.memory().numTensors;
    const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.maxPool(input as tf.Tensor4D, 2, 2, "valid")))(x);
    // d(sum of maxima)/dx is 1 at each window's maximum: the gradient sums to the window count.
    expect(tf.tidy(() => tf.sum(grad).dataSync()[0])).toBe(4 * 8 * 8 * 64);
    grad.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
