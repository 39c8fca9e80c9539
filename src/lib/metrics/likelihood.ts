/**
 * The likelihood a diffusion model gives held-out images, as the full variational bound on
 * -log p(x_0) in bits per dimension (Ho et al. 2020, eq. 5; Nichol & Dhariwal 2021, eqs. 4-6):
 *   L_vlb = L_T + sum_{t=2..T} L_{t-1} + L_0,
 * every t's term taken at one x_t ~ q(x_t | x_0) per image (an unbiased estimate of the bound),
 * as their calc_bpd_loop does. The terms come from ../diffusion/boundTerms; this file draws the
 * x_t, asks the model and sums; then come the held-out sprites a likelihood is measured on
 * (./likelihoodFile records the measurements).
 */
import * as tf from "@tensorflow/tfjs-core";
import { fingerprint, sampleTensors } from "../data/dataset";
import { deriveSeed } from "../data/sprites/prng";
import { boundTerms, priorTerm } from "../diffusion/boundTerms";
import { addNoise } from "../diffusion/forward";
import type { Schedule } from "../diffusion/schedule";
import { type NoiseModel, hasLearnedVariance } from "../diffusion/sampling";
import { yieldToEventLoop } from "../eventLoop";
import type { CheckpointManifest } from "../train/checkpoint";
import { type RealSpriteSet, type RealSprites, heldOutRealSprites, realSpriteSet } from "./realSprites";
import { type TrainingDataRecord, diffusionTrainingSet } from "./trainingSet";
import { seededNormal } from "../seededNormal";

export interface VariationalBoundOptions {
  /** Seed of the x_t draws: the same seed gives the same eps at every t (boundNoise). */
  seed: number;
  /** Images per model evaluation (default 100); the result does not depend on it. */
  batchSize?: number;
  /**
   * [N, K] one context per image (one-hot labels: the bound on -log p(x_0 | y)), or null
   * (default): the model's null context, so a context model trained with context dropout gives
   * -log p(x_0), the unconditional likelihood Ho et al. and Nichol & Dhariwal report.
   */
  context?: tf.Tensor2D | null;
  /**
   * Clip the model's x_0 estimate to [-1, 1] inside its mean (default true, as their likelihood
   * evaluation does: clip_denoised). Still a bound, on the clipped model's likelihood; false
   * measures the raw eps-parameterised model (the Gaussian oracle test needs that).
   */
  clipDenoised?: boolean;
  /** Called after every t (all batches), awaited: a progress line or a notebook's bar. */
  onProgress?: (progress: { step: number; steps: number; t: number }) => void | Promise<void>;
}

/** One step's term, averaged over the images: L_{t-1} in bits/dim (t = 1: the decoder's L_0). */
export interface StepTerm {
  t: number;
  bitsPerDim: number;
}

export interface VariationalBound {
  /** [N] each image's bound in bits/dim: L_T + sum_{t=2..T} L_{t-1} + L_0. */
  perImage: Float64Array;
  /** Their mean: the bound on the negative log-likelihood, in bits/dim. */
  bitsPerDim: number;
  /** The standard error of that mean, sd(perImage) / sqrt(N) (null for N = 1). */
  standardError: number | null;
  /** Mean L_T, the prior term (no parameters: near 0 when alphaBar_T is). */
  prior: number;
  /** Mean term of every step t = 1..T, in that order (terms[0] is the decoder, t = 1). */
  terms: StepTerm[];
}

/**
 * The standard noise eps that makes x_t at step t for a run seeded with `seed` (Ho et al. 2020,
 * eq. 4: x_t = sqrt(alphaBar_t) x_0 + sqrt(1 - alphaBar_t) eps). Image i's eps is row i whatever
 * the batch size. The caller owns the tensor.
 */
export function boundNoise(shape: [number, number, number, number], seed: number, t: number): tf.Tensor4D {
  return seededNormal<tf.Rank.R4>(shape, deriveSeed(seed, 0xb0d, t));
}

