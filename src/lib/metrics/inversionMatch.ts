/**
 * Does a word learnt by textual inversion draw its examples' kind? The kind classifier has no
 * class for a kind the set never draws (a robot), so the test is a nearest neighbour in its
 * feature space (the penultimate layer, as the Frechet distance reads it): the references are R
 * sprites of the new kind, drawn on a seed other than the examples', and R real sprites of the
 * set; a sprite counts as the new kind when its nearest reference is one of the new kind's.
 *
 *   share = (1 / N) sum_i [ argmin_j ||f(x_i) - f(r_j)|| is a new-kind reference ]
 *
 * Read against two others measured the same way: more sprites of the new kind, drawn on a third
 * seed (the ceiling: what the test gives the kind itself), and the model's sprites from the
 * prompt with the new word left out (the floor: what it draws without the word).
 */
import * as tf from "@tensorflow/tfjs-core";
import { epochOrder } from "../data/batches";
import { sampleTensors } from "../data/dataset";
import { heldOutSprites } from "../data/sprites/heldOut";
import { deriveSeed } from "../data/sprites/prng";
import { type SamplerChoice, checkSamplerChoice, sample, samplerLabel } from "../diffusion/samplers";
import type { SamplerOptions } from "../diffusion/sampling";
import type { InversionLog } from "../text/inversionFiles";
import type { TextContextUnet } from "../text/textContextUnet";
import type { LoadedModel } from "../train/trainingCheckpoint";
import { classifyImages, type SpriteClassifier } from "./classifier";
import type { RealSpriteSet } from "./realSprites";

/** The two reference groups' features, count x featureSize row-major each. */
export interface NearestKindReferences {
  newKind: Float32Array;
  others: Float32Array;
  featureSize: number;
}

/** Features of `images` [N, 16, 16, 3] in [-1, 1] (the caller keeps them). */
export async function classifierFeatures(classifier: SpriteClassifier, images: tf.Tensor4D): Promise<Float32Array> {
  return (await classifyImages(classifier, images)).features;
}

/** Sprites of the set's images as the models take them: uint8 NHWC -> [-1, 1] (x / 127.5 - 1). Caller owns the tensor. */
export function spritesFromBytes(bytes: Uint8Array, count: number): tf.Tensor4D {
  if (bytes.length !== count * 16 * 16 * 3) throw new Error(`spritesFromBytes: ${bytes.length} bytes is not ${count} sprites of 16 x 16 x 3.`);
  return tf.tidy(() => tf.sub(tf.div(tf.tensor4d(bytes, [count, 16, 16, 3], "float32"), 127.5), 1) as tf.Tensor4D);
}

/** The features of the new kind's references and of `count` real sprites drawn by `seed` from the classifier's held-out split. */
export async function nearestKindReferences(classifier: SpriteClassifier, newKind: tf.Tensor4D, real: RealSpriteSet, count: number, seed: number): Promise<NearestKindReferences> {
  const pool = real.split.heldOut;
  if (count > pool.length) throw new Error(`nearestKindReferences: ${count} real references asked for, but the classifier's held-out split has ${pool.length}; ask for fewer.`);
  const order = epochOrder(pool.length, deriveSeed(seed, 0x1e5), 0);
  const indices = Int32Array.from({ length: count }, (_, i) => pool[order[i]]);
  const { images, labels } = sampleTensors(real.dataset, indices);
  try {
    return { newKind: await classifierFeatures(classifier, newKind), others: await classifierFeatures(classifier, images), featureSize: classifier.config.featureSize };
  } finally {
    tf.dispose([images, labels]);
  }
}

/** Squared Euclidean distance between row i of a and row j of b (both featureSize wide). */
function squaredDistance(a: Float32Array, i: number, b: Float32Array, j: number, size: number): number {
  let sum = 0;
  for (let k = 0; k < size; k++) {
    const d = a[i * size + k] - b[j * size + k];
    sum += d * d;
  }
  return sum;
}

/**
 * The share of `features` (count x featureSize) whose nearest reference is a new-kind one (see the
 * module comment). A tie goes to the real sprites: the test never rounds up.
 */
export function nearestKindShare(features: Float32Array, references: NearestKindReferences): number {
  const size = references.featureSize;
  const count = features.length / size;
  if (!Number.isInteger(count) || count < 1) throw new Error(`nearestKindShare: ${features.length} values are not whole rows of ${size} features.`);
  const nearest = (refs: Float32Array, i: number) => {
    let best = Infinity;
    for (let j = 0; j < refs.length / size; j++) best = Math.min(best, squaredDistance(features, i, refs, j, size));
    return best;
  };
  let hits = 0;
  for (let i = 0; i < count; i++) hits += Number(nearest(references.newKind, i) < nearest(references.others, i));
  return hits / count;
}

/** One prompt's share, and the share of the same prompt with the new word left out. */
export interface InversionPromptMatch {
  prompt: string;
  share: number;
  withoutWord: { prompt: string; share: number };
}

/** A recorded measurement of an inverted checkpoint (models/evaluation.json's inversion part). */
export interface InversionEvaluation extends Required<SamplerChoice> {
  checkpoint: string;
  token: string;
  kind: string;
  /** The checkpoint the word was learnt on, and the examples (from inversion-log.json). */
  source: { checkpoint: string; examples: string; exampleCount: number; steps: number };
  label: string;
  guidance: number;
  /** Sprites drawn per prompt. */
  n: number;
  seed: number;
  references: { newKind: number; real: number; newKindSeed: number; ceilingSeed: number };
  classifier: { dir: string; heldOutAccuracy: number };
  prompts: InversionPromptMatch[];
  /** The share of n more sprites of the new kind (the test's ceiling). */
  ceiling: number;
  seconds: number;
  backend: string;
}

