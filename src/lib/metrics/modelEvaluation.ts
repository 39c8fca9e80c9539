/**
 * Evaluates a diffusion checkpoint end to end: draws n samples with the chosen sampler (on the
 * schedule the checkpoint was trained with), optionally guided (classifier-free guidance for a
 * context model, classifier guidance for any), then measures
 * SFD against held-out real sprites (with its real-vs-real floor), context accuracy per class (a
 * context model, or a model steered by classifier guidance, sampled with the class mix of a real
 * draw), the classes an unconditional model draws, diversity beside that of n real training
 * sprites, and the distance of each sample to its nearest training sprite beside that of real
 * sprites the model never saw.
 */
import { relative } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { epochOrder } from "../data/batches";
import { SPRITE_CLASSES, oneHotContexts, sampleTensors } from "../data/dataset";
import { PROJECT_ROOT, projectPath } from "../data/projectRoot";
import { SPRITE_CLASS_NAMES } from "../data/sprites/classes";
import { deriveSeed } from "../data/sprites/prng";
import { type SamplerChoice, type SamplerName, checkSamplerChoice, sample, samplerLabel } from "../diffusion/samplers";
import type { NoiseModel, SamplerOptions } from "../diffusion/sampling";
import type { LinearScheduleConfig, Schedule } from "../diffusion/schedule";
import { checkGuidanceWeight } from "../guidance/classifierFreeGuidance";
import { checkClassifierClasses, checkClassifierGuidance, checkClassifierSchedule } from "../guidance/classifierGuidance";
import type { NoisyClassifierModel } from "../guidance/noisyClassifierModel";
import { CLASSIFIER_GUIDANCE_NEEDS_TENSORFLOW, type EngineRequest, type SamplingEngine, noiseModelEngine } from "../onnx/samplingEngine";
import { type WeightChoice, loadModel } from "../train/trainingCheckpoint";
import type { SpriteClassifier } from "./classifier";
import { type DiversityReport, diversity, nearestNeighbourDistances, summariseDistances } from "./diversity";
import { classShares, contextAccuracy, sfdAgainstHeldOut } from "./evaluate";
import { heldOutRealSprites, realSpriteSet } from "./realSprites";
import { diffusionTrainingSet } from "./trainingSet";

/** The sampler (steps for either, eta for DDIM only), the sample count and seed, the instrument. */
export interface ModelEvaluationOptions extends SamplerChoice {
  /** Checkpoint folder (relative to the project root or absolute). */
  checkpoint: string;
  n: number;
  seed: number;
  classifier: SpriteClassifier;
  /** The real sprite set to compare with (default: the project's, data/sprites). */
  spriteSet?: string;
  /** Sampling progress, per step. */
  onStep?: SamplerOptions["onStep"];
  /** Which weights to evaluate (default "auto": the EMA weights when the checkpoint keeps them). */
  weights?: WeightChoice;
  /** Classifier-free guidance weight w >= 0 (context models only; absent or 0: none). */
  guidance?: number;
  /**
   * Classifier guidance: a noisy-image classifier of the 5 sprite classes, its folder (recorded
   * with the result), the scale s >= 0 and the schedule it was trained on (checked against the
   * checkpoint's when given). Each sample is steered to the class of its real partner.
   */
  classifierGuidance?: { classifier: NoisyClassifierModel; dir: string; scale: number; schedule?: LinearScheduleConfig };
  /**
   * The engine of the network's forward (default "auto": ONNX Runtime, its graph from the same
   * weights, when it can; not with classifier guidance); a row sampled on ONNX Runtime records
   * engine "onnx".
   */
  engine?: EngineRequest;
  /** Told which engine samples, and why (one line). */
  onEngine?: (reason: string) => void;
}

type Distances = ReturnType<typeof summariseDistances>;

