/**
 * Sampling loops: each walks a list of steps from t = T down to 0, asks the model for the noise,
 * and applies one pure step from ./steps. The loops know nothing about rendering; they hand out
 * the frames the caller asked for and report progress per step.
 */
import * as tf from "@tensorflow/tfjs-core";
import { yieldToEventLoop } from "../eventLoop";
import { type Schedule } from "./schedule";
import { ddimStep, ddpmStep } from "./steps";

/** Anything that predicts eps from (x_t, t / T, context): ContextUnet, or a test's oracle. */
export interface NoiseModel {
  predictNoise(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null): tf.Tensor4D;
}

/** Where sampling starts: given noise x_T (not disposed), or `count` images drawn from `seed`. */
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
  /** Seed of the per-step noise z (and of x_T when `start` gives one). Same seed, same samples. */
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

/** One reverse step given the model's prediction; z is fresh standard noise or null. */
type StepFunction = (x: tf.Tensor4D, predNoise: tf.Tensor4D, t: number, tPrev: number, seed: number) => tf.Tensor4D;

/** A seed for step t's noise, distinct for every (seed, t) with t < 100003. */
const stepSeed = (seed: number, t: number) => seed * 100003 + t + 1;

function initialNoise(start: SamplerStart): tf.Tensor4D {
  if (start instanceof tf.Tensor) {
    if (start.rank !== 4) throw new Error(`Sampler start noise has shape [${start.shape}], expected [N, H, W, C].`);
    return start.clone();
  }
  const { count, seed, imageShape = [16, 16, 3] } = start;
  if (!Number.isInteger(count) || count < 1) throw new Error(`Sampler: count must be a positive integer, got ${count}.`);
  return tf.randomNormal([count, ...imageShape], 0, 1, "float32", seed) as tf.Tensor4D;
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

/** The loop every sampler shares: plan[i] = [t, tPrev], from t = T down. */
async function runSampler(
  model: NoiseModel,
  schedule: Schedule,
  start: SamplerStart,
  context: tf.Tensor2D | null,
  plan: Array<[number, number]>,
  step: StepFunction,
  options: SamplerOptions,
  defaultSaveFrame: (t: number) => boolean,
): Promise<SampleResult> {
  const seed = options.seed ?? (start instanceof tf.Tensor ? Math.floor(Math.random() * 2 ** 31) : start.seed);
  const saveFrame = options.saveFrame ?? defaultSaveFrame;
  let x = initialNoise(start);
  const kept: tf.Tensor4D[] = [];
  const frameSteps: number[] = [];
  let stepsTaken = 0;
  try {
    checkContext(context, x.shape[0]);
    for (const [t, tPrev] of plan) {
      if (options.shouldStop?.()) break;
      const next = tf.tidy(() => step(x, model.predictNoise(x, t / schedule.T, context), t, tPrev, stepSeed(seed, t)));
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

function noiseLike(x: tf.Tensor4D, seed: number): tf.Tensor4D {
  return tf.randomNormal(x.shape, 0, 1, "float32", seed) as tf.Tensor4D;
}

/**
 * DDPM ancestral sampling as the course does it (Ho et al. 2020, Algorithm 2, sigma_t^2 = beta_t),
 * T model evaluations, no noise added on the last step (t = 1). Frames: the course's rule.
 */
export function sampleDdpm(
  model: NoiseModel,
  schedule: Schedule,
  start: SamplerStart,
  context: tf.Tensor2D | null,
  options: SamplerOptions = {},
): Promise<SampleResult> {
  const step: StepFunction = (x, eps, t, _tPrev, seed) =>
    ddpmStep(x, eps, t, schedule, t > 1 ? noiseLike(x, seed) : null);
  return runSampler(model, schedule, start, context, fullPlan(schedule), step, options, courseFrameRule(schedule));
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
  const step: StepFunction = (x, eps, t) => ddpmStep(x, eps, t, schedule, null);
  return runSampler(model, schedule, start, context, fullPlan(schedule), step, options, courseFrameRule(schedule));
}

export interface DdimOptions extends SamplerOptions {
  /** Model evaluations; must divide T (the course: 25 of 500, a stride of 20). */
  steps?: number;
  /** 0: deterministic DDIM, as the course (Song et al. 2021); 1: DDPM-like noise. */
  eta?: number;
}

/** DDIM's plan: strided steps from T to 0, ending on alphaBar_0 = 1 (the predicted x_0). */
export function ddimPlan(schedule: Schedule, steps: number): Array<[number, number]> {
  if (!Number.isInteger(steps) || steps < 1 || schedule.T % steps !== 0) {
    const divisors = Array.from({ length: schedule.T }, (_, i) => i + 1).filter((d) => schedule.T % d === 0);
    throw new Error(`DDIM steps must divide T = ${schedule.T}, got ${steps}. Try one of ${divisors.join(", ")}.`);
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
  const plan = ddimPlan(schedule, options.steps ?? 25);
  const step: StepFunction = (x, eps, t, tPrev, seed) =>
    ddimStep(x, eps, t, tPrev, schedule, eta, eta > 0 && tPrev > 0 ? noiseLike(x, seed) : null);
  return runSampler(model, schedule, start, context, plan, step, options, () => true);
}
