/**
 * One entry point for the three samplers, chosen by name: the one place that maps a name (from a
 * command line, a notebook, an evaluation record) to a sampling loop, guided or not, its label and its cost.
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkGuidanceWeight, withClassifierFreeGuidance } from "../guidance/classifierFreeGuidance";
import { checkClassifierGuidance, withClassifierGuidance } from "../guidance/classifierGuidance";
import type { NoisyClassifierModel } from "../guidance/noisyClassifierModel";
import type { Schedule } from "./schedule";
import {
  DEFAULT_DDIM_STEPS,
  clipsDenoisedByDefault,
  type NoiseModel,
  type SampleResult,
  type SamplerOptions,
  type SamplerStart,
  ddimPlan,
  hasLearnedVariance,
  sampleDdim,
  stridedPlan,
  sampleDdpm,
  sampleDdpmWithoutNoise,
} from "./sampling";

/** DDPM-T (the course's), DDIM (strided, eta = 0 by default), DDPM without its added noise (the course's "incorrect" one). */
export type SamplerName = "ddpm" | "ddim" | "ddpm-no-noise";

export const SAMPLER_NAMES: readonly SamplerName[] = Object.freeze(["ddpm", "ddim", "ddpm-no-noise"]);

/**
 * A sampler and its settings. steps: DDIM's (default DEFAULT_DDIM_STEPS) or DDPM's (default T: the
 * course's loop; fewer: the respaced chain), dividing T. eta (default 0) is DDIM's only.
 * clipDenoised (DDPM and DDIM): clip the x_0 estimate to [-1, 1]; default clipsDenoisedByDefault
 * (on for the cosine schedule, off for the course's linear one).
 */
export interface SamplerChoice {
  sampler: SamplerName;
  steps?: number;
  eta?: number;
  clipDenoised?: boolean;
}

/** What checkSamplerChoice reads of a schedule: T, and alphaBar (for clipDenoised's default, clipsDenoisedByDefault). */
export type ScheduleShape = Pick<Schedule, "T" | "alphaBar"> & Partial<Pick<Schedule, "config">>;

/** The sampler named by `text`; throws listing the valid names otherwise. */
export function parseSamplerName(text: string): SamplerName {
  const name = SAMPLER_NAMES.find((n) => n === text);
  if (name === undefined) throw new Error(`Unknown sampler "${text}": use one of ${SAMPLER_NAMES.join(", ")}.`);
  return name;
}

/**
 * Throws unless `choice` can run on `schedule`: a known name, eta only for DDIM, steps only for
 * DDIM and DDPM and dividing T, eta a number >= 0, clipDenoised not for ddpm-no-noise. Returns
 * steps, eta and clipDenoised with their defaults filled in.
 */
export function checkSamplerChoice(choice: SamplerChoice, schedule: ScheduleShape): { steps: number; eta: number; clipDenoised: boolean } {
  const sampler = parseSamplerName(choice.sampler);
  if (sampler === "ddpm-no-noise" && choice.clipDenoised !== undefined) {
    throw new Error("Sampler ddpm-no-noise: clipDenoised belongs to DDPM and DDIM (the course's noiseless loop is kept as the course wrote it); drop it or use sampler \"ddpm\".");
  }
  const clipDenoised = sampler !== "ddpm-no-noise" && (choice.clipDenoised ?? clipsDenoisedByDefault(schedule));
  if (sampler === "ddpm-no-noise" || (sampler === "ddpm" && choice.eta !== undefined)) {
    const given = (sampler === "ddpm" ? (["eta"] as const) : (["steps", "eta"] as const)).filter((key) => choice[key] !== undefined);
    if (given.length > 0) {
      const takes = sampler === "ddpm" ? "DDPM draws its own noise (sigma from beta or the learned variance)" : `${sampler} always takes T = ${schedule.T} steps`;
      throw new Error(`Sampler ${sampler}: ${given.join(" and ")} belong${given.length > 1 ? "" : "s"} to DDIM only (${takes}); drop ${given.length > 1 ? "them" : "it"} or use sampler "ddim".`);
    }
  }
  if (sampler !== "ddim") {
    const steps = choice.steps ?? schedule.T;
    stridedPlan(schedule, steps, "DDPM");
    return { steps, eta: 0, clipDenoised };
  }
  const { steps = DEFAULT_DDIM_STEPS, eta = 0 } = choice;
  ddimPlan(schedule, steps);
  if (!(Number.isFinite(eta) && eta >= 0)) throw new Error(`Sampler ddim: eta must be a number >= 0 (0 deterministic, 1 DDPM-like), got ${eta}.`);
  return { steps, eta, clipDenoised };
}

/** Model evaluations the choice takes: steps (T for the course's DDPM: 500 on its schedule). */
export function modelEvaluations(choice: SamplerChoice, schedule: ScheduleShape): number {
  return checkSamplerChoice(choice, schedule).steps;
}

