/**
 * How varied a set of sprites is, and how close each lies to the training set, in pixel space.
 * The distance between two sprites is their RMS pixel difference on the [-1, 1] scale,
 *   dist(a, b) = sqrt(mean_p (a_p - b_p)^2)   over the 16 x 16 x 3 values,
 * so 0 means identical and 2 is the largest possible. Images are clipped to [-1, 1] first, as
 * they are shown. Squared distances come from one matrix product,
 *   ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a . b,
 * in chunks, so 1000 samples against 89,400 training sprites stay within memory.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type SpriteDataset, sampleTensors } from "../data/dataset";
import { yieldToEventLoop } from "./classifier";

/**
 * Two sprites closer than this RMS distance count as near-duplicates: 0.05 is 2.5 % of the
 * [-1, 1] range, the size of the smallest jitters (a background tint, a small palette shift)
 * between variants of one base sprite: about a fifth of the variant pairs in the project's set
 * are this close, the median pair is 0.07 apart and two different sprites typically 0.9.
 */
export const NEAR_DUPLICATE_DISTANCE = 0.05;

/** Rows of the distance matrix computed at once. */
const CHUNK = 1000;

/** [N, P] flattened images clipped to [-1, 1]. */
function flatClipped(images: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => tf.reshape(tf.clipByValue(images, -1, 1), [images.shape[0], -1]) as tf.Tensor2D);
}

/** [A, B] RMS distances between the rows of a [A, P] and b [B, P]. The caller owns the result. */
export function rmsDistanceMatrix(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const pixels = a.shape[1];
    const aa = tf.sum(tf.square(a), 1, true); // [A, 1]
    const bb = tf.reshape(tf.sum(tf.square(b), 1), [1, -1]); // [1, B]
    const squared = tf.sub(tf.add(aa, bb), tf.mul(tf.matMul(a, b, false, true), 2));
    return tf.sqrt(tf.div(tf.relu(squared), pixels)) as tf.Tensor2D; // relu: rounding can dip below 0
  });
}

export interface DiversityReport {
  count: number;
  /** Mean RMS distance over all pairs i < j (0: all identical). */
  meanPairwiseDistance: number;
  /** Share of samples with another sample closer than `threshold`. */
  nearDuplicateShare: number;
  /** Mean over samples of the distance to the closest other sample. */
  meanNearestOtherDistance: number;
  threshold: number;
}

/**
 * Diversity of `samples` [N, 16, 16, 3] (N >= 2): mean pairwise distance and the share of
 * near-duplicates. A sampler that collapses (DDPM without its added noise) scores low on the
 * first and high on the second. `samples` stays the caller's.
 */
export async function diversity(samples: tf.Tensor4D, threshold = NEAR_DUPLICATE_DISTANCE): Promise<DiversityReport> {
  const n = samples.shape[0];
  if (n < 2) throw new Error(`diversity: needs at least 2 samples, got ${n}.`);
  const flat = flatClipped(samples);
  let pairSum = 0;
  const nearest = new Float64Array(n).fill(Infinity);
  try {
    for (let start = 0; start < n; start += CHUNK) {
      const rows = Math.min(CHUNK, n - start);
      const block = tf.tidy(() => rmsDistanceMatrix(tf.slice(flat, [start, 0], [rows, -1]), flat));
      const values = await block.data();
      block.dispose();
      await yieldToEventLoop();
      for (let r = 0; r < rows; r++) {
        const i = start + r;
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          const d = values[r * n + j];
          if (j > i) pairSum += d;
          if (d < nearest[i]) nearest[i] = d;
        }
      }
    }
  } finally {
    flat.dispose();
  }
  const nearDuplicates = nearest.reduce((count, d) => count + (d < threshold ? 1 : 0), 0);
  return {
    count: n,
    meanPairwiseDistance: pairSum / ((n * (n - 1)) / 2),
    nearDuplicateShare: nearDuplicates / n,
    meanNearestOtherDistance: nearest.reduce((a, b) => a + b, 0) / n,
    threshold,
  };
}

/**
 * For each of `samples` [N, 16, 16, 3], the RMS distance to its nearest sprite among
 * `reference` (a data set, optionally restricted to `indices`), scanned in chunks.
 */
export async function nearestNeighbourDistances(samples: tf.Tensor4D, reference: SpriteDataset, indices?: ArrayLike<number>, chunk = 4000): Promise<Float32Array> {
  const total = indices ? indices.length : reference.count;
  if (total < 1) throw new Error("nearestNeighbourDistances: the reference set is empty.");
  const flat = flatClipped(samples);
  let nearest: tf.Tensor1D = tf.fill([samples.shape[0]], Infinity);
  try {
    for (let start = 0; start < total; start += chunk) {
      const chunkIndices = Array.from({ length: Math.min(chunk, total - start) }, (_, k) => (indices ? indices[start + k] : start + k));
      const { images, labels } = sampleTensors(reference, chunkIndices);
      const next = tf.tidy(() => {
        const distances = rmsDistanceMatrix(flat, tf.reshape(images, [chunkIndices.length, -1]) as tf.Tensor2D);
        return tf.minimum(nearest, tf.min(distances, 1)) as tf.Tensor1D;
      });
      tf.dispose([images, labels, nearest]);
      nearest = next;
      await yieldToEventLoop();
    }
    return (await nearest.data()) as Float32Array;
  } finally {
    tf.dispose([flat, nearest]);
  }
}

/** Mean, median and the share below `threshold` of a list of distances. */
export function summariseDistances(distances: ArrayLike<number>, threshold = NEAR_DUPLICATE_DISTANCE): { mean: number; median: number; min: number; shareBelowThreshold: number; threshold: number } {
  const sorted = Float64Array.from(distances).sort();
  const n = sorted.length;
  const median = n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return {
    mean: sorted.reduce((a, b) => a + b, 0) / n,
    median,
    min: sorted[0],
    shareBelowThreshold: sorted.filter((d) => d < threshold).length / n,
    threshold,
  };
}
