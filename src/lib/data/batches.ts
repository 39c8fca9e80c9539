/**
 * Shuffled, seeded mini-batches over a SpriteDataset, and seeded train / held-out splits.
 *
 * An epoch is one pass in a permutation drawn from (seed, epoch): every sample appears exactly
 * once; the last, smaller batch is kept unless `dropLast`. The data stays in typed arrays; each
 * batch's tensors are made when it is yielded and belong to the caller, so at most one batch of
 * tensors exists beyond the data if the caller disposes each before taking the next.
 */
import type * as tf from "@tensorflow/tfjs-core";
import { Prng, deriveSeed } from "./sprites/prng";
import { sampleTensors, subsetDataset, type SpriteDataset } from "./dataset";

export interface BatchOptions {
  /** Samples per batch (the course uses 100). */
  batchSize: number;
  /** Seed of the shuffles. Default 0. */
  seed?: number;
  /** Which epoch's permutation to use; each epoch shuffles differently. Default 0. */
  epoch?: number;
  /** Shuffle (default true); false walks the samples in order. */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize. Default false (keep it). */
  dropLast?: boolean;
}

export interface SpriteBatch {
  /** [B, 16, 16, 3] float32 in [-1, 1], NHWC. Owned by the caller: dispose it. */
  images: tf.Tensor4D;
  /** [B, 5] float32 one-hot. Owned by the caller: dispose it. */
  labels: tf.Tensor2D;
  /** Which samples of the data set the batch holds. */
  indices: Int32Array;
}

/** The order samples are visited in an epoch: a seeded Fisher-Yates permutation of 0..count-1. */
export function epochOrder(count: number, seed: number, epoch: number): Int32Array {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  const prng = new Prng(deriveSeed(seed, 0xba7c, epoch));
  for (let i = count - 1; i > 0; i--) {
    const j = prng.int(i + 1);
    const held = order[i];
    order[i] = order[j];
    order[j] = held;
  }
  return order;
}

/** The stream `npm run train -- --subset N` (and train-ardm) draws its subset from (src/lib/metrics/trainingSet.ts rebuilds it). */
export const SUBSET_STREAM = 0x5b5e7;

/**
 * Which samples the seeded training subset of `size` of `count` holds: the first `size` of
 * epochOrder(count, seed, SUBSET_STREAM), in file order (ascending).
 */
export function seededSubsetIndices(count: number, size: number, seed: number): Int32Array {
  if (!Number.isInteger(size) || size < 1 || size > count) {
    throw new Error(`seededSubset: asked for ${size} samples of a data set of ${count}; pass a whole number in 1..${count}.`);
  }
  return epochOrder(count, seed, SUBSET_STREAM).slice(0, size).sort();
}

/**
 * The seeded training subset of `size` samples (seededSubsetIndices), kept in file order. Runs
 * with the same seed and size train on the same samples, so a checkpoint's manifest (seed, count,
 * fingerprint) says which ones they were.
 */
export function seededSubset(dataset: SpriteDataset, size: number, seed: number): SpriteDataset {
  return subsetDataset(dataset, seededSubsetIndices(dataset.count, size, seed));
}

/** Batches in one epoch: ceil(count / batchSize), or floor with dropLast. */
export function batchesPerEpoch(count: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** Yields one epoch of batches (see the module comment). */
export function* spriteBatches(dataset: SpriteDataset, options: BatchOptions): Generator<SpriteBatch, void, undefined> {
  const { batchSize, seed = 0, epoch = 0, shuffle = true, dropLast = false } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`spriteBatches: batchSize must be a positive integer, got ${batchSize}.`);
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`spriteBatches: epoch must be a non-negative integer, got ${epoch}.`);
  const order = shuffle ? epochOrder(dataset.count, seed, epoch) : Int32Array.from({ length: dataset.count }, (_, i) => i);
  const batches = batchesPerEpoch(dataset.count, batchSize, dropLast);
  for (let b = 0; b < batches; b++) {
    const indices = order.slice(b * batchSize, Math.min(dataset.count, (b + 1) * batchSize));
    yield { ...sampleTensors(dataset, indices), indices };
  }
}

export interface SplitOptions {
  /** Held-out share: a fraction in (0, 1), or a whole number of samples (>= 1). */
  heldOut: number;
  /** Seed of the split. Default 0. */
  seed?: number;
  /**
   * Consecutive samples that must stay on the same side (default 1). The project's files keep
   * each base sprite's variants together (50 per base): pass 50 so no base is in both parts.
   */
  groupSize?: number;
}

/**
 * A seeded split of 0..count-1 into train and held-out indices (each sorted ascending). Whole
 * groups of `groupSize` consecutive samples are held out; the held-out part has
 * round(heldOut x groups) groups for a fraction, or ceil(heldOut / groupSize) for a number.
 */
export function splitIndices(count: number, options: SplitOptions): { train: Int32Array; heldOut: Int32Array } {
  const { heldOut, seed = 0, groupSize = 1 } = options;
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new Error(`splitIndices: groupSize must be a positive integer, got ${groupSize}.`);
  const groups = Math.ceil(count / groupSize);
  const heldGroups = heldOut < 1 ? Math.round(heldOut * groups) : Math.ceil(heldOut / groupSize);
  if (!(heldOut > 0) || heldGroups < 1 || heldGroups >= groups) {
    throw new Error(`splitIndices: heldOut ${heldOut} of ${count} samples (${groups} groups of ${groupSize}) leaves an empty part; use a fraction in (0, 1) or a count between ${groupSize} and ${count - groupSize}.`);
  }
  const held = new Uint8Array(groups);
  for (const g of epochOrder(groups, deriveSeed(seed, 0x5b11), 0).subarray(0, heldGroups)) held[g] = 1;
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < count; i++) (held[Math.floor(i / groupSize)] ? test : train).push(i);
  return { train: Int32Array.from(train), heldOut: Int32Array.from(test) };
}
