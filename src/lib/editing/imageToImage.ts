/**
 * Image-to-image by SDEdit (Meng et al. 2021, "SDEdit: Guided Image Synthesis and Editing with
 * Stochastic Differential Equations", Algorithm 1): noise a given image to t0 with the forward
 * process (Ho et al. 2020, eq. 4), x_t0 = sqrt(alphaBar_t0) x + sqrt(1 - alphaBar_t0) eps, then
 * run the reverse process from t0 to 0. Small t0 keeps the input (faithful); large t0 keeps only
 * its rough colours and layout and lets the model redraw it (realistic). A context other than the
 * image's own steers the redraw ("make this hero side-facing").
 */
import * as tf from "@tensorflow/tfjs-core";
import { addNoise } from "../diffusion/forward";
import { checkGuidanceChoice, type GuidanceChoice, guidedModel, type SamplerChoice } from "../diffusion/samplers";
import { type Schedule } from "../diffusion/schedule";
import type { NoiseModel } from "../diffusion/sampling";
import { deriveSeed } from "../data/sprites/prng";
import { editingChain } from "./editingChain";
import { type EditLoopOptions, type EditResult, runEditLoop } from "./editLoop";
import { replacementMoves } from "./repaintSchedule";
import { seededNormal } from "../seededNormal";

export interface ImageToImageOptions extends SamplerChoice, GuidanceChoice, Omit<EditLoopOptions, "seed"> {
  /** How far to noise the input, 0..T: 0 returns it unchanged, T ignores it. */
  t0: number;
  /** Seed of the forward noise and of every step's noise. */
  seed: number;
}

/** Throws unless t0 is an integer step 0..T. */
export function checkT0(t0: number, schedule: Pick<Schedule, "T">): void {
  if (!Number.isInteger(t0) || t0 < 0 || t0 > schedule.T) {
    throw new Error(`SDEdit: t0 must be an integer step in 0..${schedule.T} (how far to noise the input), got ${t0}.`);
  }
}

/**
 * Redraws `images` [N, H, W, C] in [-1, 1] (not disposed) from step t0 with the chosen sampler:
 * DDPM walks t0, t0 - 1, ..., 0; DDIM steps from t0 onto its strided grid and down it. The
 * model evaluations are the steps of that walk. The caller owns result.images and result.frames.
 */
export async function imageToImage(
  model: NoiseModel,
  schedule: Schedule,
  images: tf.Tensor4D,
  context: tf.Tensor2D | null,
  options: ImageToImageOptions,
): Promise<EditResult> {
  if (images.rank !== 4) throw new Error(`SDEdit: images have shape [${images.shape}], expected [N, H, W, C].`);
  checkT0(options.t0, schedule);
  if (!Number.isInteger(options.seed)) throw new Error(`SDEdit: seed must be an integer, got ${options.seed}.`);
  checkGuidanceChoice(options, context, images.shape[0]);
  const chain = editingChain(options, schedule, options.t0);
  const steps = Array(images.shape[0]).fill(options.t0);
  const start = tf.tidy(() => addNoise(schedule, images, steps, seededNormal<tf.Rank.R4>(images.shape, deriveSeed(options.seed, 7))));
  try {
    return await runEditLoop(guidedModel(model, schedule, options), schedule, chain, start, context, replacementMoves(chain.timesteps.length - 1), null, options);
  } finally {
    start.dispose();
  }
}
