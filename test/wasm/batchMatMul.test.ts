/**
 * BatchMatMul on wasm (src/lib/wasm/batchMatMul.ts: transposed operands made explicit, then
 * XNNPACK): products in every transpose combination against the cpu backend, and matMul's
 * gradients (which need the transposed products) against central differences.
 */
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect } from "vitest";
import { batchMatMulConfig } from "../../src/lib/wasm/batchMatMul";
import { centralDifferences, dot, itOnWasm, product, readOn, relativeError, uniform } from "./wasmBackend";

const COMBINATIONS = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

describe("BatchMatMul on wasm", () => {
  itOnWasm("is this project's kernel", () => {
    expect(tf.getKernel("BatchMatMul", "wasm")).toBe(batchMatMulConfig);
  });

  for (const batch of [1, 3]) {
    for (const [transposeA, transposeB] of COMBINATIONS) {
      itOnWasm(`batch ${batch}, transposeA ${transposeA}, transposeB ${transposeB}: equals cpu to 1e-5`, async () => {
        const [m, k, n] = [7, 5, 6];
        const aShape: [number, number, number] = transposeA ? [batch, k, m] : [batch, m, k];
        const bShape: [number, number, number] = transposeB ? [batch, n, k] : [batch, k, n];
        const a = uniform(product(aShape), 81);
        const b = uniform(product(bShape), 82);
        const run = () => tf.matMul(tf.tensor3d(a, aShape), tf.tensor3d(b, bShape), transposeA, transposeB);
        const [onWasm] = await readOn("wasm", run);
        const [onCpu] = await readOn("cpu", run);
        expect(onWasm.length).toBe(batch * m * n);
        expect(relativeError(onWasm, onCpu)).toBeLessThan(1e-5);
      });
    }
  }

  itOnWasm("matMul's gradients match central differences (the products they need are transposed)", async () => {
    const [m, k, n] = [6, 5, 4];
    const a = uniform(m * k, 83);
    const b = uniform(k * n, 84);
    const weights = uniform(m * n, 85);
    const loss = (x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D), tf.tensor2d(weights, [m, n])));
    const [gradA, gradB] = await readOn("wasm", () => tf.grads(loss)([tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])]));
    // L is linear in each factor: the differences are exact but for float32 rounding of k-term sums.
    const lossOf = (left: Float32Array, right: Float32Array) =>
      tf.tidy(() => dot(tf.matMul(tf.tensor2d(left, [m, k]), tf.tensor2d(right, [k, n])).dataSync(), weights));
    expect(relativeError(gradA, centralDifferences((v) => lossOf(v, b), a, 0.5))).toBeLessThan(1e-5);
    expect(relativeError(gradB, centralDifferences((v) => lossOf(a, v), b, 0.5))).toBeLessThan(1e-5);
  });
});
