/**
 * Normal noise that its seed repeats, seed 0 included. tf.randomNormal takes a falsy seed for
 * "no seed" and draws from Math.random() (tfjs-core's MPRandGauss: `seed ? seed : Math.random()`),
 * so seed 0, the commands' default, drew a different x_T on every run. Here seed 0 goes in as
 * 0.5, a seed no integer arithmetic produces, so distinct integer seeds keep distinct streams and
 * every other seed draws exactly what tf.randomNormal always drew for it.
 */
import * as tf from "@tensorflow/tfjs-core";

/** What tf.randomNormal is given in place of seed 0. */
export const SEED_ZERO_STAND_IN = 0.5;

/** N(mean, std^2) float32 noise of `shape`, the same for the same seed on every call; the caller owns it. */
export function seededNormal<R extends tf.Rank>(shape: tf.ShapeMap[R], seed: number, mean = 0, std = 1): tf.Tensor<R> {
  if (!Number.isFinite(seed)) throw new Error(`seededNormal: the seed must be a finite number, got ${seed}.`);
  return tf.randomNormal(shape, mean, std, "float32", seed === 0 ? SEED_ZERO_STAND_IN : seed);
}
