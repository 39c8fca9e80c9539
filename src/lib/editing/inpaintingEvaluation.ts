/**
 * Measures inpainting without a person: take n held-out sprites, hide part of each with a mask,
 * complete them, and compare (a) the unknown pixels with the true sprite (RMSE) and the sprite
 * classifier's class of the completion with the true class, (b) the seam score (mean colour jump
 * across the mask's boundary) beside the same number on the true sprites, (c) the sprite Frechet
 * distance of the completions beside the real-vs-real floor at the same n.
 *
 * Three disjoint draws of the held-out order (seeded): the sprites to complete (0..n-1), the SFD
 * reference (n..2n-1) and the floor's second real draw (2n..3n-1), so no completion is compared
 * with its own known pixels.
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkSamplerChoice, type SamplerChoice, samplerLabel } from "../diffusion/samplers";
import type { Schedule } from "../diffusion/schedule";
import type { NoiseModel } from "../diffusion/sampling";
import type { SpriteClassifier } from "../metrics/classifier";
import { contextAccuracy, featureFit } from "../metrics/evaluate";
import { frechetDistance } from "../metrics/frechet";
import { type RealSpriteSet, heldOutRealSprites, realSpriteSet } from "../metrics/realSprites";
import type { EditProgress } from "./editLoop";
import { meanColourFill, seamScore, unknownPixelRmse } from "./editingMetrics";
import { DEFAULT_REPAINT, type InpaintMethod, inpaint, parseInpaintMethod } from "./inpaint";
import type { InpaintMask } from "./masks";
import type { RepaintJumps } from "./repaintSchedule";

/** The two inpainting methods and the trivial baseline: each hole filled with the mean colour of its sprite's known pixels. */
export type InpaintingMethod = InpaintMethod | "mean-fill";

export interface InpaintingEvaluationOptions extends SamplerChoice {
  model: NoiseModel;
  schedule: Schedule;
  /** What the record names as the model (its checkpoint folder), and which of its weights it holds (default raw). */
  modelName: string;
  weights?: "ema" | "raw";
  classifier: SpriteClassifier;
  mask: InpaintMask;
  method: InpaintingMethod;
  /** RePaint's jumps (default DEFAULT_REPAINT). */
  repaint?: Partial<Omit<RepaintJumps, "steps">>;
  n: number;
  seed: number;
  set?: RealSpriteSet;
  onMove?: (progress: EditProgress) => void | Promise<void>;
}

export interface InpaintingEvaluation {
  model: string;
  /** "ema" when the EMA of the weights was measured; absent for the trained (raw) weights. */
  weights?: "ema";
  mask: string;
  method: InpaintingMethod;
  /** "DDPM-500", "DDIM-100, eta 1"; null for the mean-fill baseline. */
  sampler: string | null;
  repaint?: Omit<RepaintJumps, "steps">;
  n: number;
  seed: number;
  /** RMSE of the unknown pixels against the true sprite, in [0, 1] pixel units. */
  unknownRmse: number;
  /** Share of completions the classifier puts in the true sprite's class, and the same share for the true sprites. */
  classAgreement: number;
  classAgreementReal: number;
  /** Mean colour jump across the mask's boundary ([0, 1] units), and on the true sprites with the same mask. */
  seamScore: number;
  seamScoreReal: number;
  /** SFD of the completions against n other held-out sprites, and of a third real draw against the same n. */
  sfd: number;
  sfdFloor: number;
  /** Model evaluations per sprite (0 for mean-fill). */
  modelEvaluations: number;
  seconds: number;
  backend: string;
}

/** Completes n held-out sprites under `mask` with the method and measures the result (see the file's comment). */
export async function evaluateInpainting(options: InpaintingEvaluationOptions): Promise<InpaintingEvaluation> {
  const { n, seed, mask, classifier, method } = options;
  const set = options.set ?? realSpriteSet();
  const baseline = method === "mean-fill";
  if (!baseline) {
    parseInpaintMethod(method);
    checkSamplerChoice(options, options.schedule);
  }
  const truth = heldOutRealSprites(n, seed, 0, set);
  const reference = heldOutRealSprites(n, seed, n, set);
  const second = heldOutRealSprites(n, seed, 2 * n, set);
  let completed: tf.Tensor4D | null = null;
  try {
    const began = Date.now();
    let modelEvaluations = 0;
    if (baseline) completed = meanColourFill(truth.images, mask);
    else {
      const result = await inpaint(options.model, options.schedule, truth.images, mask, null, {
        sampler: options.sampler, steps: options.steps, eta: options.eta, method, seed, repaint: options.repaint, onMove: options.onMove,
      });
      tf.dispose(result.frames ?? []);
      completed = result.images;
      modelEvaluations = result.modelEvaluations;
    }
    const seconds = (Date.now() - began) / 1000;
    const referenceFit = await featureFit(classifier, reference.images);
    return {
      model: options.modelName,
      ...(options.weights === "ema" ? { weights: "ema" as const } : {}),
      mask: mask.name,
      method,
      sampler: baseline ? null : samplerLabel(options, options.schedule),
      ...(method === "repaint" ? { repaint: { ...DEFAULT_REPAINT, ...options.repaint } } : {}),
      n,
      seed,
      unknownRmse: await unknownPixelRmse(completed, truth.images, mask),
      classAgreement: (await contextAccuracy(classifier, completed, truth.classes)).overall,
      classAgreementReal: (await contextAccuracy(classifier, truth.images, truth.classes)).overall,
      seamScore: await seamScore(completed, mask),
      seamScoreReal: await seamScore(truth.images, mask),
      sfd: frechetDistance(await featureFit(classifier, completed), referenceFit),
      sfdFloor: frechetDistance(await featureFit(classifier, second.images), referenceFit),
      modelEvaluations,
      seconds,
      backend: tf.getBackend(),
    };
  } finally {
    tf.dispose([truth.images, truth.labels, reference.images, reference.labels, second.images, second.labels, ...(completed ? [completed] : [])]);
  }
}
