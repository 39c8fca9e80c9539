/**
 * Sampling loops: each walks a list of steps from t = T down to 0, asks the model for the noise,
 * and applies one pure step from ./steps. The loops know nothing about rendering; they hand out
 * the frames the caller asked for and report progress per step.
 */
import * as tf from "@tensorflow/tfjs-core";
import { yieldToEventLoop } from "../eventLoop";
import { COURSE_SCHEDULE_CONFIG, type Schedule, linearSchedule } from "./schedule";
import { reverseChainCoefficients } from "./posterior";
import { ddimStep, ddpmStep, posteriorStep } from "./steps";
import { seededNormal } from "../seededNormal";

/**
 * Anything that predicts eps from (x_t, t / T, context): ContextUnet, AttentionUnet, or a test's
 * oracle. A model with a learned variance (learnsVariance true) also gives v, its per-pixel
 * interpolation between log betaTilde (v = 0) and log beta (v = 1) (Nichol & Dhariwal 2021, eq. 15).
 * A model that states its imageShape [H, W, C] samples at that size when the start does not say.
 */
export interface NoiseModel {
  predictNoise(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null): tf.Tensor4D;
  readonly imageShape?: readonly [number, number, number];
  readonly learnsVariance?: boolean;
  predictNoiseAndVariance?(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null): { noise: tf.Tensor4D; v: tf.Tensor4D };
  /**
   * eps computed outside TensorFlow.js's synchronous ops (ONNX Runtime: OnnxNoiseModel). When a
   * model has it, the samplers await it instead of calling predictNoise (learned variance aside);
   * it returns a new tensor the caller owns.
   */
  predictNoiseAsync?(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null): Promise<tf.Tensor4D>;
  /** eps and v outside TensorFlow.js (ONNX Runtime), for a model with a learned variance; awaited like predictNoiseAsync. */
  predictNoiseAndVarianceAsync?(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null): Promise<{ noise: tf.Tensor4D; v: tf.Tensor4D }>;
}

/** Does the model predict its reverse variance (and so offer predictNoiseAndVariance, or its asynchronous twin)? */
export function hasLearnedVariance(model: NoiseModel): boolean {
  return model.learnsVariance === true && (typeof model.predictNoiseAndVariance === "function" || typeof model.predictNoiseAndVarianceAsync === "function");
}

/** What the model says at one step: eps, and v when the sampler uses a learned variance (else null). */
export interface Prediction {
  noise: tf.Tensor4D;
  v: tf.Tensor4D | null;
}

/**
 * Where sampling starts: given noise x_T (not disposed), or `count` images drawn from `seed`, of
 * `imageShape` [H, W, C] (default: the model's imageShape, else the sprites' [16, 16, 3]).
 */
export type SamplerStart = tf.Tensor4D | { count: number; seed: number; imageShape?: [number, number, number] };

export interface StepProgress {
  /** 1-based index of the step just taken. */
  step: number;
  /** Steps in the whole run. */
  steps: number;
  /** The step t the model was just evaluated at (the images are now at tPrev). */
  t: number;
  tPrev: number;
}

export interface SamplerOptions {
  /**
   * Seed of the per-step noise z. Default: the seed of `start` when it is { count, seed }. When
   * `start` is a tensor, a sampler that draws step noise (DDPM, DDIM with eta > 0) needs it.
   */
  seed?: number;
  /** Keep the images after the step from t (they are then at tPrev)? Defaults per sampler. */
  saveFrame?: (t: number) => boolean;
  /** Called after every step; awaited, so a display can update or the loop can yield. */
  onStep?: (progress: StepProgress) => void | Promise<void>;
  /** Checked before every step; returning true stops the loop early (result.completed = false). */
  shouldStop?: () => boolean;
}

export interface SampleResult {
  /** [N, H, W, C] the images where the loop ended (x_0 when completed), owned by the caller. */
  samples: tf.Tensor4D;
  /** [F, N, H, W, C] the kept frames in order, or null when none was kept; owned by the caller. */
  frames: tf.Tensor5D | null;
  /** The step each frame's images are at (the tPrev of the step that made them). */
  frameSteps: number[];
  /** False when shouldStop ended the loop early. */
  completed: boolean;
  /** Steps actually taken. */
  stepsTaken: number;
}

/** The course's DDPM frame rule: keep when t % 20 == 0, t == T, or t < 8 (32 frames of 500). */
export function courseFrameRule(schedule: Schedule): (t: number) => boolean {
  return (t) => t % 20 === 0 || t === schedule.T || t < 8;
}