/**
 * How a run is guided (absent or 0: not at all). Both may be combined: classifier guidance then
 * wraps the classifier-free-guided model.
 */
export interface GuidanceChoice {
  /** Classifier-free guidance weight w >= 0 (Ho & Salimans 2022, eq. 6); needs a context model and a context. */
  guidance?: number;
  /** Classifier guidance (Dhariwal & Nichol 2021): a noisy-image classifier, one class per sample to steer to, the scale s >= 0. */
  classifierGuidance?: { classifier: NoisyClassifierModel; labels: ArrayLike<number>; scale: number };
}

/** The guidance part of a label: "CFG w = 2", "classifier s = 3", both joined by ", ", or "" for none. */
export function guidanceLabel(choice: { guidance?: number; classifierGuidance?: { scale: number } }): string {
  const parts: string[] = [];
  if (choice.guidance) parts.push(`CFG w = ${choice.guidance}`);
  if (choice.classifierGuidance?.scale) parts.push(`classifier s = ${choice.classifierGuidance.scale}`);
  return parts.join(", ");
}

/**
 * A short name for plots and logs: "DDPM-500", "DDIM-25", "DDIM-25, eta 0.5", "DDPM-500 without noise",
 * "DDPM-50, x0 clipped", and with guidance "DDIM-25, CFG w = 2", "DDIM-25, classifier s = 3".
 */
export function samplerLabel(choice: SamplerChoice & { guidance?: number; classifierGuidance?: { scale: number } }, schedule: ScheduleShape): string {
  const { steps, eta, clipDenoised } = checkSamplerChoice(choice, schedule);
  const guided = guidanceLabel(choice);
  const base = choice.sampler === "ddpm" ? `DDPM-${steps}` : choice.sampler === "ddpm-no-noise" ? `DDPM-${steps} without noise` : eta > 0 ? `DDIM-${steps}, eta ${eta}` : `DDIM-${steps}`;
  const clipped = clipDenoised ? `${base}, x0 clipped` : base;
  return guided ? `${clipped}, ${guided}` : clipped;
}

/**
 * Throws unless the guidance can run for `count` samples with `context`: w and s finite and >= 0,
 * a context when w > 0, one label per sample, each a class of the classifier. Makes no tensor.
 */
export function checkGuidanceChoice(choice: GuidanceChoice, context: tf.Tensor2D | null, count: number): void {
  if (choice.guidance !== undefined) checkGuidanceWeight(choice.guidance);
  if (choice.guidance && context === null) {
    throw new Error(`Classifier-free guidance (w = ${choice.guidance}) needs a context to steer to, got null: pass one context vector per sample to a context model, or use classifierGuidance for an unconditional model.`);
  }
  if (choice.classifierGuidance) checkClassifierGuidance(choice.classifierGuidance, count);
}

/** The model as the choice guides it: itself without guidance, CFG-guided, classifier-guided, or both (classifier outermost). */
export function guidedModel(model: NoiseModel, schedule: Schedule, options: SamplerChoice & GuidanceChoice): NoiseModel {
  if (hasLearnedVariance(model) && (options.guidance || options.classifierGuidance?.scale)) {
    throw new Error("Guidance is built for models with a fixed variance: the guided eps would lose this model's learned variance. Sample it unguided, or guide a fixed-variance model.");
  }
  const withWeight = options.guidance ? withClassifierFreeGuidance(model, options.guidance) : model;
  const byClassifier = options.classifierGuidance;
  return byClassifier ? withClassifierGuidance(withWeight, schedule, { ...byClassifier, sampler: options.sampler }) : withWeight;
}

/**
 * Samples with the chosen sampler: sampleDdpm, sampleDdim or sampleDdpmWithoutNoise with the same
 * start [N, H, W, C] (or { count, seed }), context [N, K] or null, and options: bit-identical to
 * calling them directly when no guidance is given (or w = 0 and s = 0). With `guidance` and/or
 * `classifierGuidance` the same loop runs on the guided model. A bad choice rejects before any
 * tensor is made. The caller owns result.samples and result.frames.
 */
export async function sample(
  model: NoiseModel,
  schedule: Schedule,
  start: SamplerStart,
  context: tf.Tensor2D | null,
  options: SamplerChoice & GuidanceChoice & SamplerOptions,
): Promise<SampleResult> {
  const { steps, eta, clipDenoised } = checkSamplerChoice(options, schedule);
  checkGuidanceChoice(options, context, start instanceof tf.Tensor ? start.shape[0] : start.count);
  const guided = guidedModel(model, schedule, options);
  // The loops read only their own options; DDPM's steps and eta are undefined here (checked).
  if (options.sampler === "ddim") return sampleDdim(guided, schedule, start, context, { ...options, steps, eta, clipDenoised });
  if (options.sampler === "ddpm") return sampleDdpm(guided, schedule, start, context, { ...options, steps, clipDenoised });
  return sampleDdpmWithoutNoise(guided, schedule, start, context, options);
}
