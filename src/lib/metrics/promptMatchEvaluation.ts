/**
 * Does a text model draw what its prompt says? For each prompt (a kind and a main colour, "a red
 * potion") it draws `perPrompt` sprites, and the kind and colour classifiers read them
 * (attributeMatch.ts). The same classifiers on real sprites of the same pairs are the reference:
 * the share a model could reach if it drew exactly the real sprites.
 *
 * Two prompt sets make the measurement (issue 18): the held-out pairs, whose images the model
 * never saw (data.heldOut of its checkpoint: it composes "red" and "potion" learnt apart), and
 * their trained controls, the same kinds in a colour it did see (trainedCounterparts). Their gap
 * is what composing costs.
 *
 * Each prompt's noise comes from the seed and its kind, deriveSeed(seed, fnv1a(kind)): a held-out
 * pair and its control start from the same noise (their difference is the colour word's), and a
 * prompt draws the same sprites whichever others are measured with it.
 */
import * as tf from "@tensorflow/tfjs-core";
import { sampleTensors } from "../data/dataset";
import type { SpriteCaptions } from "../data/spriteCaptions";
import { deriveSeed } from "../data/sprites/prng";
import { type SamplerChoice, checkSamplerChoice, sample, samplerLabel } from "../diffusion/samplers";
import type { SamplerOptions } from "../diffusion/sampling";
import { type PromptPair, trainedCounterparts } from "../text/heldOutPrompts";
import type { TextContextUnet } from "../text/textContextUnet";
import type { LoadedModel } from "../train/trainingCheckpoint";
import { type AttributeClassifiers, type AttributeMatch, type ExpectedAttributes, attributeMatch, realSpritesWithAttributes } from "./attributeMatch";
import type { RealSpriteSet } from "./realSprites";

/** Shares of images whose kind, colour and both are read as expected (AttributeMatch without the per-image list). */
export interface MatchShares {
  count: number;
  kind: number;
  colour: number;
  both: number;
}

/**
 * One prompt's row: the model's shares and the real sprites' of the same pair (null: none among
 * the candidates). `real` reads sprites neither classifier trained on (their held-out base
 * sprites, a tenth of the bases: many pairs have none); `realAll` reads any sprites of the pair,
 * most of which the classifiers trained on (every pair has some; an optimistic reference).
 */
export interface PromptMatchRow extends PromptPair {
  generated: MatchShares;
  real: MatchShares | null;
  realAll?: MatchShares | null;
}

/** One prompt set measured: per prompt, and pooled over its prompts (real, realAll: over the prompts that had real sprites). */
export interface PromptSetMatch {
  rows: PromptMatchRow[];
  generated: MatchShares;
  real: MatchShares | null;
  realAll?: MatchShares | null;
}

export interface PromptMatchOptions extends SamplerChoice {
  /** Sprites drawn per prompt (the issue asks for >= 50), and real sprites read per pair (at most). */
  perPrompt: number;
  seed: number;
  /** Classifier-free guidance weight w >= 0 (0: none). */
  guidance: number;
  onStep?: SamplerOptions["onStep"];
  /** Called before each prompt's sampling: its position and the count of prompts. */
  onPrompt?: (prompt: PromptPair, index: number, count: number) => void;
}

/** FNV-1a, 32 bits, of a string's UTF-16 code units: a number for a word, to derive a seed from. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** The seed of a prompt's noise: the run's seed and the pair's kind (see the module comment). */
export const promptSeed = (seed: number, pair: Pick<PromptPair, "kind">) => deriveSeed(seed, fnv1a(pair.kind));

/** Pools shares weighted by their counts; null for no parts. */
export function pooledShares(parts: readonly MatchShares[]): MatchShares | null {
  const count = parts.reduce((sum, part) => sum + part.count, 0);
  if (count === 0) return null;
  const mean = (key: "kind" | "colour" | "both") => parts.reduce((sum, part) => sum + part[key] * part.count, 0) / count;
  return { count, kind: mean("kind"), colour: mean("colour"), both: mean("both") };
}

const shares = ({ count, kind, colour, both }: AttributeMatch): MatchShares => ({ count, kind, colour, both });

