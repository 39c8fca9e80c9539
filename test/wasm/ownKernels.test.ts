/**
 * The wasm backend's own kernels that a ContextUnet training step runs (every op of the model
 * and its gradients, other than the three this project replaces), each as a small function and
 * its gradients against the cpu backend on the same inputs.
 */
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect } from "vitest";
import { gelu } from "../../src/lib/model/layers";
import { product, readOn, relativeError, itOnWasm, uniform } from "./wasmBackend";

interface GradientCase {
  name: string;
  /** Input shapes; inputs are seeded uniform values in [-1, 1), scaled by `scale`. */
  shapes: number[][];
  scale?: number;
  /** A scalar loss of the inputs; the test compares its value and its gradient for every input. */
  loss: (...inputs: tf.Tensor[]) => tf.Scalar;
}

/** Weights the output by a fixed pattern so every gradient entry differs (not just ones). */
const weighted = (y: tf.Tensor): tf.Scalar => tf.sum(tf.mul(y, tf.tensor(uniform(y.size, 99), y.shape)));

const CASES: GradientCase[] = [
  { name: "Erf and GELU (the model's activation)", shapes: [[2, 5, 5, 4]], scale: 3, loss: (x) => weighted(gelu(x)) },
  {
    name: "FusedConv2D with bias, 3x3 same (every conv layer)",
    shapes: [[2, 6, 6, 3], [3, 3, 3, 4], [4]],
    loss: (x, w, b) =>
      weighted(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: "same", bias: b })),
  },
  {
    name: "_FusedMatMul with bias (EmbedFC)",
    shapes: [[3, 5], [5, 6], [6]],
    loss: (a, b, bias) => weighted(tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias })),
  },
  {
    name: "moments + FusedBatchNorm in training mode (BatchNorm2d)",
    shapes: [[3, 4, 4, 5], [5], [5]],
    loss: (x, gamma, beta) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return weighted(tf.batchNorm(x, mean, variance, beta, gamma, 1e-5));
    },
  },
  {
    name: "moments over groups, keepDims (GroupNorm)",
    shapes: [[2, 4, 4, 8]],
    loss: (x) => {
      const grouped = tf.reshape(x, [2, 4, 4, 2, 4]);
      const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
      return weighted(tf.div(tf.sub(grouped, mean), tf.sqrt(tf.add(variance, 1e-5))));
    },
  },
  {
    name: "AvgPool 4x4 valid (to_vec)",
    shapes: [[2, 4, 4, 3]],
    loss: (x) => weighted(tf.avgPool(x as tf.Tensor4D, 4, 4, "valid")),
  },
  {
    name: "AvgPool 3x3 stride 2 same",
    shapes: [[2, 7, 6, 3]],
    loss: (x) => weighted(tf.avgPool(x as tf.Tensor4D, 3, 2, "same")),
  },
  {
    name: "Relu, Concat, Transpose, Reshape (up path)",
    shapes: [[2, 3, 3, 4], [2, 3, 3, 2]],
    loss: (a, b) => weighted(tf.relu(tf.reshape(tf.transpose(tf.concat([a, b], 3), [0, 2, 1, 3]), [2, 9, 6]))),
  },
  {
    name: "MSE loss (the training objective)",
    shapes: [[2, 4, 4, 3], [2, 4, 4, 3]],
    loss: (a, b) => tf.losses.meanSquaredError(a, b) as tf.Scalar,
  },
];

function valueAndGradients(c: GradientCase) {
  return () => {
    const inputs = c.shapes.map((shape, i) => tf.mul(tf.tensor(uniform(product(shape), 50 + i), shape), c.scale ?? 1));
    const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => c.loss(...xs))(inputs);
    return [value, ...grads];
  };
}

describe("wasm's own training kernels vs cpu", () => {
  for (const c of CASES) {
    itOnWasm(`${c.name}: value and gradients agree to 1e-4`, async () => {
      const onWasm = await readOn("wasm", valueAndGradients(c));
      const onCpu = await readOn("cpu", valueAndGradients(c));
      onCpu.forEach((reference, i) => {
        const what = i === 0 ? "value" : `gradient ${i - 1}`;
        expect(relativeError(onWasm[i], reference), `${c.name}: ${what}`).toBeLessThan(1e-4);
      });
    });
  }
});
