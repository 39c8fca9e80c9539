/**
 * The training objectives. L_simple (Ho et al. 2020, eq. 14), the course's: the mean squared
 * error between the noise eps and the model's prediction of it from
 * x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps. And improved DDPM's (Nichol & Dhariwal 2021, Sec. 3.1):
 *   hybrid: L_simple + lambda L_vlb, lambda = 0.001, the mean frozen (stop-gradient) inside L_vlb,
 *           so L_vlb trains only the learned variance; their code writes lambda as the per-t bound
 *           term (bits/dim) times T / 1000 on top of the per-image mean squared error;
 *   vlb:    the bound's per-t term alone (bits/dim), training mean and variance.
 */
import * as tf from "@tensorflow/tfjs-core";
import { boundTerms, stopGradient } from "../diffusion/boundTerms";
import { addNoise } from "../diffusion/forward";
import type { Schedule } from "../diffusion/schedule";
import type { RunningStatUpdate } from "../model/layers";
import type { TrainableNoiseModel } from "../model/trainableNoiseModel";
import type { LossKind } from "./config";

export interface NoisingDraw {
  /** [N] integer steps in 1..T. */
  t: Int32Array;
  /** [N, H, W, C] standard normal noise eps. */
  noise: tf.Tensor4D;
}

/** The objective and, for importance-sampled t, each image's loss weight 1 / (T p_t). */
export interface Objective {
  loss: LossKind;
  /** [N] weights of the per-image losses (default: all 1, and the plain mean). */
  weights?: Float32Array;
}

/**
 * The loss with the model in training mode (BatchNorm on batch statistics). Use it inside
 * tf.variableGrads through a closure that returns `loss` and hands the rest out.
 * @param model      any TrainableNoiseModel (ContextUnet, AttentionUnet).
 * @param x0         [N, H, W, C] clean images in [-1, 1] (the model's image shape; the sprites' [N, 16, 16, 3]).
 * @param context    [N, K] contexts (already with dropout applied; the sprites' K = 5), or null for no context.
 * @param objective  default { loss: "simple" }: the course's L_simple, mean over batch and pixels.
 * @returns          the scalar loss (the caller owns it); perImage [N], each image's unweighted loss
 *                   (kept, caller disposes; absent on the course's plain path), for the importance
 *                   sampler's history; and BatchNorm's new running statistics, unassigned and kept:
 *                   commit (commitStatUpdates) or discard them.
 */
export function diffusionLoss(
  model: TrainableNoiseModel,
  schedule: Schedule,
  x0: tf.Tensor4D,
  context: tf.Tensor2D | null,
  draw: NoisingDraw,
  objective: Objective = { loss: "simple" },
): { loss: tf.Scalar; perImage?: tf.Tensor1D; statUpdates: RunningStatUpdate[] } {
  const { loss: kind, weights } = objective;
  if (kind === "hybrid" && !model.learnsVariance) {
    throw new Error('diffusionLoss: the hybrid loss trains a learned variance; this model has a fixed one (outChannels = inChannels). Use "simple" or "vlb".');
  }
  if (weights && weights.length !== x0.shape[0]) throw new Error(`diffusionLoss: ${weights.length} loss weights for a batch of ${x0.shape[0]}.`);
  return tf.tidy(() => {
    const xt = addNoise(schedule, x0, Array.from(draw.t), draw.noise);
    const tFraction = tf.div(tf.tensor1d(draw.t, "float32"), schedule.T) as tf.Tensor1D;
    const { predNoise, v, statUpdates } = model.forwardTraining(xt, tFraction, context);
    if (kind === "simple" && !weights) {
      // The course's path, unchanged: one mean over batch and pixels.
      return { loss: tf.mean(tf.squaredDifference(predNoise, draw.noise)) as tf.Scalar, statUpdates };
    }
    const squaredError = tf.mean(tf.squaredDifference(predNoise, draw.noise), [1, 2, 3]) as tf.Tensor1D;
    const variance = v ? { kind: "learned" as const, v } : { kind: "fixed" as const };
    const perImage =
      kind === "simple"
        ? squaredError
        : kind === "hybrid"
          ? (tf.add(squaredError, tf.mul(boundTerms(schedule, x0, xt, draw.t, stopGradient(predNoise), variance), schedule.T / 1000)) as tf.Tensor1D)
          : boundTerms(schedule, x0, xt, draw.t, predNoise, variance);
    const weighted = weights ? tf.mul(perImage, tf.tensor1d(weights)) : perImage;
    return { loss: tf.mean(weighted) as tf.Scalar, perImage: tf.keep(perImage), statUpdates };
  });
}
