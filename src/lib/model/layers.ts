/**
 * The building blocks of the course's ContextUnet as pure functions of (input, parameters).
 * All activations are NHWC. Each block declares its parameters (`*Specs`) under a key prefix
 * that mirrors PyTorch's module path, and applies them (`apply*`) by the same keys. A layer with
 * a BatchNorm returns, in training mode, the new running statistics next to its output; nothing
 * is assigned until the caller commits them.
 */
import * as tf from "@tensorflow/tfjs-core";
import "../gradients";
import { batchNormAfterBiasInference, batchNormAfterBiasTraining, updatedRunningStatistics } from "./batchNormKernels";
import { GeluExact, backendHasKernel, runActivationKernel } from "./activationKernels";
import { GroupNormChannelsLast, groupNormKernel } from "./groupNormKernels";
import type { ParameterSpec, ParameterStore } from "./parameters";

/** PyTorch's default epsilon for BatchNorm2d and GroupNorm. */
const NORM_EPSILON = 1e-5;
/** PyTorch's BatchNorm2d momentum: running = (1 - m) running + m batch. */
const BATCH_NORM_MOMENTUM = 0.1;

/** A BatchNorm running statistic's new value, waiting to be assigned (the caller owns `value`). */
export type RunningStatUpdate = { variable: tf.Variable; value: tf.Tensor };

/** Assigns each new running statistic to its variable and disposes the values. */
export function commitStatUpdates(updates: RunningStatUpdate[]): void {
  for (const { variable, value } of updates) {
    variable.assign(value);
    value.dispose();
  }
}

/** Drops new running statistics (disposes the values), leaving the variables as they were. */
export function discardStatUpdates(updates: RunningStatUpdate[]): void {
  tf.dispose(updates.map((update) => update.value));
}

/** A layer's output and the new running statistics of its BatchNorms (none in inference mode). */
export type LayerOutput<T extends tf.Tensor = tf.Tensor4D> = { y: T; statUpdates: RunningStatUpdate[] };

const scalars = new Map<number, tf.Scalar>();
let scalarsBackend: unknown = null;

/**
 * A float32 scalar made once per backend and kept (never dispose it): tfjs otherwise uploads a
 * new scalar tensor for every `tf.mul(x, 0.5)`, which shows up in per-op profiles.
 */
function constant(value: number): tf.Scalar {
  const backend = tf.backend();
  if (scalarsBackend !== backend) {
    tf.dispose([...scalars.values()]);
    scalars.clear();
    scalarsBackend = backend;
  }
  let scalar = scalars.get(value);
  if (!scalar) {
    scalar = tf.keep(tf.scalar(value, "float32"));
    scalars.set(value, scalar);
  }
  return scalar;
}

const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);