/** The shares of the images expecting `want` among `expected` (aligned with `match.predicted`). */
function sharesOf(match: AttributeMatch, expected: readonly ExpectedAttributes[], want: ExpectedAttributes): MatchShares | null {
  let count = 0;
  let kind = 0;
  let colour = 0;
  let both = 0;
  expected.forEach((e, i) => {
    if (e.kind !== want.kind || e.colour !== want.colour) return;
    const p = match.predicted[i];
    count++;
    kind += Number(p.kind === e.kind);
    colour += Number(p.colour === e.colour);
    both += Number(p.kind === e.kind && p.colour === e.colour);
  });
  return count === 0 ? null : { count, kind: kind / count, colour: colour / count, both: both / count };
}

/**
 * Reads up to `perPair` real sprites of each pair among `candidates` (the classifiers' held-out
 * split: images neither classifier trained on) and returns each pair's shares (null: none found).
 */
export async function realPairShares(
  classifiers: AttributeClassifiers,
  real: RealSpriteSet,
  captions: SpriteCaptions,
  candidates: ArrayLike<number>,
  pairs: readonly PromptPair[],
  perPair: number,
  seed: number,
): Promise<(MatchShares | null)[]> {
  const chosen = realSpritesWithAttributes(captions, candidates, pairs, perPair, seed);
  if (chosen.indices.length === 0) return pairs.map(() => null);
  const { images, labels } = sampleTensors(real.dataset, chosen.indices);
  try {
    const match = await attributeMatch(classifiers, images, chosen.expected);
    return pairs.map((pair) => sharesOf(match, chosen.expected, pair));
  } finally {
    tf.dispose([images, labels]);
  }
}

/** Draws `perPrompt` sprites for each prompt and reads them; the real reference per pair from `realShares`. Frees what it makes. */
export async function promptSetMatch(
  loaded: LoadedModel<TextContextUnet>,
  classifiers: AttributeClassifiers,
  pairs: readonly PromptPair[],
  realShares: readonly (MatchShares | null)[],
  options: PromptMatchOptions,
): Promise<PromptSetMatch> {
  const { model, schedule } = loaded;
  const { perPrompt, seed, guidance, sampler, steps, eta, clipDenoised, onStep } = options;
  if (!Number.isInteger(perPrompt) || perPrompt < 1) throw new Error(`promptSetMatch: perPrompt must be a whole number >= 1 (50 for a reportable share), got ${perPrompt}.`);
  if (realShares.length !== pairs.length) throw new Error(`promptSetMatch: ${pairs.length} prompts but ${realShares.length} real references; pass one (or null) per prompt.`);
  const rows: PromptMatchRow[] = [];
  for (const [index, pair] of pairs.entries()) {
    options.onPrompt?.(pair, index, pairs.length);
    const context = model.captionContexts(Array.from({ length: perPrompt }, () => pair.prompt));
    const noiseSeed = promptSeed(seed, pair);
    let samples: tf.Tensor4D | null = null;
    try {
      const result = await sample(model, schedule, { count: perPrompt, seed: noiseSeed }, context, { sampler, steps, eta, clipDenoised, guidance, seed: noiseSeed, onStep, saveFrame: () => false });
      samples = result.samples;
      const expected = Array.from({ length: perPrompt }, () => ({ kind: pair.kind, colour: pair.colour }));
      rows.push({ ...pair, generated: shares(await attributeMatch(classifiers, samples, expected)), real: realShares[index] });
    } finally {
      context.dispose();
      samples?.dispose();
    }
  }
  const realParts = rows.flatMap((row) => (row.real ? [row.real] : []));
  return { rows, generated: pooledShares(rows.map((row) => row.generated))!, real: pooledShares(realParts) };
}