export interface InversionEvaluationOptions extends SamplerChoice {
  checkpoint: string;
  loaded: LoadedModel<TextContextUnet>;
  log: InversionLog;
  /** The prompts, each using the token ("a <robot>"); the word is left out for the floor. */
  prompts: readonly string[];
  n: number;
  /** References of each group. */
  references: number;
  seed: number;
  guidance: number;
  classifier: SpriteClassifier;
  classifierDir: string;
  classifierHeldOutAccuracy: number;
  real: RealSpriteSet;
  /** The new kind the examples show (a HELD_OUT_KINDS entry; default robot). */
  kind?: string;
  /** Bytes of the inversion's examples (uint8 NHWC): references equal to one are left out. */
  exampleBytes?: Uint8Array;
  onPrompt?: (prompt: string) => void;
  onStep?: SamplerOptions["onStep"];
}

/** The prompt with every occurrence of the token taken out (words kept in order). */
export function withoutToken(prompt: string, token: string): string {
  return prompt
    .split(/\s+/)
    .filter((word) => word !== "" && word !== token)
    .join(" ");
}

/** `count` new-kind sprites on `seed`, without any byte-identical to an example; as [-1, 1] sprites. */
function newKindSprites(kind: string, count: number, seed: number, exampleBytes: Uint8Array | undefined): tf.Tensor4D {
  const drawn = heldOutSprites({ kind, count, seed });
  const size = 16 * 16 * 3;
  const examples = new Set<string>();
  if (exampleBytes) for (let i = 0; i < exampleBytes.length / size; i++) examples.add(exampleBytes.subarray(i * size, (i + 1) * size).join(","));
  const kept: number[] = [];
  for (let i = 0; i < count; i++) if (!examples.has(drawn.images.subarray(i * size, (i + 1) * size).join(","))) kept.push(i);
  const bytes = new Uint8Array(kept.length * size);
  kept.forEach((i, k) => bytes.set(drawn.images.subarray(i * size, (i + 1) * size), k * size));
  return spritesFromBytes(bytes, kept.length);
}

/**
 * Measures an inverted checkpoint: for each prompt, n sprites drawn with it and n with the word
 * left out, each by its own seed (deriveSeed(seed, prompt's position, 0 or 1)), and n more sprites
 * of the new kind, all read by the nearest-neighbour test against `references` of each group.
 */
export async function evaluateInversion(options: InversionEvaluationOptions): Promise<InversionEvaluation> {
  const { loaded, log, n, references, seed, guidance, classifier } = options;
  const { model, schedule } = loaded;
  const { token } = log;
  for (const prompt of options.prompts) {
    if (!prompt.split(/\s+/).includes(token)) throw new Error(`evaluateInversion: the prompt "${prompt}" does not use the learnt word ${token}; write it as a word of its own, e.g. "a ${token}".`);
  }
  const kind = options.kind ?? "robot";
  const newKindSeed = seed + 1;
  const ceilingSeed = seed + 2;
  const began = Date.now();
  const refs = tf.tidy(() => newKindSprites(kind, references, newKindSeed, options.exampleBytes));
  let refFeatures: NearestKindReferences;
  try {
    refFeatures = await nearestKindReferences(classifier, refs, options.real, references, seed);
  } finally {
    refs.dispose();
  }
  const sharesOfPrompt = async (prompt: string, promptSeed: number) => {
    options.onPrompt?.(prompt);
    const context = model.captionContexts(Array.from({ length: n }, () => prompt));
    const { sampler, steps, eta, clipDenoised, onStep } = options;
    let samples: tf.Tensor4D | null = null;
    try {
      samples = (await sample(model, schedule, { count: n, seed: promptSeed }, context, { sampler, steps, eta, clipDenoised, guidance, seed: promptSeed, onStep, saveFrame: () => false })).samples;
      return nearestKindShare(await classifierFeatures(classifier, samples), refFeatures);
    } finally {
      context.dispose();
      samples?.dispose();
    }
  };
  const prompts: InversionPromptMatch[] = [];
  for (const [index, prompt] of options.prompts.entries()) {
    const share = await sharesOfPrompt(prompt, deriveSeed(seed, index, 0));
    const bare = withoutToken(prompt, token);
    prompts.push({ prompt, share, withoutWord: { prompt: bare, share: await sharesOfPrompt(bare, deriveSeed(seed, index, 1)) } });
  }
  const more = newKindSprites(kind, n, ceilingSeed, options.exampleBytes);
  let ceiling: number;
  try {
    ceiling = nearestKindShare(await classifierFeatures(classifier, more), refFeatures);
  } finally {
    more.dispose();
  }
  const { steps, eta, clipDenoised } = checkSamplerChoice(options, schedule);
  return {
    checkpoint: options.checkpoint,
    token,
    kind,
    source: { checkpoint: log.source.checkpoint, examples: log.source.examples, exampleCount: log.source.exampleCount, steps: log.steps },
    sampler: options.sampler,
    steps,
    eta,
    clipDenoised,
    label: samplerLabel({ ...options, guidance }, schedule),
    guidance,
    n,
    seed,
    references: { newKind: refFeatures.newKind.length / refFeatures.featureSize, real: references, newKindSeed, ceilingSeed },
    classifier: { dir: options.classifierDir, heldOutAccuracy: options.classifierHeldOutAccuracy },
    prompts,
    ceiling,
    seconds: (Date.now() - began) / 1000,
    backend: tf.getBackend(),
  };
}
