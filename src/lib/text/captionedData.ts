/**
 * A captioned sprite set as training data for a text-conditioned model (./textContextUnet.ts):
 * the images of a sprite data set with, as labels, the token ids of one caption per image (the
 * caption ./captionLabels.ts picks from its base's by the seed), and the rows of the trainer's
 * periodic sample grid, a few real captions.
 *
 * Which images: the whole set, or the seeded subset `npm run train -- --subset N` trains on
 * (seededSubsetIndices, the images a class model's --subset run takes), images and captions kept
 * in pairs, less the images of any held-out kind-and-colour pairs (./heldOutPrompts.ts). An
 * image's caption is the one it has in the whole set, so a subset run sees the same pairs as the
 * full run.
 *
 * The grid's prompts, by default: one per sprite class the data holds, in class order, the first
 * caption (template 1, "a brown cupcake") of the first training image of that class; so a text
 * model's grid has as many rows as a class model's, each named by the caption it asks for.
 */
import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs-core";
import { seededSubsetIndices } from "../data/batches";
import { SPRITE_CLASSES, type SpriteDataset, fingerprint, sampleTensors, subsetDataset } from "../data/dataset";
import type { SpriteCaptions } from "../data/spriteCaptions";
import type { SampleGridRow, TrainingData } from "../train/trainer";
import { CAPTION_ENCODER_DEFAULTS } from "./captionEncoder";
import { type HeldOutPair, heldOutImageMask } from "./heldOutPrompts";
import { pickedCaptions, tokenIdRows } from "./captionLabels";
import type { TextContextUnetOptions } from "./textContextUnet";
import { type WordTokenizer, tokenizeWords } from "./tokenizer";

export interface CaptionedDataOptions {
  /** The tokenizer the model reads with (model.tokenizer); it must know every caption's words. */
  tokenizer: WordTokenizer;
  /** Token ids per caption: the model's maxTokens (model.contextSize). */
  maxTokens: number;
  /** Picks each image's caption (pickedCaptions) and the subset: the run's seed. */
  seed: number;
  /** Train on the seeded subset of this many images (default: all of them). */
  subset?: number;
  /** The sample grid's prompts, one row each (default: one per class, see the module comment). */
  gridPrompts?: readonly string[];
  /** Kind-and-colour pairs whose images are left out (heldOutPairs; default none). */
  heldOut?: readonly HeldOutPair[];
}

/** Training data whose labels are captions' token ids [B, maxTokens] float32; it holds no tensors. */
export interface CaptionedTrainingData extends TrainingData {
  /** Each training image's caption, in the data's order (length count). */
  readonly captions: readonly string[];
  /** The grid's rows: each prompt and its token ids. */
  readonly sampleGridRows: readonly SampleGridRow[];
  /** 16 hex digits over the images, their classes and their captions: a checkpoint's data fingerprint. */
  readonly fingerprint: string;
}

/**
 * The text model's options for a captioned set: its vocabulary, and maxTokens the encoder's
 * default 16 or, were a caption longer, the longest caption's word count (the project's longest
 * has 15 words); every other size is CAPTION_ENCODER_DEFAULTS' and the course's UNet.
 */
export function captionedModelOptions(captions: SpriteCaptions): TextContextUnetOptions {
  const longest = Math.max(0, ...captions.bases.flatMap((base) => base.captions.map((caption) => tokenizeWords(caption).length)));
  return { vocabulary: captions.vocabulary, encoder: { maxTokens: Math.max(CAPTION_ENCODER_DEFAULTS.maxTokens, longest) } };
}

/**
 * The captioned set as training data (see the module comment). `dataset` and `captions` must be
 * the same set: as many images as captioned ones (the error says how to remake the captions).
 * Throws naming unknown words or too-long captions, as the tokenizer does.
 */
export function captionedTrainingData(dataset: SpriteDataset, captions: SpriteCaptions, options: CaptionedDataOptions): CaptionedTrainingData {
  if (dataset.count !== captions.count) {
    throw new Error(
      `captionedTrainingData: the captions cover ${captions.count} images but ${dataset.source.images} has ${dataset.count}; they belong to ` +
        "different sets: remake both with `npm run sprites` (the captions file is written beside the images).",
    );
  }
  const { tokenizer, maxTokens, seed } = options;
  const subset = options.subset === undefined ? null : seededSubsetIndices(dataset.count, options.subset, seed);
  const held = options.heldOut && options.heldOut.length > 0 ? heldOutImageMask(captions, options.heldOut) : null;
  const indices = held ? Int32Array.from(subset ?? Array.from({ length: dataset.count }, (_, i) => i)).filter((i) => held[i] === 0) : subset;
  const data = indices ? subsetDataset(dataset, indices) : dataset;
  const picked = pickedCaptions(captions, seed);
  const pairedCaptions = indices ? Array.from(indices, (i) => picked[i]) : picked;
  const ids = tokenIdRows(pairedCaptions, tokenizer, maxTokens);
  const prompts = options.gridPrompts ?? classPrompts(captions, indices ?? data.count);
  const promptIds = tokenIdRows(prompts, tokenizer, maxTokens);
  const sampleGridRows = prompts.map((title, r) => ({ title, context: Array.from(promptIds.subarray(r * maxTokens, (r + 1) * maxTokens)) }));
  return {
    count: data.count,
    captions: pairedCaptions,
    sampleGridRows,
    fingerprint: createHash("sha256").update(fingerprint(data)).update(pairedCaptions.join("\n")).digest("hex").slice(0, 16),
    batch: (batchIndices) => {
      const { images, labels: classes } = sampleTensors(data, batchIndices);
      classes.dispose();
      const rows = new Float32Array(batchIndices.length * maxTokens);
      batchIndices.forEach((i, b) => rows.set(ids.subarray(i * maxTokens, (i + 1) * maxTokens), b * maxTokens));
      return { images, labels: tf.tensor2d(rows, [batchIndices.length, maxTokens]) };
    },
  };
}

/** The default grid prompts: per class, the first caption of the first training image's base (images: the training indices, or a count of 0..count - 1). */
function classPrompts(captions: SpriteCaptions, images: Int32Array | number): string[] {
  const order = typeof images === "number" ? Array.from({ length: images }, (_, i) => i) : Array.from(images);
  const prompts: string[] = [];
  for (let c = 0; c < SPRITE_CLASSES; c++) {
    const first = order.find((i) => captions.images[i].classIndex === c);
    if (first !== undefined) prompts.push(captions.images[first].captions[0]);
  }
  return prompts;
}