/** One reverse step given the model's prediction; the step's fresh noise z, if it draws any, is stepNoise(x.shape, seed, t). */
type StepFunction = (x: tf.Tensor4D, prediction: Prediction, t: number, tPrev: number, seed: number) => tf.Tensor4D;

/**
 * How much an error in eps^ at t = T grows in the x_0 estimate x0^ = (x_T - sqrt(1 - alphaBar_T) eps^) / sqrt(alphaBar_T)
 * (Ho et al. 2020, eq. 15): sqrt(1 - alphaBar_T) / sqrt(alphaBar_T). The course's schedule 12.6, linear
 * at T = 1000 (Ho et al.'s) 158, cosine at T = 500 about 1e4.
 */
export function x0ErrorGain(schedule: Pick<Schedule, "T" | "alphaBar">): number {
  const alphaBarT = schedule.alphaBar[schedule.T];
  return Math.sqrt((1 - alphaBarT) / alphaBarT);
}

/**
 * Whether a sampler clips its x_0 estimate to [-1, 1] when not told (the clipDenoised option): when
 * the schedule's x0ErrorGain exceeds the course's (12.6), whose loops sample unclipped. So the
 * course's schedule (and shorter ones) samples as the course does, and Ho et al.'s T = 1000 and the
 * cosine schedule sample clipped, as their code does (Ho et al.'s and openai/improved-diffusion's
 * clip_denoised, explainingai-code/DDPM-Pytorch's clamp): there eps^'s smallest error at t = T
 * throws x0^ far outside the pixel range.
 */
export function clipsDenoisedByDefault(schedule: Pick<Schedule, "T" | "alphaBar">): boolean {
  return x0ErrorGain(schedule) > COURSE_X0_ERROR_GAIN * (1 + 1e-9);
}

const COURSE_X0_ERROR_GAIN = x0ErrorGain(linearSchedule(COURSE_SCHEDULE_CONFIG));

/** The default number of DDIM steps (the course's: 25 of T = 500). */
export const DEFAULT_DDIM_STEPS = 25;

/**
 * The fresh standard noise z of the reverse step from t in a run seeded with `seed`: the same
 * (seed, t) gives the same z, so a loop written by hand reproduces a sampler's run exactly.
 * Each (seed, t) with t < 100003 has its own stream. The caller owns the tensor.
 */
export function stepNoise(shape: [number, number, number, number], seed: number, t: number): tf.Tensor4D {
  return seededNormal<tf.Rank.R4>(shape, seed * 100003 + t + 1);
}

function initialNoise(start: SamplerStart, model: NoiseModel): tf.Tensor4D {
  if (start instanceof tf.Tensor) {
    if (start.rank !== 4) throw new Error(`Sampler start noise has shape [${start.shape}], expected [N, H, W, C].`);
    return start.clone();
  }
  const { count, seed, imageShape = model.imageShape ?? [16, 16, 3] } = start;
  if (!Number.isInteger(count) || count < 1) throw new Error(`Sampler: count must be a positive integer, got ${count}.`);
  return seededNormal<tf.Rank.R4>([count, ...imageShape], seed);
}

function checkContext(context: tf.Tensor2D | null, n: number): void {
  if (context && (context.rank !== 2 || context.shape[0] !== n)) {
    throw new Error(`Sampler: context has shape [${context.shape}], expected [${n}, K] (one vector per sample) or null.`);
  }
}

async function throwIfNotFinite(samples: tf.Tensor4D, steps: number): Promise<void> {
  const values = await samples.data();
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new Error(
      `Sampler: the samples hold a non-finite value (${values[bad]} at flat index ${bad}) after ${steps} steps. ` +
        "The model's weights or inputs are broken (untrained NaN weights, a wrong schedule, or inputs far outside [-1, 1]).",
    );
  }
}

/**
 * The seed of the step noise. A tensor x_T carries no seed, and drawing the step noise from
 * Math.random would make the run unrepeatable (principle 6), so a sampler that draws step noise
 * refuses to start without `options.seed`; one that draws none needs no seed (0 is never used).
 */
function stepNoiseSeed(start: SamplerStart, options: SamplerOptions, drawsNoise: boolean): number {
  if (options.seed !== undefined) return options.seed;
  if (!(start instanceof tf.Tensor)) return start.seed;
  if (drawsNoise) {
    throw new Error(
      "Sampler: x_T was given as a tensor without options.seed, but this sampler (DDPM, or DDIM with eta > 0) draws fresh noise z " +
        "at every step; pass { seed: S } (any integer) so the run can be repeated.",
    );
  }
  return 0;
}