export interface ModelEvaluation {
  model: string;
  epoch: number | null;
  sampler: SamplerName;
  /** Model evaluations: T for the DDPM samplers, the step count for DDIM. */
  steps: number;
  /** DDIM's eta, recorded only when above 0. */
  eta?: number;
  /** True when the sampler clipped its x_0 estimate to [-1, 1] (recorded only then). */
  clipDenoised?: true;
  /** "ema" when the EMA of the weights was evaluated; absent for the trained (raw) weights. */
  weights?: "ema";
  /** samplerLabel of the run, e.g. "DDIM-25" or "DDIM-25, CFG w = 2" (absent in records made before it existed). */
  label?: string;
  /** Classifier-free guidance weight w, recorded only when above 0. */
  guidance?: number;
  /** Classifier guidance, recorded only when its scale is above 0: s and the classifier's folder (relative to the project root). */
  classifierGuidance?: { scale: number; classifier: string };
  n: number;
  seed: number;
  sfd: number;
  sfdFloor: number;
  /**
   * Context model or classifier guidance only: per class name, the share of the samples drawn for
   * (steered to) it that the classifier puts in it.
   */
  contextAccuracy: { perClass: Record<string, number | null>; counts: Record<string, number>; overall: number } | null;
  /** Share of the samples the classifier puts in each class. */
  classShares: Record<string, number>;
  diversity: { generated: DiversityReport; realTraining: DiversityReport };
  nearestTraining: { generated: Distances; realUnseen: Distances | null; trainingSet: string };
  samplingSeconds: number;
  backend: string;
  /**
   * "onnx" when the network's forward ran on ONNX Runtime (absent: TensorFlow.js, on `backend`).
   * Part of the run's key in the evaluation file: an ONNX row sits beside the TensorFlow.js row.
   */
  engine?: "onnx";
  realSet: { dir: string; generator: string; fingerprint: string };
}

const byClassName = <T>(values: T[]): Record<string, T> => Object.fromEntries(values.map((v, c) => [SPRITE_CLASS_NAMES[c], v]));

/**
 * Throws unless the guidance fits the checkpoint: w and s finite and >= 0, w only for a model
 * trained with context, a guidance classifier of the sprites' (and the context model's) classes
 * trained on the checkpoint's schedule.
 */
function checkGuidanceFits(options: ModelEvaluationOptions, usesContext: boolean, contextSize: number, schedule: Schedule): void {
  const { guidance = 0, classifierGuidance } = options;
  checkGuidanceWeight(guidance);
  if (guidance > 0 && !usesContext) {
    throw new Error(`Classifier-free guidance (w = ${guidance}) needs a context model, but ${options.checkpoint} was trained without context; steer it with classifier guidance instead, or drop the guidance.`);
  }
  if (!classifierGuidance) return;
  checkClassifierGuidance({ ...classifierGuidance, labels: [] });
  checkClassifierClasses(classifierGuidance.classifier, SPRITE_CLASSES, "the sprites");
  if (usesContext) checkClassifierClasses(classifierGuidance.classifier, contextSize, `the context model ${options.checkpoint}`);
  if (classifierGuidance.schedule) checkClassifierSchedule(classifierGuidance.schedule, schedule, `the checkpoint ${options.checkpoint}`);
}

