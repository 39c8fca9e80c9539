/**
 * The terms of the variational bound on -log p(x_0) (Ho et al. 2020, eq. 5; Nichol & Dhariwal
 * 2021, eqs. 4-6), per image and in bits per dimension:
 *   L_T     = KL(q(x_T | x_0) || N(0, I))                             the prior term
 *   L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t))      for t >= 2
 *   L_0     = -log p_theta(x_0 | x_1), the discretized Gaussian decoder  (t = 1)
 * Summed over t they bound the negative log-likelihood; the mean over pixels and division by
 * ln 2 turn nats per image into bits per dimension.
 */
import * as tf from "@tensorflow/tfjs-core";
import "../gradients"; // stopGradient and the losses are differentiated
import { type ReverseStepCoefficients, fullChainCoefficients } from "./posterior";
import type { Schedule } from "./schedule";

/** Half the width of a pixel's bin on [-1, 1]: 256 values, bins of width 2/255 (DDPM's L_0, eq. 13). */
export const HALF_BIN = 1 / 255;

/**
 * KL(N(mean1, exp(logVar1)) || N(mean2, exp(logVar2))) per element, in nats:
 *   0.5 (-1 + logVar2 - logVar1 + exp(logVar1 - logVar2) + (mean1 - mean2)^2 exp(-logVar2)).
 * Log-variances may be tensors or numbers (broadcast). The caller owns the result.
 */
export function gaussianKl(mean1: tf.Tensor, logVar1: tf.Tensor | number, mean2: tf.Tensor, logVar2: tf.Tensor | number): tf.Tensor {
  return tf.tidy(() => {
    const lv1 = asTensor(logVar1);
    const lv2 = asTensor(logVar2);
    const ratio = tf.exp(tf.sub(lv1, lv2));
    const meanTerm = tf.mul(tf.squaredDifference(mean1, mean2), tf.exp(tf.neg(lv2)));
    return tf.mul(0.5, tf.add(tf.add(tf.sub(tf.sub(lv2, lv1), 1), ratio), meanTerm));
  });
}

const asTensor = (value: tf.Tensor | number): tf.Tensor => (typeof value === "number" ? tf.scalar(value) : value);

/** Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF (exact; their code uses a tanh approximation). */
function standardNormalCdf(x: tf.Tensor): tf.Tensor {
  return tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/**
 * log p(x) per element for x on the pixel grid of [-1, 1] under N(mean, exp(logVariance))
 * discretized to bins of width 2/255 (Ho et al. 2020, eq. 13): the mass of
 * [x - 1/255, x + 1/255], with the outermost bins reaching to -inf (x = -1) and +inf (x = 1).
 * Probabilities are floored at 1e-12 before the log, as their code does. Caller owns the result.
 */
export function discretizedGaussianLogLikelihood(x: tf.Tensor, mean: tf.Tensor, logVariance: tf.Tensor | number): tf.Tensor {
  return tf.tidy(() => {
    const inverseStd = tf.exp(tf.mul(-0.5, asTensor(logVariance)));
    const centred = tf.sub(x, mean);
    const cdfAbove = standardNormalCdf(tf.mul(inverseStd, tf.add(centred, HALF_BIN)));
    const cdfBelow = standardNormalCdf(tf.mul(inverseStd, tf.sub(centred, HALF_BIN)));
    const safeLog = (p: tf.Tensor) => tf.log(tf.maximum(p, 1e-12));
    const inside = safeLog(tf.sub(cdfAbove, cdfBelow));
    const lowest = safeLog(cdfAbove);
    const highest = safeLog(tf.sub(1, cdfBelow));
    return tf.where(tf.less(x, -0.999), lowest, tf.where(tf.greater(x, 0.999), highest, inside));
  });
}

/** Mean over every axis but the first, divided by ln 2: nats per element -> bits per dimension, per image. */
export function bitsPerDimension(perElement: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.div(tf.mean(perElement, perElement.shape.slice(1).map((_, i) => i + 1)), Math.LN2) as tf.Tensor1D);
}

/** L_T per image in bits/dim: KL(N(sqrt(alphaBar_T) x_0, 1 - alphaBar_T) || N(0, 1)); no parameters. */
export function priorTerm(schedule: Schedule, x0: tf.Tensor4D): tf.Tensor1D {
  const { T } = schedule;
  return tf.tidy(() => bitsPerDimension(gaussianKl(tf.mul(x0, schedule.sqrtAlphaBar[T]), Math.log(1 - schedule.alphaBar[T]), tf.zerosLike(x0), 0)));
}

/** How the model's reverse variance is chosen: fixed, or interpolated by its own v (eq. 15). */
export type ReverseVariance = { kind: "fixed" } | { kind: "learned"; v: tf.Tensor4D };

/** [N, 1, 1, 1] of one coefficient per image's step. */
function perImage(steps: ReverseStepCoefficients[], pick: (s: ReverseStepCoefficients) => number): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(steps, pick), [steps.length, 1, 1, 1]);
}

