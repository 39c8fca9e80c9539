/**
 * The output of a network with a learned variance (improved DDPM): 2C channels, eps in the first C
 * and r in [-1, 1] in the last C, read as v = (r + 1) / 2, the per-pixel interpolation between
 * log betaTilde_t (v = 0) and log beta_t (v = 1) (Nichol & Dhariwal 2021, eq. 15).
 */
import * as tf from "@tensorflow/tfjs-core";

function checkChannels(output: tf.Tensor4D, channels: number): void {
  const outChannels = output.shape[3];
  if (outChannels !== 2 * channels) throw new Error(`Learned variance: the output has ${outChannels} channels, expected 2 x ${channels} (eps, then r).`);
}

/** [N, H, W, 2C] -> eps [N, H, W, C] alone (for a sampler that does not use v); a new tensor the caller owns. */
export function learnedVarianceNoise(output: tf.Tensor4D, channels: number): tf.Tensor4D {
  checkChannels(output, channels);
  const [n, h, w] = output.shape;
  return tf.slice(output, [0, 0, 0, 0], [n, h, w, channels]);
}

/** [N, H, W, 2C] -> eps [N, H, W, C] and v = (r + 1) / 2 [N, H, W, C]; new tensors the caller owns. */
export function splitLearnedVarianceOutput(output: tf.Tensor4D, channels: number): { noise: tf.Tensor4D; v: tf.Tensor4D } {
  checkChannels(output, channels);
  const [n, h, w] = output.shape;
  return tf.tidy(() => ({
    noise: learnedVarianceNoise(output, channels),
    v: tf.div(tf.add(tf.slice(output, [0, 0, 0, channels], [n, h, w, channels]), 1), 2) as tf.Tensor4D,
  }));
}