/** Throws unless x0 is a non-empty NHWC batch in [-1, 1] (the decoder's pixel bins live there). */
async function checkImages(x0: tf.Tensor): Promise<void> {
  if (x0.rank !== 4 || x0.shape[0] < 1) {
    throw new Error(`variationalBound: x0 has shape [${x0.shape}], expected [N, H, W, C] with N >= 1 (NHWC images in [-1, 1]).`);
  }
  const range = tf.tidy(() => tf.stack([tf.min(x0), tf.max(x0)]));
  const [min, max] = await range.data();
  range.dispose();
  if (!(min >= -1 && max <= 1)) {
    throw new Error(`variationalBound: x0's values span [${min}, ${max}], outside [-1, 1]; scale uint8 pixels as v / 127.5 - 1 (the decoder's bins are 2/255 wide on [-1, 1]).`);
  }
}

/** Settings one step's batches share. */
interface StepSettings {
  model: NoiseModel;
  schedule: Schedule;
  learned: boolean;
  batchSize: number;
  context: tf.Tensor2D | null;
  clipDenoised: boolean;
}

/** Every image's term at step t, L_{t-1} in bits/dim, from x_t = sqrt(alphaBar_t) x_0 + sqrt(1 - alphaBar_t) noise, in batches. */
async function termsAtStep(x0: tf.Tensor4D, t: number, noise: tf.Tensor4D, s: StepSettings): Promise<Float32Array> {
  const n = x0.shape[0];
  const out = new Float32Array(n);
  for (let start = 0; start < n; start += s.batchSize) {
    const size = Math.min(s.batchSize, n - start);
    const batchTerms = tf.tidy(() => {
      const x0Batch = tf.slice(x0, [start], [size]) as tf.Tensor4D;
      const c = s.context ? (tf.slice(s.context, [start], [size]) as tf.Tensor2D) : null;
      const steps = new Array<number>(size).fill(t);
      const xt = addNoise(s.schedule, x0Batch, steps, tf.slice(noise, [start], [size]) as tf.Tensor4D); // Ho et al. 2020, eq. 4
      const tFraction = t / s.schedule.T;
      const prediction = s.learned ? s.model.predictNoiseAndVariance!(xt, tFraction, c) : { noise: s.model.predictNoise(xt, tFraction, c), v: null };
      const variance = prediction.v ? { kind: "learned" as const, v: prediction.v } : { kind: "fixed" as const };
      // L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)) for t >= 2, L_0 = -log p(x_0 | x_1) at t = 1 (Nichol & Dhariwal, eqs. 4-5, 13).
      return boundTerms(s.schedule, x0Batch, xt, steps, prediction.noise, variance, { clipDenoised: s.clipDenoised });
    });
    out.set(await batchTerms.data(), start);
    batchTerms.dispose();
  }
  return out;
}

/**
 * The full variational bound of `model` on each image of `x0` [N, H, W, C] in [-1, 1], in bits
 * per dimension (see the module comment), with the model's own variance: fixed (beta_t; betaTilde_2
 * at the decoder) or learned (Nichol & Dhariwal, eq. 15, when hasLearnedVariance(model)). T model
 * evaluations per image, `batchSize` images at a time. Neither x0 nor the context is disposed;
 * every tensor made here is. Throws on a non-finite term, naming t and the image.
 */
