/**
 * Layer normalisation (Ba, Kiros & Hinton 2016) over the last axis, as PyTorch's nn.LayerNorm(C)
 * computes it (biased variance, eps = 1e-5, a scale and shift per channel):
 *   y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias,   mean and var over the C channels.
 * The transformer's pre-norm blocks need it; src/lib/model/layers.ts (shared) has BatchNorm and
 * GroupNorm only, so it lives here beside its one user. It is GroupNorm with one group on rows of
 * one position: where the backend has a GroupNorm kernel of its own (native TensorFlow with the
 * library's ops), that kernel runs it.
 */
import * as tf from "@tensorflow/tfjs-core";
import { backendHasKernel } from "../model/activationKernels";
import { GroupNormChannelsLast, groupNormKernel } from "../model/groupNormKernels";
import type { ParameterSpec, ParameterStore } from "../model/parameters";

/** PyTorch's default epsilon for nn.LayerNorm and nn.TransformerEncoderLayer's norms. */
export const LAYER_NORM_EPSILON = 1e-5;

/** nn.LayerNorm(channels)'s parameters: `weight` (starts at 1) and `bias` (starts at 0). */
export function layerNormSpecs(key: string, channels: number): ParameterSpec[] {
  return [
    { key: `${key}.weight`, shape: [channels], kind: "ones", trainable: true },
    { key: `${key}.bias`, shape: [channels], kind: "zeros", trainable: true },
  ];
}

/**
 * Normalises each row of x over its last axis (see the module comment).
 * @param x  [..., C] float32, any rank.
 * @returns  same shape, owned by the caller.
 */
export function applyLayerNorm<T extends tf.Tensor>(p: ParameterStore, key: string, x: T): T {
  if (backendHasKernel(GroupNormChannelsLast)) {
    return tf.tidy(() => {
      const channels = x.shape[x.shape.length - 1];
      const rows = tf.reshape(x, [-1, 1, 1, channels]) as tf.Tensor4D;
      return tf.reshape(groupNormKernel(rows, p.get(`${key}.weight`), p.get(`${key}.bias`), 1, LAYER_NORM_EPSILON), x.shape) as T;
    });
  }
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LAYER_NORM_EPSILON)));
    return tf.add(tf.mul(normalised, p.get(`${key}.weight`)), p.get(`${key}.bias`)) as T;
  });
}
