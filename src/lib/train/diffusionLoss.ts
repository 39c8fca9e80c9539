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
 * L_simple = mean over batch and pixels of (eps - eps_theta(x_t, t / T, c))^2, with the model in
 * training mode (BatchNorm on batch statistics). Use it inside tf.variableGrads through a closure
 * that returns `loss` and hands `statUpdates` out.
 * @param x0       [N, 16, 16, 3] clean images in [-1, 1].
 * @param context  [N, 5] contexts (already with dropout applied), or null for the unconditional model.
 * @returns        the scalar loss (the caller owns it) and BatchNorm's new running statistics,
 *                 unassigned and kept: commit (commitStatUpdates) or discard them.
 */
export function diffusionLoss(
  model: ContextUnet,
  schedule: Schedule,
  x0: tf.Tensor4D,
  context: tf.Tensor2D | null,
  draw: NoisingDraw,
): { loss: tf.Scalar; statUpdates: RunningStatUpdate[] } {
  return tf.tidy(() => {
    const xt = addNoise(schedule, x0, Array.from(draw.t), draw.noise);
    const tFraction = tf.div(tf.tensor1d(draw.t, "float32"), schedule.T) as tf.Tensor1D;
    const { predNoise, statUpdates } = model.forwardTraining(xt, tFraction, context);
    return { loss: tf.mean(tf.squaredDifference(predNoise, draw.noise)) as tf.Scalar, statUpdates };
  });
}