/** Runs the whole evaluation (see the module comment); everything it makes is disposed. */
export async function evaluateDiffusionModel(options: ModelEvaluationOptions): Promise<ModelEvaluation> {
  const { sampler, n, seed, classifier, guidance = 0 } = options;
  const choice: SamplerChoice = { sampler, steps: options.steps, eta: options.eta, clipDenoised: options.clipDenoised };
  const { model, manifest, schedule, weights } = loadModel(projectPath(options.checkpoint), { weights: options.weights });
  let context: tf.Tensor2D | null = null;
  let samples: tf.Tensor4D | null = null;
  let engine: SamplingEngine<NoiseModel> | null = null;
  try {
    const { steps, eta, clipDenoised } = checkSamplerChoice(choice, schedule);
    const usesContext = manifest.training?.config.useContext ?? false;
    checkGuidanceFits(options, usesContext, model.config.nContext, schedule);
    const scale = options.classifierGuidance?.scale ?? 0;
    const real = realSpriteSet(options.spriteSet);
    // A context model draws with the class mix of a real draw (the floor's partner), so SFD compares
    // like with like; classifier guidance steers each sample to its partner's class the same way.
    const partner = heldOutRealSprites(n, seed, n, real);
    tf.dispose([partner.images, partner.labels]);
    const steered = usesContext || scale > 0;
    context = usesContext ? oneHotContexts(partner.classes) : null;
    const classifierGuidance = scale > 0 ? { classifier: options.classifierGuidance!.classifier, labels: Array.from(partner.classes), scale } : undefined;
    const needsTensorFlow = scale > 0 ? CLASSIFIER_GUIDANCE_NEEDS_TENSORFLOW : undefined;
    engine = await noiseModelEngine(model, options.engine, { what: options.checkpoint, needsTensorFlow });
    options.onEngine?.(engine.reason);
    const started = Date.now();
    const result = await sample(engine.model, schedule, { count: n, seed }, context, { ...choice, guidance, classifierGuidance, seed, saveFrame: () => false, onStep: options.onStep });
    samples = result.samples;
    result.frames?.dispose();
    const samplingSeconds = (Date.now() - started) / 1000;

    const { sfd, sfdFloor } = await sfdAgainstHeldOut(classifier, samples, seed, real);
    const accuracy = steered ? await contextAccuracy(classifier, samples, partner.classes) : null;
    const shares = await classShares(classifier, samples);
    const training = diffusionTrainingSet(manifest);
    const generatedDiversity = await diversity(samples);
    const realTrainingDiversity = await diversityOfDraw(training.dataset, training.indices, n, seed);
    const generatedNearest = summariseDistances(await nearestNeighbourDistances(samples, training.dataset, training.indices));
    const realUnseenNearest = await unseenNearest(training, n, seed);
    return {
      model: relative(PROJECT_ROOT, projectPath(options.checkpoint)),
      epoch: manifest.training?.epoch ?? null,
      sampler,
      steps,
      ...(eta > 0 ? { eta } : {}),
      ...(clipDenoised ? { clipDenoised } : {}),
      ...(weights === "ema" ? { weights } : {}),
      label: samplerLabel({ ...choice, guidance, classifierGuidance: { scale } }, schedule),
      ...(guidance > 0 ? { guidance } : {}),
      ...(scale > 0 ? { classifierGuidance: { scale, classifier: relative(PROJECT_ROOT, projectPath(options.classifierGuidance!.dir)) } } : {}),
      n,
      seed,
      sfd,
      sfdFloor,
      contextAccuracy: accuracy && { perClass: byClassName(accuracy.perClass), counts: byClassName(accuracy.counts), overall: accuracy.overall },
      classShares: byClassName(shares),
      diversity: { generated: generatedDiversity, realTraining: realTrainingDiversity },
      nearestTraining: { generated: generatedNearest, realUnseen: realUnseenNearest, trainingSet: training.note },
      samplingSeconds,
      backend: tf.getBackend(),
      ...(engine.engine === "onnx" ? { engine: "onnx" as const } : {}),
      realSet: { dir: relative(PROJECT_ROOT, real.dir), generator: real.generator, fingerprint: real.fingerprint },
    };
  } finally {
    tf.dispose([...(context ? [context] : []), ...(samples ? [samples] : [])]);
    await engine?.dispose();
    model.dispose();
  }
}

/** A seeded draw of n of `indices` (all of them when there are fewer). */
function draw(indices: Int32Array, n: number, seed: number): Int32Array {
  const order = epochOrder(indices.length, deriveSeed(seed, 0xd1e5), 0);
  return order.slice(0, Math.min(n, indices.length)).map((i) => indices[i]);
}

/** Diversity of n real sprites drawn from the training set: what the data itself scores at this n. */
async function diversityOfDraw(dataset: Parameters<typeof sampleTensors>[0], indices: Int32Array, n: number, seed: number): Promise<DiversityReport> {
  const { images, labels } = sampleTensors(dataset, draw(indices, n, seed));
  try {
    return await diversity(images);
  } finally {
    tf.dispose([images, labels]);
  }
}

/** Nearest-training distances of n real sprites outside the training set, or null if it is the whole set. */
async function unseenNearest(training: ReturnType<typeof diffusionTrainingSet>, n: number, seed: number): Promise<Distances | null> {
  const inTraining = new Uint8Array(training.dataset.count);
  for (const i of training.indices) inTraining[i] = 1;
  const unseen = Int32Array.from({ length: training.dataset.count }, (_, i) => i).filter((i) => !inTraining[i]);
  if (unseen.length === 0) return null;
  const { images, labels } = sampleTensors(training.dataset, draw(unseen, n, seed + 1));
  try {
    return summariseDistances(await nearestNeighbourDistances(images, training.dataset, training.indices));
  } finally {
    tf.dispose([images, labels]);
  }
}