/** The model's asynchronous prediction (eps, and v when `withVariance`), or undefined when it predicts synchronously. */
function asynchronousPrediction(model: NoiseModel, withVariance: boolean): ((x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null) => Promise<Prediction>) | undefined {
  if (withVariance) return model.predictNoiseAndVarianceAsync?.bind(model);
  const predictNoiseAsync = model.predictNoiseAsync?.bind(model);
  return predictNoiseAsync && (async (x, tFraction, context) => ({ noise: await predictNoiseAsync(x, tFraction, context), v: null }));
}

/**
 * The loop every sampler shares: plan[i] = [t, tPrev], from t = T down; `drawsNoise`: does `step`
 * use its seed? `withVariance`: ask the model for v too (predictNoiseAndVariance).
 */
async function runSampler(
  model: NoiseModel,
  schedule: Schedule,
  start: SamplerStart,
  context: tf.Tensor2D | null,
  plan: Array<[number, number]>,
  step: StepFunction,
  drawsNoise: boolean,
  options: SamplerOptions,
  defaultSaveFrame: (t: number) => boolean,
  withVariance = false,
): Promise<SampleResult> {
  const predict = (x: tf.Tensor4D, t: number): Prediction =>
    withVariance ? model.predictNoiseAndVariance!(x, t / schedule.T, context) : { noise: model.predictNoise(x, t / schedule.T, context), v: null };
  const seed = stepNoiseSeed(start, options, drawsNoise);
  const predictAsync = asynchronousPrediction(model, withVariance);
  // An asynchronous model's eps is awaited outside any tf.tidy (a scope never spans an await).
  const stepAfterAsyncPrediction = async (x: tf.Tensor4D, t: number, tPrev: number): Promise<tf.Tensor4D> => {
    const prediction = await predictAsync!(x, t / schedule.T, context);
    try {
      return tf.tidy(() => step(x, prediction, t, tPrev, seed));
    } finally {
      tf.dispose([prediction.noise, ...(prediction.v ? [prediction.v] : [])]);
    }
  };
  const saveFrame = options.saveFrame ?? defaultSaveFrame;
  let x = initialNoise(start, model);
  const kept: tf.Tensor4D[] = [];
  const frameSteps: number[] = [];
  let stepsTaken = 0;
  try {
    checkContext(context, x.shape[0]);
    for (const [t, tPrev] of plan) {
      if (options.shouldStop?.()) break;
      const next = predictAsync ? await stepAfterAsyncPrediction(x, t, tPrev) : tf.tidy(() => step(x, predict(x, t), t, tPrev, seed));
      x.dispose();
      x = next;
      stepsTaken += 1;
      if (saveFrame(t)) {
        kept.push(x.clone());
        frameSteps.push(tPrev);
      }
      await options.onStep?.({ step: stepsTaken, steps: plan.length, t, tPrev });
      await yieldToEventLoop();
    }
    await throwIfNotFinite(x, stepsTaken);
  } catch (error) {
    tf.dispose([x, ...kept]);
    throw error;
  }
  const frames = kept.length > 0 ? (tf.stack(kept) as tf.Tensor5D) : null;
  tf.dispose(kept);
  return { samples: x, frames, frameSteps, completed: stepsTaken === plan.length, stepsTaken };
}

/** Every step T..1, one at a time: [[T, T-1], ..., [1, 0]]. */
function fullPlan(schedule: Schedule): Array<[number, number]> {
  return Array.from({ length: schedule.T }, (_, i) => [schedule.T - i, schedule.T - i - 1] as [number, number]);
}

export interface DdpmOptions extends SamplerOptions {
  /**
   * Model evaluations; must divide T (default T). Fewer steps sample the respaced chain of
   * Nichol & Dhariwal 2021, Sec. 4: every T / steps-th step kept, beta recomputed from the kept
   * alphaBar's (reverseChainCoefficients).
   */
  steps?: number;
  /** Clip the x_0 estimate to [-1, 1] (default clipsDenoisedByDefault(schedule)); a clipped full chain takes the posterior step. */
  clipDenoised?: boolean;
}

/**
 * DDPM ancestral sampling (Ho et al. 2020, Algorithm 2), no noise added on the last step.
 * - A fixed-variance model with all T steps: exactly the course's loop (ddpmStep, sigma_t^2 = beta_t).
 * - Fewer steps (respaced), or a model with a learned variance: the posterior step at the model's
 *   x_0 estimate (posteriorStep) with sigma^2 = beta' (fixed; the course's choice on the respaced
 *   chain) or exp(v log beta' + (1 - v) log betaTilde') (learned, Nichol & Dhariwal eq. 15).
 *   So does a clipped x_0 estimate (options.clipDenoised), whose mean is the course's otherwise.
 * Frames: the course's rule.
 */
