/**
 * How well a model predicts the noise at each step t: the training loss (Ho et al. 2020, eq. 14,
 * the "simple" objective) split by t and measured on sprites it never trained on,
 *   mse(t) = E_{x0, eps} || eps - eps_theta(sqrt(alphaBar_t) x0 + sqrt(1 - alphaBar_t) eps, t, c) ||^2 / D,
 * D = H * W * C. A sampler that takes big strides (DDIM-25) leans on few t; an error that is high
 * exactly there is a reason it falls behind DDPM-500. The noise is seeded per t, so two models
 * (or a model's raw and EMA weights) are compared on the same draws.
 */
import * as tf from "@tensorflow/tfjs-core";
import { deriveSeed } from "../data/sprites/prng";
import { addNoise } from "../diffusion/forward";
import { type Schedule, checkStep } from "../diffusion/schedule";
import type { NoiseModel } from "../diffusion/sampling";
import { seededNormal } from "../seededNormal";

export interface StepError {
  t: number;
  /** Mean squared error per pixel and channel of the predicted noise (1 = as bad as predicting 0). */
  mse: number;
}

/**
 * The noise-prediction error of `model` at each step of `steps` on `images` [N, H, W, C] in
 * [-1, 1] with `context` [N, K] or null (neither disposed), in batches of `batchSize`. Plain
 * numbers out; everything it makes is disposed.
 */
export async function noisePredictionErrorByStep(
  model: NoiseModel,
  schedule: Schedule,
  images: tf.Tensor4D,
  context: tf.Tensor2D | null,
  steps: readonly number[],
  options: { seed: number; batchSize?: number },
): Promise<StepError[]> {
  for (const t of steps) checkStep(schedule, t);
  const n = images.shape[0];
  const batchSize = options.batchSize ?? 250;
  const errors: StepError[] = [];
  for (const t of steps) {
    let sum = 0;
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const batchSum = tf.tidy(() => {
        const x0 = tf.slice(images, [start], [size]) as tf.Tensor4D;
        const c = context ? (tf.slice(context, [start], [size]) as tf.Tensor2D) : null;
        const noise = seededNormal<tf.Rank.R4>(x0.shape, deriveSeed(options.seed, t, start));
        const xt = addNoise(schedule, x0, new Array<number>(size).fill(t), noise);
        return tf.sum(tf.square(tf.sub(noise, model.predictNoise(xt, t / schedule.T, c))));
      });
      sum += (await batchSum.data())[0];
      batchSum.dispose();
    }
    errors.push({ t, mse: sum / images.size });
  }
  return errors;
}
