/**
 * What classifier guidance asks of a classifier (Dhariwal & Nichol 2021, Sec. 4): class scores
 * for a *noisy* image x_t at its step t, so that grad_x log p(y | x_t, t) can be taken through it
 * by autodiff. The project's NoisySpriteClassifier implements it, and so do the tests' exact
 * Gaussian-mixture posteriors.
 */
import type * as tf from "@tensorflow/tfjs-core";

export interface NoisyClassifierModel {
  /** Number of classes K (the sprites': 5). */
  readonly classes: number;
  /**
   * [N, K] unnormalised class scores of x_t [N, H, W, C] at step t = tFraction * T (the same
   * t / T input the noise models take). log p(y | x_t, t) = logSoftmax(logits)[y]. Caller owns it.
   */
  logits(x: tf.Tensor4D, tFraction: number): tf.Tensor2D;
}