/** A recorded measurement of a text checkpoint (models/evaluation.json's promptMatch part). */
export interface PromptMatchEvaluation extends Required<SamplerChoice> {
  checkpoint: string;
  /** Completed epochs when the checkpoint was saved (null without a training record). */
  epoch: number | null;
  weights: "ema" | "raw";
  /** e.g. "DDIM-25, CFG w = 2" (samplerLabel). */
  label: string;
  guidance: number;
  perPrompt: number;
  seed: number;
  /** The two classifiers: folder and accuracy on their held-out base sprites. */
  classifiers: { kind: { dir: string; heldOutAccuracy: number }; colour: { dir: string; heldOutAccuracy: number } };
  /** Where the real reference comes from, in words. */
  realReference: string;
  /** The pairs the model never trained on, and their trained controls. */
  heldOut: PromptSetMatch;
  trained: PromptSetMatch;
  /** The whole measurement's time: sampling both sets and reading them and the real sprites. */
  seconds: number;
  backend: string;
}

export interface PromptMatchEvaluationOptions extends Omit<PromptMatchOptions, "onPrompt"> {
  /** The checkpoint folder as given (recorded). */
  checkpoint: string;
  loaded: LoadedModel<TextContextUnet>;
  classifiers: AttributeClassifiers & { dirs: { kind: string; colour: string } };
  real: RealSpriteSet;
  captions: SpriteCaptions;
  onPrompt?: (set: "held-out" | "trained", prompt: PromptPair, index: number, count: number) => void;
}

/**
 * Measures a text checkpoint trained with held-out pairs (npm run train -- --text --hold-out N):
 * its held-out prompts and their trained controls, each against real sprites of the same pairs
 * that neither classifier trained on. Throws for a checkpoint without held-out pairs.
 */
export async function evaluatePromptMatch(options: PromptMatchEvaluationOptions): Promise<PromptMatchEvaluation> {
  const { checkpoint, loaded, classifiers, real, captions, perPrompt, seed } = options;
  const heldOut = loaded.manifest.data?.heldOut;
  if (!heldOut || heldOut.length === 0) {
    throw new Error(`${checkpoint} holds no held-out pairs (data.heldOut): it was trained on every kind-and-colour pair, so no prompt measures composing; train one with \`npm run train -- --text --hold-out 24\`.`);
  }
  const trained = trainedCounterparts(captions, heldOut);
  const candidates = real.split.heldOut;
  const label = samplerLabel(options, loaded.schedule);
  const began = Date.now();
  const everyImage = Int32Array.from({ length: real.dataset.count }, (_, i) => i);
  const measure = async (set: "held-out" | "trained", pairs: readonly PromptPair[]): Promise<PromptSetMatch> => {
    const unseen = await realPairShares(classifiers, real, captions, candidates, pairs, perPrompt, seed);
    const any = await realPairShares(classifiers, real, captions, everyImage, pairs, perPrompt, seed);
    const match = await promptSetMatch(loaded, classifiers, pairs, unseen, { ...options, onPrompt: (prompt, index, count) => options.onPrompt?.(set, prompt, index, count) });
    const rows = match.rows.map((row, i) => ({ ...row, realAll: any[i] }));
    return { ...match, rows, realAll: pooledShares(any.flatMap((shares) => (shares ? [shares] : []))) };
  };
  const heldOutMatch = await measure("held-out", heldOut);
  const trainedMatch = await measure("trained", trained);
  const { steps, eta, clipDenoised } = checkSamplerChoice(options, loaded.schedule);
  return {
    checkpoint,
    epoch: loaded.manifest.training?.epoch ?? null,
    weights: loaded.weights,
    sampler: options.sampler,
    steps,
    eta,
    clipDenoised,
    label,
    guidance: options.guidance,
    perPrompt,
    seed,
    classifiers: {
      kind: { dir: classifiers.dirs.kind, heldOutAccuracy: classifiers.kind.manifest.heldOutScore.accuracy },
      colour: { dir: classifiers.dirs.colour, heldOutAccuracy: classifiers.colour.manifest.heldOutScore.accuracy },
    },
    realReference:
      `real: up to ${perPrompt} real sprites per pair among the ${candidates.length} images of the classifiers' held-out base sprites; ` +
      `realAll: up to ${perPrompt} among all ${real.dataset.count} (most of them trained on by the classifiers); seed ${seed}`,
    heldOut: heldOutMatch,
    trained: trainedMatch,
    seconds: (Date.now() - began) / 1000,
    backend: tf.getBackend(),
  };
}