/**
 * The model's log-variance for each image's step t -> t - 1:
 *   learned: v log beta_t + (1 - v) log betaTilde_t (v = (raw + 1) / 2, eq. 15);
 *   fixed:   log beta_t, the course's sigma^2 = beta_t, except at t = 1, where betaTilde_2 is
 *            used (their "fixed large" variance: beta_1 would spread the decoder's bins).
 * Returns a tensor broadcastable to [N, H, W, C]; caller owns it.
 */
export function reverseLogVariance(schedule: Schedule, t: ArrayLike<number>, variance: ReverseVariance): tf.Tensor {
  const chain = fullChainCoefficients(schedule);
  const steps = Array.from(t, (step) => chain[step]);
  return tf.tidy(() => {
    const logBeta = perImage(steps, (s) => s.logBeta);
    const logSmall = perImage(steps, (s) => s.logPosteriorVarianceClipped);
    if (variance.kind === "learned") return tf.add(tf.mul(variance.v, logBeta), tf.mul(tf.sub(1, variance.v), logSmall));
    return perImage(steps, (s) => (s.t === 1 ? s.logPosteriorVarianceClipped : s.logBeta));
  });
}

/**
 * The bound's term for each image's own step t in 1..T, in bits per dimension [N]: L_{t-1}
 * (Gaussian KL) where t >= 2, L_0 (decoder NLL) where t = 1. The model's mean is the posterior
 * mean at its x_0 estimate, x0^ = (x_t - sqrt(1 - alphaBar_t) eps^) / sqrt(alphaBar_t) (eqs. 7, 15;
 * clipped to [-1, 1] only when asked). Pass eps^ through a stop-gradient for the hybrid loss's
 * "frozen mean" (Sec. 3.1).
 * @param x0, xt      [N, H, W, C] clean and noised images.
 * @param t           [N] integer steps in 1..T.
 * @param predNoise   [N, H, W, C] the model's eps^.
 * @param options     clipDenoised: clip x0^ to the data's range [-1, 1] before it enters the mean,
 *                    as their likelihood evaluation does (calc_bpd_loop, clip_denoised=True): near
 *                    t = T, 1 / sqrt(alphaBar_t) magnifies eps^'s error into x0^. Training uses the
 *                    raw x0^ (default false), as theirs does.
 */
export function boundTerms(
  schedule: Schedule,
  x0: tf.Tensor4D,
  xt: tf.Tensor4D,
  t: ArrayLike<number>,
  predNoise: tf.Tensor4D,
  variance: ReverseVariance,
  options: { clipDenoised?: boolean } = {},
): tf.Tensor1D {
  if (t.length !== x0.shape[0]) throw new Error(`boundTerms: ${t.length} steps for a batch of ${x0.shape[0]}; pass one t per image.`);
  const chain = fullChainCoefficients(schedule);
  const steps = Array.from(t, (step) => {
    if (!Number.isInteger(step) || step < 1 || step > schedule.T) throw new Error(`boundTerms: t must be an integer in 1..${schedule.T}, got ${step}.`);
    return chain[step];
  });
  return tf.tidy(() => {
    const sqrtAlphaBar = tf.tensor4d(Float32Array.from(t, (s) => schedule.sqrtAlphaBar[s]), [steps.length, 1, 1, 1]);
    const sqrtOneMinus = tf.tensor4d(Float32Array.from(t, (s) => schedule.sqrtOneMinusAlphaBar[s]), [steps.length, 1, 1, 1]);
    const fromX0 = perImage(steps, (s) => s.meanFromX0);
    const fromXt = perImage(steps, (s) => s.meanFromXt);
    const rawX0 = tf.div(tf.sub(xt, tf.mul(sqrtOneMinus, predNoise)), sqrtAlphaBar);
    const predX0 = options.clipDenoised ? tf.clipByValue(rawX0, -1, 1) : rawX0;
    const modelMean = tf.add(tf.mul(fromX0, predX0), tf.mul(fromXt, xt));
    const posteriorMean = tf.add(tf.mul(fromX0, x0), tf.mul(fromXt, xt));
    const modelLogVariance = reverseLogVariance(schedule, t, variance);
    const kl = bitsPerDimension(gaussianKl(posteriorMean, perImage(steps, (s) => s.logPosteriorVarianceClipped), modelMean, modelLogVariance));
    const decoder = tf.neg(bitsPerDimension(discretizedGaussianLogLikelihood(x0, modelMean, modelLogVariance)));
    const isFirst = tf.tensor1d(Uint8Array.from(t, (s) => (s === 1 ? 1 : 0)), "bool");
    return tf.where(isFirst, decoder, kl) as tf.Tensor1D;
  });
}

/** x with its value and no gradient (tf.stopGradient, which TensorFlow.js lacks): the hybrid loss's frozen mean. */
export const stopGradient = tf.customGrad(((x: tf.Tensor) => ({ value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as <T extends tf.Tensor>(x: T) => T;