export function sampleDdpm(
  model: NoiseModel,
  schedule: Schedule,
  start: SamplerStart,
  context: tf.Tensor2D | null,
  options: DdpmOptions = {},
): Promise<SampleResult> {
  const steps = options.steps ?? schedule.T;
  const plan = stridedPlan(schedule, steps, "DDPM");
  const learned = hasLearnedVariance(model);
  const clipDenoised = options.clipDenoised ?? clipsDenoisedByDefault(schedule);
  if (steps === schedule.T && !learned && !clipDenoised) {
    const step: StepFunction = (x, prediction, t, _tPrev, seed) =>
      ddpmStep(x, prediction.noise, t, schedule, t > 1 ? stepNoise(x.shape, seed, t) : null);
    return runSampler(model, schedule, start, context, plan, step, true, options, courseFrameRule(schedule));
  }
  const chain = new Map(reverseChainCoefficients(schedule, plan).map((c) => [c.t, c]));
  const step: StepFunction = (x, { noise, v }, t, tPrev, seed) => {
    const coefficients = chain.get(t)!;
    const logVariance = v ? tf.add(tf.mul(v, coefficients.logBeta), tf.mul(tf.sub(1, v), coefficients.logPosteriorVarianceClipped)) : coefficients.logBeta;
    return posteriorStep(x, noise, coefficients, schedule, logVariance, tPrev > 0 ? stepNoise(x.shape, seed, t) : null, { clipDenoised });
  };
  return runSampler(model, schedule, start, context, plan, step, true, options, courseFrameRule(schedule), learned);
}

/**
 * The course's "incorrect" sampler: DDPM's mean update without the added noise sqrt(beta_t) z.
 * Every sample drifts to the average image the model predicts, so they collapse to blur.
 */
export function sampleDdpmWithoutNoise(
  model: NoiseModel,
  schedule: Schedule,
  start: SamplerStart,
  context: tf.Tensor2D | null,
  options: SamplerOptions = {},
): Promise<SampleResult> {
  const step: StepFunction = (x, prediction, t) => ddpmStep(x, prediction.noise, t, schedule, null);
  return runSampler(model, schedule, start, context, fullPlan(schedule), step, false, options, courseFrameRule(schedule));
}

export interface DdimOptions extends SamplerOptions {
  /** Model evaluations; must divide T (default DEFAULT_DDIM_STEPS; the course: 25 of 500, a stride of 20). */
  steps?: number;
  /** 0: deterministic DDIM, as the course (Song et al. 2021); 1: DDPM-like noise. */
  eta?: number;
  /** Clip the x_0 estimate to [-1, 1] and re-derive the noise from it (default clipsDenoisedByDefault(schedule)). */
  clipDenoised?: boolean;
}

/** DDIM's plan: strided steps from T to 0, ending on alphaBar_0 = 1 (the predicted x_0). */
export function ddimPlan(schedule: Pick<Schedule, "T">, steps: number): Array<[number, number]> {
  return stridedPlan(schedule, steps, "DDIM");
}

/** Every (T / steps)-th step from T down to 0; `sampler` names who asked, in the error. */
export function stridedPlan(schedule: Pick<Schedule, "T">, steps: number, sampler: string): Array<[number, number]> {
  if (!Number.isInteger(steps) || steps < 1 || schedule.T % steps !== 0) {
    const divisors = Array.from({ length: schedule.T }, (_, i) => i + 1).filter((d) => schedule.T % d === 0);
    throw new Error(`${sampler} steps must divide T = ${schedule.T}, got ${steps}. Try one of ${divisors.join(", ")}.`);
  }
  const stride = schedule.T / steps;
  return Array.from({ length: steps }, (_, i) => [schedule.T - i * stride, schedule.T - (i + 1) * stride] as [number, number]);
}

/** DDIM sampling (Song et al. 2021, eq. 12): `steps` evaluations, every step kept as a frame. */
export function sampleDdim(
  model: NoiseModel,
  schedule: Schedule,
  start: SamplerStart,
  context: tf.Tensor2D | null,
  options: DdimOptions = {},
): Promise<SampleResult> {
  const eta = options.eta ?? 0;
  const plan = ddimPlan(schedule, options.steps ?? DEFAULT_DDIM_STEPS);
  const clipDenoised = options.clipDenoised ?? clipsDenoisedByDefault(schedule);
  const step: StepFunction = (x, prediction, t, tPrev, seed) =>
    ddimStep(x, prediction.noise, t, tPrev, schedule, eta, eta > 0 && tPrev > 0 ? stepNoise(x.shape, seed, t) : null, { clipDenoised });
  return runSampler(model, schedule, start, context, plan, step, eta > 0, options, () => true);
}