/**
 * GELU in its exact form, as PyTorch's nn.GELU() (Hendrycks & Gimpel 2016), any shape; the
 * caller owns the result:
 *   gelu(x)  = x Phi(x),  Phi(x) = 0.5 (1 + erf(x / sqrt 2))
 *   gelu'(x) = Phi(x) + x phi(x) = Phi(x) + z exp(-z^2) / sqrt(pi),  z = x / sqrt 2
 * A backend with a GELU kernel of its own (native TensorFlow with the library's fused ops,
 * activationKernels.ts) runs that: one pass forward, one back. Every other backend runs the composite
 * below, portable tf ops: the forward in five kernels (x Phi(x) here and (0.5 x)(1 + erf) there
 * differ only by exact halvings: bit-identical values), the hand-written backward in seven, against
 * about twelve for autodiff of the composite, keeping only z and Phi(x).
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (backendHasKernel(GeluExact)) return runActivationKernel(GeluExact, x);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const z = tf.mul(input, constant(Math.SQRT1_2));
    const cdf = tf.mul(tf.add(constant(1), tf.erf(z)), constant(0.5));
    save([z, cdf]);
    // tfjs runs a custom gradient inside the whole backward pass's scope: tidy here, or every
    // temporary would live until the last gradient is done.
    const gradFunc = (dy: tf.Tensor, [zSaved, cdfSaved]: tf.Tensor[]) =>
      tf.tidy(() => {
        const density = tf.mul(tf.mul(tf.exp(tf.neg(tf.square(zSaved))), zSaved), constant(INV_SQRT_PI));
        return tf.mul(dy, tf.add(cdfSaved, density));
      });
    return { value: tf.mul(input, cdf), gradFunc };
  });
  return op(x);
}

// ---- Conv2d (k x k, stride 1, "same" padding) ----------------------------------------------

export function convSpecs(key: string, cin: number, cout: number, k: number): ParameterSpec[] {
  const fanIn = cin * k * k;
  return [
    { key: `${key}.weight`, shape: [k, k, cin, cout], kind: "conv", fanIn, trainable: true },
    { key: `${key}.bias`, shape: [cout], kind: "bias", fanIn, trainable: true },
  ];
}

export function applyConv(p: ParameterStore, key: string, x: tf.Tensor4D): tf.Tensor4D {
  return tf.fused.conv2d({
    x,
    filter: p.get(`${key}.weight`) as tf.Tensor4D,
    strides: 1,
    pad: "same",
    bias: p.get(`${key}.bias`),
  });
}

// ---- Linear ----------------------------------------------------------------------------------

export function linearSpecs(key: string, din: number, dout: number): ParameterSpec[] {
  return [
    { key: `${key}.weight`, shape: [din, dout], kind: "linear", fanIn: din, trainable: true },
    { key: `${key}.bias`, shape: [dout], kind: "bias", fanIn: din, trainable: true },
  ];
}

/** y = x W + b, x [N, din]. */
export function applyLinear(p: ParameterStore, key: string, x: tf.Tensor2D): tf.Tensor2D {
  const weight = p.get(`${key}.weight`) as tf.Tensor2D;
  return tf.fused.matMul({ a: x, b: weight, bias: p.get(`${key}.bias`) }) as tf.Tensor2D;
}

// ---- ConvTranspose2d with kernel = stride -------------------------------------------------

export function convTransposeSpecs(key: string, cin: number, cout: number, k: number): ParameterSpec[] {
  // PyTorch computes a ConvTranspose2d's fan-in from weight dim 1 (out channels) x kernel area.
  const fanIn = cout * k * k;
  return [
    { key: `${key}.weight`, shape: [cin, k, k, cout], kind: "convT", fanIn, trainable: true },
    { key: `${key}.bias`, shape: [cout], kind: "bias", fanIn, trainable: true },
  ];
}

/**
 * ConvTranspose2d with kernel size = stride = k: each input pixel paints its own k x k output
 * patch with no overlap, so the layer is one matrix product and a reshape:
 *   y[n, h*k + i, w*k + j, o] = b[o] + sum_c x[n, h, w, c] W[c, i, j, o].
 */
export function applyConvTranspose(p: ParameterStore, key: string, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const weight = p.get(`${key}.weight`);
    const [cin, k, , cout] = weight.shape;
    const [n, h, w] = x.shape;
    const patches = tf.matMul(tf.reshape(x, [n * h * w, cin]), tf.reshape(weight, [cin, k * k * cout]));
    const grid = tf.transpose(tf.reshape(patches, [n, h, w, k, k, cout]), [0, 1, 3, 2, 4, 5]);
    return tf.add(tf.reshape(grid, [n, h * k, w * k, cout]), p.get(`${key}.bias`)) as tf.Tensor4D;
  });
}

// ---- BatchNorm2d ---------------------------------------------------------------------------

export function batchNormSpecs(key: string, channels: number): ParameterSpec[] {
  return [
    { key: `${key}.weight`, shape: [channels], kind: "ones", trainable: true },
    { key: `${key}.bias`, shape: [channels], kind: "zeros", trainable: true },
    { key: `${key}.running_mean`, shape: [channels], kind: "zeros", trainable: false },
    { key: `${key}.running_var`, shape: [channels], kind: "ones", trainable: false },
  ];
}

/** A BatchNorm2d's parameters and running statistics, by its key, and PyTorch's constants. */
function batchNormState(p: ParameterStore, key: string) {
  return {
    scale: p.get(`${key}.weight`) as tf.Tensor1D,
    offset: p.get(`${key}.bias`) as tf.Tensor1D,
    runningMean: p.get(`${key}.running_mean`) as tf.Variable<tf.Rank.R1>,
    runningVar: p.get(`${key}.running_var`) as tf.Variable<tf.Rank.R1>,
    momentum: BATCH_NORM_MOMENTUM,
    epsilon: NORM_EPSILON,
  };
}

