/**
 * One reverse step of each sampler as a pure function (x_t, predNoise, t, schedule, z) -> x_prev.
 * Scalars for one t are plain numbers; only the images are tensors. Callers own the result.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ReverseStepCoefficients } from "./posterior";
import { type Schedule, checkStep } from "./schedule";

/**
 * DDPM ancestral step (Ho et al. 2020, Algorithm 2, with sigma_t^2 = beta_t), as the course:
 *   x_{t-1} = (x_t - predNoise (1 - alpha_t) / sqrt(1 - alphaBar_t)) / sqrt(alpha_t) + sqrt(beta_t) z
 * Pass z = null for no added noise (the course's last step, t = 1, and its "incorrect" sampler).
 */
export function ddpmStep(
  x: tf.Tensor4D,
  predNoise: tf.Tensor4D,
  t: number,
  schedule: Schedule,
  z: tf.Tensor4D | null,
): tf.Tensor4D {
  checkStep(schedule, t);
  if (t < 1) throw new Error(`ddpmStep: t must be >= 1 (a step goes from t to t - 1), got ${t}.`);
  const alpha = schedule.alpha[t];
  const noiseCoefficient = (1 - alpha) / schedule.sqrtOneMinusAlphaBar[t];
  return tf.tidy(() => {
    const mean = tf.div(tf.sub(x, tf.mul(predNoise, noiseCoefficient)), Math.sqrt(alpha));
    return (z ? tf.add(mean, tf.mul(z, Math.sqrt(schedule.beta[t]))) : mean) as tf.Tensor4D;
  });
}

/**
 * The model's estimate of the clean image (Ho et al. 2020, eq. 15 solved for x_0):
 *   predX0 = (x_t - sqrt(1 - alphaBar_t) predNoise) / sqrt(alphaBar_t)
 */
export function predictX0(x: tf.Tensor4D, predNoise: tf.Tensor4D, t: number, schedule: Schedule): tf.Tensor4D {
  checkStep(schedule, t);
  return tf.tidy(
    () => tf.div(tf.sub(x, tf.mul(predNoise, schedule.sqrtOneMinusAlphaBar[t])), schedule.sqrtAlphaBar[t]) as tf.Tensor4D,
  );
}

/**
 * The clean-image estimate a sampler steps from: predictX0, clipped to the data's range [-1, 1]
 * when `clip` (improved DDPM's clip_denoised, Nichol & Dhariwal 2021, as openai/improved-diffusion
 * samples). Near t = T the estimate divides eps^'s error by sqrt(alphaBar_t): 1e-4 on the cosine
 * schedule at T = 500, 0.08 on the course's linear one.
 */
export function denoisedEstimate(x: tf.Tensor4D, predNoise: tf.Tensor4D, t: number, schedule: Schedule, clip: boolean): tf.Tensor4D {
  if (!clip) return predictX0(x, predNoise, t, schedule);
  return tf.tidy(() => tf.clipByValue(predictX0(x, predNoise, t, schedule), -1, 1) as tf.Tensor4D);
}

/** How a step treats the model's x_0 estimate: clipDenoised clips it to [-1, 1] (denoisedEstimate). */
export interface StepOptions {
  clipDenoised?: boolean;
}

/**
 * DDIM step from t to tPrev < t (Song et al. 2021, eq. 12, with sigma from eq. 16):
 *   sigma   = eta sqrt((1 - alphaBar_prev) / (1 - alphaBar_t)) sqrt(1 - alphaBar_t / alphaBar_prev)
 *   x_prev  = sqrt(alphaBar_prev) predX0 + sqrt(1 - alphaBar_prev - sigma^2) predNoise + sigma z
 * eta = 0 is the deterministic sampler the course uses; eta = 1 matches DDPM's variance.
 * z may be null when eta = 0 (it is then unused). With clipDenoised, predX0 is clipped and the
 * noise re-derived from it, predNoise = (x_t - sqrt(alphaBar_t) predX0) / sqrt(1 - alphaBar_t)
 * (improved-diffusion's ddim_sample).
 */
export function ddimStep(
  x: tf.Tensor4D,
  predNoise: tf.Tensor4D,
  t: number,
  tPrev: number,
  schedule: Schedule,
  eta: number,
  z: tf.Tensor4D | null,
  { clipDenoised = false }: StepOptions = {},
): tf.Tensor4D {
  checkStep(schedule, t);
  checkStep(schedule, tPrev, "tPrev");
  if (tPrev >= t) throw new Error(`ddimStep: tPrev (${tPrev}) must be below t (${t}).`);
  if (!(eta >= 0)) throw new Error(`ddimStep: eta must be >= 0, got ${eta}.`);
  const alphaBar = schedule.alphaBar[t];
  const alphaBarPrev = schedule.alphaBar[tPrev];
  const sigma = eta * Math.sqrt((1 - alphaBarPrev) / (1 - alphaBar)) * Math.sqrt(1 - alphaBar / alphaBarPrev);
  if (sigma > 0 && !z) throw new Error("ddimStep: eta > 0 needs noise z.");
  // Rounding can make 1 - alphaBarPrev - sigma^2 a hair below zero when alphaBarPrev = 1.
  const directionScale = Math.sqrt(Math.max(0, 1 - alphaBarPrev - sigma * sigma));
  return tf.tidy(() => {
    const predX0 = denoisedEstimate(x, predNoise, t, schedule, clipDenoised);
    const noise = clipDenoised ? tf.div(tf.sub(x, tf.mul(predX0, schedule.sqrtAlphaBar[t])), schedule.sqrtOneMinusAlphaBar[t]) : predNoise;
    const next = tf.add(tf.mul(predX0, Math.sqrt(alphaBarPrev)), tf.mul(noise, directionScale));
    return (sigma > 0 ? tf.add(next, tf.mul(z!, sigma)) : next) as tf.Tensor4D;
  });
}

/**
 * A reverse step as the posterior at the model's x_0 estimate (Ho et al. 2020, eqs. 7 and 15;
 * Nichol & Dhariwal 2021, Sec. 4 for a respaced step t -> tPrev):
 *   x_prev = meanFromX0 predX0 + meanFromXt x_t + exp(logVariance / 2) z
 * with the step's coefficients from reverseChainCoefficients. logVariance: a number (a fixed
 * variance, e.g. log beta') or a tensor broadcastable to x (a learned one, eq. 15); z = null adds
 * no noise (the last step). On a one-step chain with sigma^2 = beta_t its mean is ddpmStep's.
 * clipDenoised clips predX0 to [-1, 1] first (denoisedEstimate).
 */
export function posteriorStep(
  x: tf.Tensor4D,
  predNoise: tf.Tensor4D,
  step: ReverseStepCoefficients,
  schedule: Schedule,
  logVariance: tf.Tensor | number,
  z: tf.Tensor4D | null,
  { clipDenoised = false }: StepOptions = {},
): tf.Tensor4D {
  return tf.tidy(() => {
    const predX0 = denoisedEstimate(x, predNoise, step.t, schedule, clipDenoised);
    const mean = tf.add(tf.mul(predX0, step.meanFromX0), tf.mul(x, step.meanFromXt));
    if (!z) return mean as tf.Tensor4D;
    const scale = typeof logVariance === "number" ? Math.exp(logVariance / 2) : tf.exp(tf.mul(logVariance, 0.5));
    return tf.add(mean, tf.mul(z, scale)) as tf.Tensor4D;
  });
}
