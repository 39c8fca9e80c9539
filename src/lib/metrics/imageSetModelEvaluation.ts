/**
 * Evaluates a diffusion checkpoint of a 28x28 set (trained with `npm run train -- --config
 * configs/<set>.json`, whose manifest records the config and so the set): draws n unconditional
 * samples with the chosen sampler on the checkpoint's own schedule, then measures their Frechet
 * distance against the set's test images with the set's classifier, beside the real-vs-real floor
 * at the same n and seed, the share of samples the classifier puts in each class, and its mean
 * confidence (largest class probability) on the samples beside the same on n test images: a
 * generated digit should be recognised as surely as a real one.
 */
import * as tf from "@tensorflow/tfjs-core";
import { IMAGE_SETS } from "../data/namedImageSets";
import { deriveSeed } from "../data/sprites/prng";
import { type SamplerChoice, checkSamplerChoice, sample, samplerLabel } from "../diffusion/samplers";
import type { NoiseModel, SamplerOptions } from "../diffusion/sampling";
import { type EngineRequest, type SamplingEngine, noiseModelEngine } from "../onnx/samplingEngine";
import { type WeightChoice, loadNoiseModel } from "../train/trainingCheckpoint";
import { checkImageSetName, checkImagesFit, imageSetClassifierDir, loadImageSetClassifier } from "./imageSetClassifier";
import { type ImageSetFrechetReport, classifiedAgainstTestSet } from "./imageSetFrechet";

export interface ImageSetModelEvaluationOptions extends SamplerChoice {
  /** Checkpoint folder (relative to the project root or absolute). */
  checkpoint: string;
  n: number;
  /** Seed of the samples' noise and of the test draws. */
  seed: number;
  /** The set's classifier folder (default models/classifier-<set>). */
  classifierDir?: string;
  /** Which weights to evaluate (default "auto": the EMA weights when the checkpoint keeps them). */
  weights?: WeightChoice;
  /** Sampling progress, per step. */
  onStep?: SamplerOptions["onStep"];
  /** The engine of the network's forward (default "auto": ONNX Runtime when it can); a row sampled on ONNX Runtime records engine "onnx". */
  engine?: EngineRequest;
  /** Told which engine samples, and why (one line). */
  onEngine?: (reason: string) => void;
}

export interface ImageSetModelEvaluation extends ImageSetFrechetReport, Required<SamplerChoice> {
  checkpoint: string;
  /** The checkpoint's epoch (completed epochs when it was saved; null without a training record). */
  epoch: number | null;
  /** e.g. "DDIM-25" (samplerLabel). */
  label: string;
  /** The set's class names, in the order of classShares. */
  classNames: string[];
  weights: "ema" | "raw";
  /** The classifier's folder and its test accuracy. */
  classifier: { dir: string; testAccuracy: number };
  /** Share of the samples the classifier puts in each class of the set. */
  classShares: number[];
  /** Mean of the classifier's largest class probability: on the samples, and on n test images (same seed as the distance's reference draw). */
  meanConfidence: { generated: number; real: number };
  samplingSeconds: number;
  /** The TensorFlow.js backend that sampled. */
  backend: string;
  /** "onnx" when the network's forward ran on ONNX Runtime (absent: TensorFlow.js); not part of the row's key. */
  engine?: "onnx";
}

/** See the module comment. Frees everything it makes. */
export async function evaluateImageSetModel(options: ImageSetModelEvaluationOptions): Promise<ImageSetModelEvaluation> {
  const { checkpoint, n, seed } = options;
  if (!Number.isInteger(n) || n < 2) throw new Error(`evaluateImageSetModel: n must be a whole number >= 2 (1000 for a reportable distance), got ${n}.`);
  const loaded = loadNoiseModel(checkpoint, { weights: options.weights });
  let classifier: ReturnType<typeof loadImageSetClassifier>["classifier"] | undefined;
  let samples: tf.Tensor4D | undefined;
  let engine: SamplingEngine<NoiseModel> | null = null;
  try {
    const setName = loaded.manifest.ddpmConfig?.dataset.name;
    if (setName === undefined) {
      throw new Error(`${checkpoint} records no DDPM config, so no 28x28 set: this measures models trained with \`npm run train -- --config FILE\`; measure a sprite model with \`npm run evaluate\`.`);
    }
    const set = checkImageSetName(setName);
    const classifierDir = options.classifierDir ?? imageSetClassifierDir(set);
    const loadedClassifier = loadImageSetClassifier(set, classifierDir);
    classifier = loadedClassifier.classifier;
    const [height, width, channels] = loaded.model.imageShape;
    checkImagesFit(classifier, [n, height, width, channels], `${checkpoint}'s samples`);
    const label = samplerLabel(options, loaded.schedule);
    engine = await noiseModelEngine(loaded.model, options.engine, { what: checkpoint });
    options.onEngine?.(engine.reason);
    const started = Date.now();
    // tfjs reads a seed of 0 as "no seed", so the samples' noise seed is derived (never 0 in practice).
    const start = { count: n, seed: deriveSeed(seed, 0x5e7), imageShape: [height, width, channels] as [number, number, number] };
    const { sampler, steps, eta, clipDenoised, onStep } = options;
    const result = await sample(engine.model, loaded.schedule, start, null, { sampler, steps, eta, clipDenoised, onStep, saveFrame: () => false });
    samples = result.samples;
    const samplingSeconds = (Date.now() - started) / 1000;
    const { report, generated, reference } = await classifiedAgainstTestSet(classifier, samples, set, seed);
    const shares = new Array<number>(classifier.config.classes).fill(0);
    for (const c of generated.classes) shares[c] += 1 / n;
    const resolved = checkSamplerChoice(options, loaded.schedule);
    return {
      ...report,
      checkpoint,
      epoch: loaded.manifest.training?.epoch ?? null,
      sampler: options.sampler,
      steps: resolved.steps,
      eta: resolved.eta,
      clipDenoised: resolved.clipDenoised,
      label,
      classNames: [...IMAGE_SETS[set].spec.classNames],
      weights: loaded.weights,
      classifier: { dir: classifierDir, testAccuracy: loadedClassifier.manifest.heldOutScore.accuracy },
      classShares: shares,
      meanConfidence: { generated: mean(generated.confidences), real: mean(reference.confidences) },
      samplingSeconds,
      backend: tf.getBackend(),
      ...(engine.engine === "onnx" ? { engine: "onnx" as const } : {}),
    };
  } finally {
    samples?.dispose();
    classifier?.dispose();
    await engine?.dispose();
    loaded.model.dispose();
  }
}

const mean = (values: Float32Array) => values.reduce((sum, v) => sum + v, 0) / values.length;
