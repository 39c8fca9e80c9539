/**
 * One entry point for the three samplers, chosen by name: the one place that maps a name (from a
 * command line, a notebook, an evaluation record) to a sampling loop, its label and its cost.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Schedule } from "./schedule";
import {
  DEFAULT_DDIM_STEPS,
  type NoiseModel,
  type SampleResult,
  type SamplerOptions,
  type SamplerStart,
  ddimPlan,
  sampleDdim,
  sampleDdpm,
  sampleDdpmWithoutNoise,
} from "./sampling";

/** DDPM-T (the course's), DDIM (strided, eta = 0 by default), DDPM without its added noise (the course's "incorrect" one). */
export type SamplerName = "ddpm" | "ddim" | "ddpm-no-noise";

export const SAMPLER_NAMES: readonly SamplerName[] = Object.freeze(["ddpm", "ddim", "ddpm-no-noise"]);

/** A sampler and its settings: steps (default DEFAULT_DDIM_STEPS, must divide T) and eta (default 0) are DDIM's only. */
export interface SamplerChoice {
  sampler: SamplerName;
  steps?: number;
  eta?: number;
}

/** The sampler named by `text`; throws listing the valid names otherwise. */
export function parseSamplerName(text: string): SamplerName {
  const name = SAMPLER_NAMES.find((n) => n === text);
  if (name === undefined) throw new Error(`Unknown sampler "${text}": use one of ${SAMPLER_NAMES.join(", ")}.`);
  return name;
}

/**
 * Throws unless `choice` can run on `schedule`: a known name, steps/eta only for DDIM, steps
 * dividing T, eta a number >= 0. Returns DDIM's steps and eta with their defaults filled in.
 */
export function checkSamplerChoice(choice: SamplerChoice, schedule: Pick<Schedule, "T">): { steps: number; eta: number } {
  const sampler = parseSamplerName(choice.sampler);
  if (sampler !== "ddim") {
    const given = (["steps", "eta"] as const).filter((key) => choice[key] !== undefined);
    if (given.length > 0) {
      throw new Error(`Sampler ${sampler}: ${given.join(" and ")} belong to DDIM only (${sampler} always takes T = ${schedule.T} steps); drop them or use sampler "ddim".`);
    }
    return { steps: schedule.T, eta: 0 };
  }
  const { steps = DEFAULT_DDIM_STEPS, eta = 0 } = choice;
  ddimPlan(schedule, steps);
  if (!(Number.isFinite(eta) && eta >= 0)) throw new Error(`Sampler ddim: eta must be a number >= 0 (0 deterministic, 1 DDPM-like), got ${eta}.`);
  return { steps, eta };
}

/** Model evaluations the choice takes: T for the DDPM samplers (500 on the course's schedule), steps for DDIM. */
export function modelEvaluations(choice: SamplerChoice, schedule: Pick<Schedule, "T">): number {
  return checkSamplerChoice(choice, schedule).steps;
}

/** A short name for plots and logs: "DDPM-500", "DDIM-25", "DDIM-25, eta 0.5", "DDPM-500 without noise". */
export function samplerLabel(choice: SamplerChoice, schedule: Pick<Schedule, "T">): string {
  const { steps, eta } = checkSamplerChoice(choice, schedule);
  if (choice.sampler === "ddpm") return `DDPM-${steps}`;
  if (choice.sampler === "ddpm-no-noise") return `DDPM-${steps} without noise`;
  return eta > 0 ? `DDIM-${steps}, eta ${eta}` : `DDIM-${steps}`;
}

/**
 * Samples with the chosen sampler: sampleDdpm, sampleDdim or sampleDdpmWithoutNoise with the same
 * start [N, H, W, C] (or { count, seed }), context [N, K] or null, and options: bit-identical to
 * calling them directly. A bad choice rejects before any tensor is made. The caller owns
 * result.samples and result.frames.
 */
export async function sample(
  model: NoiseModel,
  schedule: Schedule,
  start: SamplerStart,
  context: tf.Tensor2D | null,
  options: SamplerChoice & SamplerOptions,
): Promise<SampleResult> {
  const { steps, eta } = checkSamplerChoice(options, schedule);
  // The loops read only their own options; DDPM's steps and eta are undefined here (checked).
  if (options.sampler === "ddim") return sampleDdim(model, schedule, start, context, { ...options, steps, eta });
  if (options.sampler === "ddpm") return sampleDdpm(model, schedule, start, context, options);
  return sampleDdpmWithoutNoise(model, schedule, start, context, options);
}
