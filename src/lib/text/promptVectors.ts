/**
 * Embedding arithmetic with a text model: the course mixes one-hot contexts (hero + food, each at
 * 1/2); with captions, the vectors to mix are the encoder's outputs c(prompt) (./captionEncoder.ts):
 *
 *   c_mix = sum_i w_i c(prompt_i)                        e.g. 1/2 c("a green slime") + 1/2 c("a red potion")
 *
 * and a vector is read back as the captions whose own vectors lie nearest it:
 *
 *   nearest(c) = the k captions j with the smallest || c - c(caption_j) ||_2
 *
 * Sampling from a vector: VectorContextModel hands the UNet a vector instead of token ids. Its
 * context rows are offsets from the empty caption's vector, u = c - c(""), so that the zero row is
 * the empty caption, the "none" classifier-free guidance contrasts with, as for every model here;
 * weights that sum to 1 mix offsets and vectors alike (sum w_i (c_i - c0) = c_mix - c0).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NoiseModel } from "../diffusion/sampling";
import type { TextContextUnet } from "./textContextUnet";
import type { EncodeOptions } from "./tokenizer";

/** The context vectors c(prompt) of some prompts, [prompts.length, contextSize], owned by the caller; throws naming unknown words (unless options.unknown is "unk"). */
export function promptVectors(model: TextContextUnet, prompts: readonly string[], options: EncodeOptions = {}): tf.Tensor2D {
  return tf.tidy(() => model.encoder.encode(model.captionContexts(prompts, options)));
}

/**
 * Weighted sums of vectors: row m is sum_i weights[m][i] vectors[i].
 * @param vectors  [P, C], e.g. promptVectors of P prompts.
 * @param weights  M rows of P weights each (a row [0.5, 0.5] is the two prompts' midpoint).
 * @returns        [M, C], owned by the caller.
 */
export function mixVectors(vectors: tf.Tensor2D, weights: readonly (readonly number[])[]): tf.Tensor2D {
  const prompts = vectors.shape[0];
  const bad = weights.findIndex((row) => row.length !== prompts || row.some((w) => !Number.isFinite(w)));
  if (bad >= 0) {
    throw new Error(`mixVectors: weight row ${bad} is [${weights[bad]}]; each row needs ${prompts} finite weights, one per vector (row i of the vectors).`);
  }
  return tf.tidy(() => tf.matMul(tf.tensor2d(weights.map((row) => [...row]), [weights.length, prompts]), vectors));
}

/** One caption near a vector, and how near. */
export interface NearCaption {
  caption: string;
  /** || c - c(caption) ||_2 in the encoder's context space. */
  distance: number;
}

/**
 * A set of captions with their context vectors, encoded once, to read vectors back as the captions
 * nearest them. Captions that encode alike (the same bag of words) are kept once. Owns a tensor:
 * dispose() it.
 */
export class CaptionIndex {
  readonly captions: readonly string[];
  private readonly vectors: tf.Tensor2D;

  constructor(model: TextContextUnet, captions: readonly string[], batchSize = 512) {
    this.captions = [...new Set(captions)];
    if (this.captions.length === 0) throw new Error("CaptionIndex: no captions given; pass the set's captions (loadSpriteCaptions(dir).captions flattened).");
    const parts: tf.Tensor2D[] = [];
    for (let start = 0; start < this.captions.length; start += batchSize) {
      parts.push(promptVectors(model, this.captions.slice(start, start + batchSize)));
    }
    this.vectors = tf.tidy(() => tf.concat(parts));
    tf.dispose(parts);
  }

  /**
   * The k captions nearest each row of `vectors` [M, C], nearest first. The squared distance is
   * ||c||^2 - 2 c . c_j + ||c_j||^2, one product for all M x J pairs.
   */
  nearest(vectors: tf.Tensor2D, k = 3): NearCaption[][] {
    const [m, width] = vectors.shape;
    if (width !== this.vectors.shape[1]) throw new Error(`CaptionIndex.nearest: vectors have width ${width}, the model's context vectors ${this.vectors.shape[1]}.`);
    const count = Math.min(k, this.captions.length);
    const { values, indices } = tf.tidy(() => {
      const squared = tf.add(
        tf.sub(tf.sum(tf.square(vectors), 1, true), tf.mul(2, tf.matMul(vectors, this.vectors, false, true))),
        tf.reshape(tf.sum(tf.square(this.vectors), 1), [1, -1]),
      );
      const top = tf.topk(tf.neg(squared), count);
      return { values: tf.sqrt(tf.relu(tf.neg(top.values))), indices: top.indices };
    });
    const distances = values.dataSync();
    const ids = indices.dataSync();
    tf.dispose([values, indices]);
    return Array.from({ length: m }, (_, row) =>
      Array.from({ length: count }, (_, j) => ({ caption: this.captions[ids[row * count + j]], distance: distances[row * count + j] })),
    );
  }

  dispose(): void {
    this.vectors.dispose();
  }
}

/**
 * A text model that takes context vectors instead of token ids, for the samplers and guidance:
 * context row u = c - c("") (see the module comment; contextOf makes it), null or zero = the empty
 * caption. Owns the empty caption's vector: dispose() it (the model stays the caller's).
 */
export class VectorContextModel implements NoiseModel {
  readonly imageShape: readonly [number, number, number];
  readonly learnsVariance: boolean;
  private readonly emptyCaption: tf.Tensor2D;

  constructor(private readonly model: TextContextUnet) {
    this.imageShape = model.imageShape;
    this.learnsVariance = model.learnsVariance;
    this.emptyCaption = promptVectors(model, [""]);
  }

  /** The contexts this model takes for vectors c [N, C]: c - c(""), owned by the caller. */
  contextOf(vectors: tf.Tensor2D): tf.Tensor2D {
    return tf.sub(vectors, this.emptyCaption);
  }

  predictNoise(x: tf.Tensor4D, tFraction: tf.Tensor1D | number, context: tf.Tensor2D | null): tf.Tensor4D {
    return tf.tidy(() => this.model.unet.predictNoise(x, tFraction, this.vectorsOf(x, context)));
  }

  predictNoiseAndVariance(x: tf.Tensor4D, tFraction: tf.Tensor1D | number, context: tf.Tensor2D | null): { noise: tf.Tensor4D; v: tf.Tensor4D } {
    return tf.tidy(() => this.model.unet.predictNoiseAndVariance(x, tFraction, this.vectorsOf(x, context)));
  }

  dispose(): void {
    this.emptyCaption.dispose();
  }

  /** c = u + c("") per image (null: the empty caption's vector for all). */
  private vectorsOf(x: tf.Tensor4D, context: tf.Tensor2D | null): tf.Tensor2D {
    const n = x.shape[0];
    const width = this.emptyCaption.shape[1];
    if (context !== null && (context.rank !== 2 || context.shape[0] !== n || context.shape[1] !== width)) {
      throw new Error(
        `VectorContextModel: context has shape [${context.shape}], expected [${n}, ${width}]: one context vector per image, ` +
          "made by contextOf(vectors) from promptVectors or mixVectors (zeros: the empty caption).",
      );
    }
    return context === null ? (tf.tile(this.emptyCaption, [n, 1]) as tf.Tensor2D) : (tf.add(context, this.emptyCaption) as tf.Tensor2D);
  }
}
