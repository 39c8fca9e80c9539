/**
 * The building blocks of the course's ContextUnet as pure functions of (input, parameters).
 * All activations are NHWC. Each block declares its parameters (`*Specs`) under a key prefix
 * that mirrors PyTorch's module path, and applies them (`apply*`) by the same keys.
 */
import * as tf from "@tensorflow/tfjs-core";
import "../gradients";
import { batchNormAfterBiasInference, batchNormAfterBiasTraining } from "../perf/fusedBatchNorm";
import { geluNative } from "../perf/fusedGelu";
import { fusedNative } from "../perf/native";
import type { ParameterSpec, ParameterStore } from "./parameters";

/** PyTorch's default epsilon for BatchNorm2d and GroupNorm. */
const NORM_EPSILON = 1e-5;
/** PyTorch's BatchNorm2d momentum: running = (1 - m) running + m batch. */
const BATCH_NORM_MOMENTUM = 0.1;

/** A BatchNorm running statistic's new value, waiting to be assigned (the caller owns `value`). */
export interface RunningStatUpdate {
  variable: tf.Variable;
  value: tf.Tensor;
}

/** Whether BatchNorm normalises with batch statistics (and updates its running ones). */
export interface ForwardMode {
  training: boolean;
  /**
   * In training, collect the running-statistic updates here rather than assigning them, so a
   * trainer can drop them when the step turns out bad (a non-finite loss).
   */
  statUpdates?: RunningStatUpdate[];
}

/**
 * GELU in its exact form: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) (Hendrycks & Gimpel 2016).
 * On native TensorFlow, the same function with fewer kernels and a hand-written gradient.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  const native = fusedNative();
  if (native) return geluNative(x);
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
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

/**
 * BatchNorm2d (Ioffe & Szegedy 2015, Algorithm 1). Training: normalise with the batch's mean
 * and biased variance over N, H, W, and move the running statistics toward the batch's
 * (running_var takes the unbiased variance, as PyTorch does). Inference: use the running ones.
 */
export function applyBatchNorm(
  p: ParameterStore,
  key: string,
  x: tf.Tensor4D,
  mode: ForwardMode,
): tf.Tensor4D {
  return tf.tidy(() => {
    const runningMean = p.get(`${key}.running_mean`);
    const runningVar = p.get(`${key}.running_var`);
    let mean: tf.Tensor = runningMean;
    let variance: tf.Tensor = runningVar;
    if (mode.training) {
      const moments = tf.moments(x, [0, 1, 2]);
      mean = moments.mean;
      variance = moments.variance;
      const count = x.size / x.shape[3];
      const m = BATCH_NORM_MOMENTUM;
      // Running statistics are non-trainable state: no gradient is ever asked of them.
      const unbiased = tf.mul(variance, count / (count - 1));
      const updates = [
        { variable: runningMean, value: tf.add(tf.mul(runningMean, 1 - m), tf.mul(mean, m)) },
        { variable: runningVar, value: tf.add(tf.mul(runningVar, 1 - m), tf.mul(unbiased, m)) },
      ];
      for (const update of updates) {
        if (mode.statUpdates) mode.statUpdates.push({ variable: update.variable, value: tf.keep(update.value) });
        else update.variable.assign(update.value);
      }
    }
    return tf.batchNorm(
      x,
      mean as tf.Tensor1D,
      variance as tf.Tensor1D,
      p.get(`${key}.bias`) as tf.Tensor1D,
      p.get(`${key}.weight`) as tf.Tensor1D,
      NORM_EPSILON,
    );
  });
}

/**
 * BatchNorm2d(Conv2d(x)), the pair every course block starts with. On native TensorFlow the
 * conv's bias is folded into the BatchNorm and both run as fused kernels (../perf/fusedBatchNorm:
 * the same function, its running statistics and gradients, without a pass over the activation
 * for the bias); elsewhere it is applyConv then applyBatchNorm.
 */
export function applyConvBatchNorm(
  p: ParameterStore,
  convKey: string,
  normKey: string,
  x: tf.Tensor4D,
  mode: ForwardMode,
): tf.Tensor4D {
  const native = fusedNative();
  if (!native) return applyBatchNorm(p, normKey, applyConv(p, convKey, x), mode);
  return tf.tidy(() => {
    const z = tf.conv2d(x, p.get(`${convKey}.weight`) as tf.Tensor4D, 1, "same");
    const bias = p.get(`${convKey}.bias`) as tf.Tensor1D;
    const state = {
      scale: p.get(`${normKey}.weight`),
      offset: p.get(`${normKey}.bias`),
      runningMean: p.get(`${normKey}.running_mean`),
      runningVar: p.get(`${normKey}.running_var`),
      momentum: BATCH_NORM_MOMENTUM,
      epsilon: NORM_EPSILON,
      statUpdates: mode.statUpdates,
    };
    return mode.training ? batchNormAfterBiasTraining(native, z, bias, state) : batchNormAfterBiasInference(native, z, bias, state);
  });
}

// ---- GroupNorm -------------------------------------------------------------------------------

export function groupNormSpecs(key: string, channels: number): ParameterSpec[] {
  return [
    { key: `${key}.weight`, shape: [channels], kind: "ones", trainable: true },
    { key: `${key}.bias`, shape: [channels], kind: "zeros", trainable: true },
  ];
}

/** GroupNorm (Wu & He 2018, eq. 1-3): per sample, normalise each group of C / G channels over H, W. */
export function applyGroupNorm(p: ParameterStore, key: string, x: tf.Tensor4D, groups: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const grouped = tf.reshape(x, [n, h, w, groups, c / groups]);
    const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
    const normalised = tf.div(tf.sub(grouped, mean), tf.sqrt(tf.add(variance, NORM_EPSILON)));
    const scaled = tf.mul(tf.reshape(normalised, [n, h, w, c]), p.get(`${key}.weight`));
    return tf.add(scaled, p.get(`${key}.bias`)) as tf.Tensor4D;
  });
}
