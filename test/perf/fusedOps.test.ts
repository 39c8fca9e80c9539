/**
 * The library's own TensorFlow ops on native TensorFlow (src/native through
 * src/lib/perf/fusedOpKernels.ts), each against an independent float64 recomputation: GELU and
 * SiLU with their derivatives from erf's series and exp, far into both tails; GroupNorm's forward
 * from its definition, its three gradients by central differences of that float64 forward. Also:
 * registered by default and removed by registerNativeKernels(false); no tensors left behind.
 * Skipped, saying why, when @tensorflow/tfjs-node does not load or the addon is not built (bash
 * scripts/native-tfjs.sh builds it). The whole networks with these kernels against the portable
 * ones: fusedLayers.test.ts.
 */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyLayerNorm, layerNormSpecs } from "../../src/lib/ardm/layerNorm";
import { initBackend } from "../../src/lib/backend";
import { GeluExact, Silu, backendHasKernel } from "../../src/lib/model/activationKernels";
import { silu } from "../../src/lib/model/attentionUnet/timeEmbedding";
import { GroupNormChannelsLast } from "../../src/lib/model/groupNormKernels";
import { applyGroupNorm, gelu, groupNormSpecs } from "../../src/lib/model/layers";
import { ParameterStore } from "../../src/lib/model/parameters";
import { registerNativeKernels } from "../../src/lib/perf";
import { FUSED_OP_KERNELS } from "../../src/lib/perf/fusedOpKernels";
import { loadFusedOps } from "../../src/lib/perf/fusedOpsAddon";
import { erf64 } from "../helpers/float64Gaussian";
import { normRelativeError, relativeError } from "../helpers/relativeError";

/** Why the fused ops cannot run here, or null. */
function unavailable(): string | null {
  try {
    require("@tensorflow/tfjs-node");
  } catch (error) {
    return `@tensorflow/tfjs-node does not load: ${(error as Error).message.split("\n")[0]}`;
  }
  const state = loadFusedOps();
  return "unavailable" in state ? state.unavailable : null;
}

const why = unavailable();

/** f(x) and dy f'(x) from the library's function on [-12, 12] (4801 points: threads split it unevenly). */
function valueAndSlope(f: (x: tf.Tensor) => tf.Tensor) {
  return tf.tidy(() => {
    const points = tf.linspace(-12, 12, 4801);
    const dy = tf.randomUniform([4801], -2, 2, "float32", 3);
    return {
      xs: points.dataSync(),
      dys: dy.dataSync(),
      y: f(points).dataSync(),
      dx: tf.grad((p: tf.Tensor) => tf.sum(tf.mul(f(p), dy)))(points).dataSync(),
    };
  });
}

/** The worst error of `ours` against `exact`, relative to 1 + |exact|. */
function worst(ours: ArrayLike<number>, exact: (i: number) => number): number {
  let error = 0;
  for (let i = 0; i < ours.length; i++) error = Math.max(error, Math.abs(ours[i] - exact(i)) / (1 + Math.abs(exact(i))));
  return error;
}

/** GroupNorm's forward in float64, x [N, H, W, C] flat. */
function groupNorm64(x: ArrayLike<number>, shape: number[], gamma: ArrayLike<number>, beta: ArrayLike<number>, groups: number): Float64Array {
  const [n, h, w, c] = shape;
  const perGroup = c / groups;
  const y = new Float64Array(x.length);
  for (let s = 0; s < n; s++) {
    for (let g = 0; g < groups; g++) {
      const at: number[] = [];
      for (let p = 0; p < h * w; p++) for (let k = g * perGroup; k < (g + 1) * perGroup; k++) at.push((s * h * w + p) * c + k);
      const mean = at.reduce((sum, i) => sum + x[i], 0) / at.length;
      const variance = at.reduce((sum, i) => sum + (x[i] - mean) ** 2, 0) / at.length;
      for (const i of at) y[i] = ((x[i] - mean) / Math.sqrt(variance + 1e-5)) * gamma[i % c] + beta[i % c];
    }
  }
  return y;
}