/**
 * BatchNorm2d (Ioffe & Szegedy 2015, Algorithm 1) from tf ops. Training: normalise with the
 * batch's mean and biased variance over N, H, W, and return the running statistics moved toward
 * the batch's (running_var takes the unbiased variance, as PyTorch does). Inference: use the
 * running ones. x [N, H, W, C]; the caller owns the output and the new statistics' values.
 */
export function applyBatchNorm(p: ParameterStore, key: string, x: tf.Tensor4D, training: boolean): LayerOutput {
  return tf.tidy(() => {
    const bn = batchNormState(p, key);
    if (!training) {
      return { y: tf.batchNorm(x, bn.runningMean, bn.runningVar, bn.offset, bn.scale, bn.epsilon) as tf.Tensor4D, statUpdates: [] };
    }
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const count = x.size / x.shape[3];
    const [newMean, newVar] = updatedRunningStatistics(bn.runningMean, bn.runningVar, mean, variance, count, bn.momentum);
    const statUpdates = [
      { variable: bn.runningMean, value: newMean },
      { variable: bn.runningVar, value: newVar },
    ];
    const y = tf.batchNorm(x, mean as tf.Tensor1D, variance as tf.Tensor1D, bn.offset, bn.scale, bn.epsilon) as tf.Tensor4D;
    return { y, statUpdates };
  });
}

/**
 * BatchNorm2d(Conv2d(x)), the pair every course block starts with, x [N, H, W, Cin] -> [N, H, W, C]:
 * the conv without its bias, then the library's BatchNorm kernel, which folds the bias in
 * (./batchNormKernels.ts; each backend runs its own implementation of it, native TensorFlow its
 * fused kernels). Same function, running statistics and gradients as applyBatchNorm(applyConv).
 */
export function applyConvBatchNorm(
  p: ParameterStore,
  convKey: string,
  normKey: string,
  x: tf.Tensor4D,
  training: boolean,
): LayerOutput {
  return tf.tidy(() => {
    const z = tf.conv2d(x, p.get(`${convKey}.weight`) as tf.Tensor4D, 1, "same");
    const bias = p.get(`${convKey}.bias`) as tf.Tensor1D;
    const bn = batchNormState(p, normKey);
    if (!training) return { y: batchNormAfterBiasInference(z, bias, bn), statUpdates: [] };
    const { y, runningMean, runningVar } = batchNormAfterBiasTraining(z, bias, bn);
    const statUpdates = [
      { variable: bn.runningMean, value: runningMean },
      { variable: bn.runningVar, value: runningVar },
    ];
    return { y, statUpdates };
  });
}

// ---- GroupNorm -------------------------------------------------------------------------------

export function groupNormSpecs(key: string, channels: number): ParameterSpec[] {
  return [
    { key: `${key}.weight`, shape: [channels], kind: "ones", trainable: true },
    { key: `${key}.bias`, shape: [channels], kind: "zeros", trainable: true },
  ];
}

/**
 * GroupNorm (Wu & He 2018, eq. 1-3): per sample, normalise each group of C / G channels over H, W.
 * The backend's own kernel where it has one (native TensorFlow with the library's ops,
 * groupNormKernels.ts), else this composite of tf ops.
 */
export function applyGroupNorm(p: ParameterStore, key: string, x: tf.Tensor4D, groups: number): tf.Tensor4D {
  if (backendHasKernel(GroupNormChannelsLast)) return groupNormKernel(x, p.get(`${key}.weight`), p.get(`${key}.bias`), groups, NORM_EPSILON);
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const grouped = tf.reshape(x, [n, h, w, groups, c / groups]);
    const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
    const normalised = tf.div(tf.sub(grouped, mean), tf.sqrt(tf.add(variance, NORM_EPSILON)));
    const scaled = tf.mul(tf.reshape(normalised, [n, h, w, c]), p.get(`${key}.weight`));
    return tf.add(scaled, p.get(`${key}.bias`)) as tf.Tensor4D;
  });
}