export async function variationalBound(model: NoiseModel, schedule: Schedule, x0: tf.Tensor4D, options: VariationalBoundOptions): Promise<VariationalBound> {
  await checkImages(x0);
  const n = x0.shape[0];
  const { seed, batchSize = 100, context = null, clipDenoised = true } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`variationalBound: batchSize must be a positive integer, got ${batchSize}.`);
  if (context && (context.rank !== 2 || context.shape[0] !== n)) {
    throw new Error(`variationalBound: context has shape [${context.shape}], expected [${n}, K] (one vector per image) or null (the null context).`);
  }
  const settings: StepSettings = { model, schedule, learned: hasLearnedVariance(model), batchSize, context, clipDenoised };
  const { T } = schedule;
  const priorTensor = priorTerm(schedule, x0); // L_T (Ho et al. 2020, eq. 5; Nichol & Dhariwal, eq. 6)
  const perImage = Float64Array.from(await priorTensor.data());
  priorTensor.dispose();
  const prior = mean(perImage);
  const terms: StepTerm[] = [];
  for (let t = T; t >= 1; t--) {
    const noise = boundNoise(x0.shape, seed, t);
    let values: Float32Array;
    try {
      values = await termsAtStep(x0, t, noise, settings);
    } finally {
      noise.dispose();
    }
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`variationalBound: the term at t = ${t} of image ${bad} is ${values[bad]}; the model's output or the images are broken.`);
    values.forEach((value, i) => (perImage[i] += value)); // L_vlb = L_T + sum_t L_{t-1} (Ho et al. 2020, eq. 5)
    terms.push({ t, bitsPerDim: mean(values) });
    await options.onProgress?.({ step: T - t + 1, steps: T, t });
    await yieldToEventLoop();
  }
  const bitsPerDim = mean(perImage);
  return { perImage, bitsPerDim, standardError: standardError(perImage, bitsPerDim), prior, terms: terms.reverse() };
}

/** The mean, summed in float64. */
function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/** sd / sqrt(n) with the n - 1 sample variance; null when n < 2. */
function standardError(values: Float64Array, average: number): number | null {
  if (values.length < 2) return null;
  const squares = values.reduce((sum, v) => sum + (v - average) ** 2, 0);
  return Math.sqrt(squares / (values.length - 1) / values.length);
}

/** Held-out sprites the model never trained on, and how they were chosen. */
export interface UnseenSprites extends RealSprites {
  /** Which sprites these are, for reports and records. */
  note: string;
}

/**
 * `n` sprites for a likelihood: the held-out sprites in the seeded order `npm run evaluate` draws
 * them from (heldOutRealSprites: held out from the classifier), skipping every sprite the model
 * itself trained on. Evaluate does not skip those (a --subset run drew its subset from all
 * sprites, about a quarter of the held-out ones among them), which a sample metric can afford and
 * a likelihood cannot. A held-out sprite's base may still have other jittered variants in the
 * training subset. Throws when the training sprites cannot be recovered (diffusionTrainingSet)
 * or too few unseen ones remain. The caller owns `images` and `labels`.
 */
export function unseenHeldOutSprites(n: number, seed: number, manifest: TrainingDataRecord, set: RealSpriteSet = realSpriteSet()): UnseenSprites {
  if (!Number.isInteger(n) || n < 1) throw new Error(`unseenHeldOutSprites: n must be a positive integer, got ${n}.`);
  const all = heldOutRealSprites(set.split.heldOut.length, seed, 0, set);
  tf.dispose([all.images, all.labels]);
  let order = all.indices;
  let note = `held-out sprites of ${set.dir} (the checkpoint records no training data, so some may be trained on)`;
  if (manifest.data) {
    const training = diffusionTrainingSet(manifest);
    if (!training.exact) throw new Error(`unseenHeldOutSprites: cannot tell which sprites the checkpoint trained on (${training.note}); a likelihood needs sprites it never saw.`);
    if (fingerprint(training.dataset) === set.fingerprint) {
      const trained = new Uint8Array(set.dataset.count);
      for (const i of training.indices) trained[i] = 1;
      order = order.filter((i) => !trained[i]);
      note = `held-out sprites not in the model's training set (${order.length} of ${all.indices.length} held out; trained on ${training.note})`;
    } else note = `held-out sprites of ${set.dir} (the model trained on other data: ${training.note})`;
  }
  if (order.length < n) throw new Error(`unseenHeldOutSprites: asked for ${n} sprites but only ${order.length} are held out and unseen by the model; use n <= ${order.length}.`);
  const indices = order.slice(0, n);
  return { ...sampleTensors(set.dataset, indices), classes: Uint8Array.from(indices, (i) => set.dataset.classes[i]), indices, note };
}