describe.skipIf(why !== null)(`the library's fused ops (${why ?? "tensorflow backend, addon loaded"})`, () => {
  beforeAll(async () => {
    await initBackend("tensorflow");
    registerNativeKernels(true);
  });

  afterAll(() => registerNativeKernels(true));

  it("are what GELU, SiLU and GroupNorm run on native TensorFlow, and registerNativeKernels(false) removes them", () => {
    for (const { config } of FUSED_OP_KERNELS) expect(tf.getKernel(config.kernelName, "tensorflow"), config.kernelName).toBe(config);
    expect(registerNativeKernels(false)).toBe("none");
    for (const name of [GeluExact, Silu, GroupNormChannelsLast]) expect(backendHasKernel(name), name).toBe(false);
    expect(registerNativeKernels(true)).toBe("BatchNorm, GELU, SiLU, GroupNorm");
    for (const name of [GeluExact, Silu, GroupNormChannelsLast]) expect(backendHasKernel(name), name).toBe(true);
  });

  it("GELU: x Phi(x) and Phi(x) + x phi(x) as float64 computes them, on [-12, 12]", () => {
    const { xs, dys, y, dx } = valueAndSlope(gelu);
    const cdf = (x: number) => 0.5 * (1 + erf64(x / Math.SQRT2));
    const density = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    expect(worst(y, (i) => xs[i] * cdf(xs[i]))).toBeLessThan(1e-6);
    expect(worst(dx, (i) => dys[i] * (cdf(xs[i]) + xs[i] * density(xs[i])))).toBeLessThan(1e-6);
  });

  it("SiLU: x s(x) and s(x) (1 + x (1 - s(x))) as float64 computes them, on [-12, 12]", () => {
    const { xs, dys, y, dx } = valueAndSlope(silu);
    const s = (x: number) => 1 / (1 + Math.exp(-x));
    expect(worst(y, (i) => xs[i] * s(xs[i]))).toBeLessThan(1e-6);
    expect(worst(dx, (i) => dys[i] * s(xs[i]) * (1 + xs[i] * (1 - s(xs[i]))))).toBeLessThan(1e-6);
  });

  it("GroupNorm: the forward as float64 computes it, dx, dgamma, dbeta as central differences of that forward", () => {
    const shape = [3, 4, 5, 8];
    const groups = 4;
    const store = new ParameterStore("fusedOpsTest");
    groupNormSpecs("norm", 8).forEach((spec, i) => store.create(spec, i));
    store.get("norm.weight").assign(tf.randomUniform([8], 0.5, 1.5, "float32", 4));
    store.get("norm.bias").assign(tf.randomUniform([8], -0.5, 0.5, "float32", 5));
    const x = tf.variable(tf.randomNormal(shape, 0.7, 2, "float32", 6), true, "fusedOpsTest/x");
    const weights = tf.randomUniform(shape, -1, 1, "float32", 7);
    const [xs, gamma, beta, ws] = [x, store.get("norm.weight"), store.get("norm.bias"), weights].map((t) => Float64Array.from(t.dataSync()));
    const { y, grads } = tf.tidy(() => {
      const { grads: g } = tf.variableGrads(() => tf.sum(tf.mul(applyGroupNorm(store, "norm", x as tf.Tensor4D, groups), weights)) as tf.Scalar, [
        x,
        store.get("norm.weight") as tf.Variable,
        store.get("norm.bias") as tf.Variable,
      ]);
      const out: Record<string, Float32Array> = {};
      for (const [name, t] of Object.entries(g)) out[name] = t.dataSync() as Float32Array;
      return { y: applyGroupNorm(store, "norm", x as tf.Tensor4D, groups).dataSync(), grads: out };
    });
    expect(worst(y, (i) => groupNorm64(xs, shape, gamma, beta, groups)[i])).toBeLessThan(2e-6);
    // L = sum(w y); dL/dv by central differences in float64, for each value v of x, gamma, beta.
    const loss = (a: Float64Array, g: Float64Array, b: Float64Array) => groupNorm64(a, shape, g, b, groups).reduce((s, v, i) => s + v * ws[i], 0);
    const numeric = (values: Float64Array, at: (v: Float64Array) => number) =>
      Array.from(values, (_, i) => {
        const plus = values.slice();
        const minus = values.slice();
        plus[i] += 1e-5;
        minus[i] -= 1e-5;
        return (at(plus) - at(minus)) / 2e-5;
      });
    const expected = {
      [x.name]: numeric(xs, (v) => loss(v, gamma, beta)),
      [store.get("norm.weight").name]: numeric(gamma, (v) => loss(xs, v, beta)),
      [store.get("norm.bias").name]: numeric(beta, (v) => loss(xs, gamma, v)),
    };
    for (const [name, values] of Object.entries(expected)) {
      const scale = Math.max(...values.map(Math.abs));
      expect(worst(grads[name], (i) => values[i]) / Math.max(scale, 1), name).toBeLessThan(1e-5);
    }
    x.dispose();
    weights.dispose();
    store.dispose();
  });

  it("LayerNorm through the GroupNorm kernel (one group, rows of one position) equals its composite: values and gradients", () => {
    const store = new ParameterStore("fusedOpsLayerNorm");
    layerNormSpecs("norm", 16).forEach((spec, i) => store.create(spec, i));
    store.get("norm.weight").assign(tf.randomUniform([16], 0.5, 1.5, "float32", 8));
    store.get("norm.bias").assign(tf.randomUniform([16], -0.5, 0.5, "float32", 9));
    const x = tf.variable(tf.randomNormal([5, 7, 16], 0.3, 1.7, "float32", 10), true, "fusedOpsLayerNorm/x");
    const weights = tf.randomUniform([5, 7, 16], -1, 1, "float32", 11);
    const variables = [x, store.get("norm.weight") as tf.Variable, store.get("norm.bias") as tf.Variable];
    const run = (fused: boolean) => {
      registerNativeKernels(fused);
      return tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(applyLayerNorm(store, "norm", x), weights)) as tf.Scalar, variables);
        return { y: applyLayerNorm(store, "norm", x).dataSync(), loss: value.dataSync()[0], grads: variables.map((v) => grads[v.name].dataSync()) };
      });
    };
    const composite = run(false);
    const fused = run(true);
    expect(relativeError(fused.y, composite.y)).toBeLessThan(1e-5);
    fused.grads.forEach((g, i) => expect(normRelativeError(g, composite.grads[i]), variables[i].name).toBeLessThan(1e-5));
    tf.dispose([x, weights]);
    store.dispose();
  });

  it("leave no tensors behind across gradient steps", () => {
    const store = new ParameterStore("fusedOpsLeak");
    groupNormSpecs("norm", 64).forEach((spec, i) => store.create(spec, i));
    const x = tf.randomNormal([8, 16, 16, 64], 0, 1, "float32", 1);
    const f = (p: tf.Tensor) => tf.sum(silu(gelu(applyGroupNorm(store, "norm", p as tf.Tensor4D, 8))));
    const step = () => tf.tidy(() => tf.grad(f)(x).dataSync());
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    store.dispose();
  });
});
