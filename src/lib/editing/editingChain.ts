/**
 * The chain an edit walks: the sampler's timesteps as positions 0..steps (position 0 is the image,
 * t = 0), its reverse step between neighbouring positions, and the forward jump RePaint makes
 * back up the chain. Editing reuses the samplers' pure steps (../diffusion/steps) unchanged.
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkSamplerChoice, type SamplerChoice } from "../diffusion/samplers";
import { type Schedule, checkStep } from "../diffusion/schedule";
import { ddimStep, ddpmStep } from "../diffusion/steps";

export interface EditingChain {
  /** timesteps[p] is the step t at chain position p: 0 at p = 0, ascending to the top. */
  timesteps: number[];
  /**
   * One reverse step from t to tPrev (neighbouring positions) given the model's predNoise, and
   * whether it uses fresh noise z (the caller draws it only then). Returns a new tensor.
   */
  reverseStep(x: tf.Tensor4D, predNoise: tf.Tensor4D, t: number, tPrev: number, z: tf.Tensor4D | null): tf.Tensor4D;
  drawsNoise(t: number, tPrev: number): boolean;
}

/**
 * The chain of a sampler choice, from `top` (default T) down to 0: every step for DDPM (the
 * course's ancestral step, no noise on the last one), DDIM's strided grid (stride T / steps) for
 * DDIM, with `top` itself first when it is off the grid (SDEdit from any t0).
 */
export function editingChain(choice: SamplerChoice, schedule: Schedule, top: number = schedule.T): EditingChain {
  const { steps, eta } = checkSamplerChoice(choice, schedule);
  checkStep(schedule, top, "top");
  const stride = schedule.T / steps;
  const timesteps: number[] = [];
  for (let t = 0; t < top; t += stride) timesteps.push(t);
  timesteps.push(top);
  if (choice.sampler === "ddim") {
    return {
      timesteps,
      drawsNoise: (_t, tPrev) => eta > 0 && tPrev > 0,
      reverseStep: (x, eps, t, tPrev, z) => ddimStep(x, eps, t, tPrev, schedule, eta, z),
    };
  }
  const noisy = choice.sampler === "ddpm";
  return {
    timesteps,
    drawsNoise: (t) => noisy && t > 1,
    reverseStep: (x, eps, t, _tPrev, z) => ddpmStep(x, eps, t, schedule, z),
  };
}

/**
 * The forward process from t up to tNext > t, q(x_tNext | x_t), which RePaint uses to jump back
 * (Lugmayr et al. 2022, eq. 2 composed over the jump; Ho et al. 2020, eq. 4 conditioned on x_t):
 *   x_tNext = sqrt(alphaBar_tNext / alphaBar_t) x_t + sqrt(1 - alphaBar_tNext / alphaBar_t) eps
 * The ratio of alphaBars (not a product of alpha_s) keeps the marginals of eq. 4 exact on the
 * course's schedule, whose alphaBar_0 is reset to 1. Returns a new tensor.
 */
export function forwardJump(x: tf.Tensor4D, t: number, tNext: number, schedule: Schedule, noise: tf.Tensor4D): tf.Tensor4D {
  checkStep(schedule, t);
  checkStep(schedule, tNext, "tNext");
  if (tNext <= t) throw new Error(`forwardJump: tNext (${tNext}) must be above t (${t}): the forward process adds noise.`);
  const kept = schedule.alphaBar[tNext] / schedule.alphaBar[t];
  return tf.tidy(() => tf.add(tf.mul(x, Math.sqrt(kept)), tf.mul(noise, Math.sqrt(1 - kept))) as tf.Tensor4D);
}
