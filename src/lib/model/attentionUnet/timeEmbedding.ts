/**
 * The time input of the attention UNet: t / T as a sinusoidal vector (Vaswani et al. 2017,
 * section 3.5; Ho et al. 2020, appendix B), then an MLP (Linear, SiLU, Linear), and SiLU itself.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Silu, backendHasKernel, runActivationKernel } from "../activationKernels";
import { applyLinear, linearSpecs } from "../layers";
import type { ParameterSpec, ParameterStore } from "../parameters";

/**
 * The embedding sees 1000 t / T, not t / T: the reference's integer step t when T = 1000, and
 * improved-diffusion's rescale_timesteps for any T, so the model knows nothing of the schedule
 * (the library's models take t / T). Departure from the reference: our t runs 1..T, theirs 0..T-1.
 */
export const TIME_SCALE = 1000;

/**
 * SiLU(x) = x sigmoid(x) (Elfwing et al. 2018; PyTorch's nn.SiLU), any shape; the caller owns the
 * result. The backend's own kernel where it has one (native TensorFlow with the library's ops,
 * ../activationKernels.ts), else two tf ops.
 */
export function silu(x: tf.Tensor): tf.Tensor {
  if (backendHasKernel(Silu)) return runActivationKernel(Silu, x);
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

/** omega_i = 10000^(-i / (size / 2)), i = 0..size/2 - 1: computed in float64, stored as float32. */
export function sinusoidFrequencies(size: number): Float32Array {
  const half = size / 2;
  return Float32Array.from({ length: half }, (_, i) => Math.pow(10000, -i / half));
}

/**
 * emb(s) = [sin(s omega_0), ..., sin(s omega_(h-1)), cos(s omega_0), ..., cos(s omega_(h-1))],
 * s = TIME_SCALE t / T, h = size / 2 (the reference's get_time_embedding, which divides by
 * 10000^(i / h) where this multiplies by its inverse).
 * @param tFraction  [N] t / T in [0, 1].
 * @returns          [N, size], owned by the caller.
 */
export function sinusoidalEmbedding(tFraction: tf.Tensor1D, size: number): tf.Tensor2D {
  return tf.tidy(() => {
    const n = tFraction.shape[0];
    const steps = tf.reshape(tf.mul(tFraction, TIME_SCALE), [n, 1]);
    const angles = tf.mul(steps, tf.tensor2d(sinusoidFrequencies(size), [1, size / 2]));
    return tf.concat([tf.sin(angles), tf.cos(angles)], 1) as tf.Tensor2D;
  });
}

/** The MLP after the sinusoids, `time_mlp.0` and `time_mlp.2` (PyTorch's Sequential indices). */
export function timeMlpSpecs(key: string, size: number): ParameterSpec[] {
  return [...linearSpecs(`${key}.0`, size, size), ...linearSpecs(`${key}.2`, size, size)];
}

/** [N] t / T -> [N, size] time embedding: Linear(SiLU(Linear(sinusoids))). The caller owns it. */
export function applyTimeMlp(p: ParameterStore, key: string, tFraction: tf.Tensor1D, size: number): tf.Tensor2D {
  return tf.tidy(() => {
    const hidden = silu(applyLinear(p, `${key}.0`, sinusoidalEmbedding(tFraction, size))) as tf.Tensor2D;
    return applyLinear(p, `${key}.2`, hidden);
  });
}
