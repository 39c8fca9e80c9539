/**
 * The forward (noising) process q(x_t | x_0) in closed form (Ho et al. 2020, eq. 4):
 *   x_t = sqrt(alphaBar_t) x_0 + sqrt(1 - alphaBar_t) eps,   eps ~ N(0, I).
 * Departure from the course: its training loop writes (1 - alphaBar_t) eps, without the square
 * root, which trains on a lower noise level than the sampler assumes. This is the correct form.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type Schedule, checkStep } from "./schedule";
import { scheduleTensors } from "./scheduleTensors";

/**
 * Noises a batch to per-sample steps.
 * @param x0     [N, H, W, C] clean images in [-1, 1].
 * @param t      [N] integer steps in 0..T (int32 tensor or array), one per image.
 * @param noise  [N, H, W, C] standard normal noise eps.
 * @returns      [N, H, W, C] x_t, owned by the caller.
 */
export function addNoise(schedule: Schedule, x0: tf.Tensor4D, t: tf.Tensor1D | number[], noise: tf.Tensor4D): tf.Tensor4D {
  const n = x0.shape[0];
  if (noise.shape.join(",") !== x0.shape.join(",")) {
    throw new Error(`addNoise: noise has shape [${noise.shape}] but x0 has [${x0.shape}]; they must match.`);
  }
  const count = Array.isArray(t) ? t.length : t.size;
  if (count !== n) throw new Error(`addNoise: ${count} steps t for a batch of ${n}; pass one per image.`);
  if (Array.isArray(t)) t.forEach((step) => checkStep(schedule, step));
  const coefficients = scheduleTensors(schedule);
  return tf.tidy(() => {
    const steps = Array.isArray(t) ? tf.tensor1d(t, "int32") : tf.cast(t, "int32");
    const signal = tf.reshape(tf.gather(coefficients.sqrtAlphaBar, steps), [n, 1, 1, 1]);
    const noiseScale = tf.reshape(tf.gather(coefficients.sqrtOneMinusAlphaBar, steps), [n, 1, 1, 1]);
    return tf.add(tf.mul(signal, x0), tf.mul(noiseScale, noise)) as tf.Tensor4D;
  });
}
