/**
 * The training labels of a captioned sprite set for a text-conditioned model: one caption per
 * image, as token ids, where a class model's labels hold one-hot rows.
 *
 * Which caption: image i shows base b = floor(i / variantsPerBase), which has k captions (2 to 5,
 * one per template that applies); image i takes caption
 *   j_i = Prng(deriveSeed(seed, 0xCA97, i)).int(k),
 * a draw of its own (it depends on the seed and i alone, not on the order images are read), the
 * same in every epoch. A base's 50 variants draw their captions independently, so every phrasing of
 * a base is seen in training: one goes unused with probability ((k - 1) / k)^50, 1.4e-5 at k = 5.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SpriteCaptions } from "../data/spriteCaptions";
import { Prng, deriveSeed } from "../data/sprites/prng";
import type { WordTokenizer } from "./tokenizer";

/** Stream tag of the caption draws (any constant: it keeps them apart from the seed's other uses). */
const CAPTION_PICK = 0xca97;

/** Each image's caption, picked from its base's by `seed` (see the module comment); length captions.count. */
export function pickedCaptions(captions: SpriteCaptions, seed: number): string[] {
  if (!Number.isInteger(seed)) throw new Error(`pickedCaptions: the seed must be a whole number, got ${seed}.`);
  return captions.images.map((base, i) => base.captions[new Prng(deriveSeed(seed, CAPTION_PICK, i)).int(base.captions.length)]);
}

/**
 * The labels tensor of a captioned set: row i is image i's picked caption (pickedCaptions) as
 * `maxTokens` token ids, padded with 0, as float32 so that it travels as a context does.
 * @returns  [captions.count, maxTokens] float32, owned by the caller. Throws naming every word the
 *           tokenizer does not know (the tokenizer must be built from this set's vocabulary, or a
 *           larger one) and any caption longer than maxTokens words.
 */
export function captionTokenIds(captions: SpriteCaptions, tokenizer: WordTokenizer, maxTokens: number, seed: number): tf.Tensor2D {
  const picked = pickedCaptions(captions, seed);
  return tf.tensor2d(tokenIdRows(picked, tokenizer, maxTokens), [picked.length, maxTokens]);
}

/**
 * Some captions' token ids, row after row: [captions.length x maxTokens] float32 (row-major),
 * padded with 0. Throws as the tokenizer's encodeBatch does (every unknown word, too-long captions).
 */
export function tokenIdRows(captions: readonly string[], tokenizer: WordTokenizer, maxTokens: number): Float32Array {
  // A set has a few thousand distinct captions for its tens of thousands of images: encode each once.
  const distinct = [...new Set(captions)];
  const rows = tokenizer.encodeBatch(distinct, maxTokens);
  const rowOf = new Map(distinct.map((caption, r) => [caption, r]));
  const ids = new Float32Array(captions.length * maxTokens);
  captions.forEach((caption, i) => {
    const r = rowOf.get(caption)!;
    ids.set(rows.subarray(r * maxTokens, (r + 1) * maxTokens), i * maxTokens);
  });
  return ids;
}
