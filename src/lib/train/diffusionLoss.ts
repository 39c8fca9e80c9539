/**
 * The training objective: L_simple (Ho et al. 2020, eq. 14), the mean squared error between
 * the noise eps and the model's prediction of it from x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps.
 */
import * as tf from "@tensorflow/tfjs-core";
import { addNoise } from "../diffusion/forward";
import type { Schedule } from "../diffusion/schedule";
import type { ContextUnet } from "../model/contextUnet";
import type { RunningStatUpdate } from "../model/layers";

export interface NoisingDraw {
  /** [N] integer steps, uniform in 1..T. */
  t: Int32Array;
  /** [N, H, W, C] standard normal noise eps. */
  noise: tf.Tensor4D;
}

/**
 * L_simple = mean over batch and pixels of (eps - eps_theta(x_t, t / T, c))^2.
 * @param x0       [N, 16, 16, 3] clean images in [-1, 1].
 * @param context  [N, 5] contexts (already with dropout applied), or null for the unconditional model.
 * @param statUpdates  when given, BatchNorm's new running statistics are pushed here for the
 *                 caller to commit, instead of being assigned at once.
 * @returns        a scalar the caller owns (use inside tf.variableGrads).
 */
export function diffusionLoss(
  model: ContextUnet,
  schedule: Schedule,
  x0: tf.Tensor4D,
  context: tf.Tensor2D | null,
  draw: NoisingDraw,
  statUpdates?: RunningStatUpdate[],
): tf.Scalar {
  return tf.tidy(() => {
    const xt = addNoise(schedule, x0, Array.from(draw.t), draw.noise);
    const tFraction = tf.div(tf.tensor1d(draw.t, "float32"), schedule.T) as tf.Tensor1D;
    const predNoise = model.predictNoise(xt, tFraction, context, { training: true, statUpdates });
    return tf.mean(tf.squaredDifference(predNoise, draw.noise)) as tf.Scalar;
  });
}
