/**
 * The sample-quality numbers the lessons print, each from the sprite classifier:
 * - context accuracy: of the samples drawn with one-hot context c, the share classified as c;
 * - SFD, the sprite Frechet distance: the Frechet distance between Gaussian fits of the
 *   classifier's penultimate features on generated and on held-out real sprites (an FID for
 *   sprites), beside its floor, the same distance between two disjoint real draws of the same size.
 * Finite samples put even two real draws a little apart (the floor grows as n shrinks), so an SFD
 * means something only next to the floor for the same n.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type SpriteClassifier, classifyImages } from "./classifier";
import { confusionMatrix } from "./classifierTraining";
import { type GaussianFit, fitGaussian, frechetDistance } from "./frechet";
import { type RealSpriteSet, heldOutRealSprites, realSpriteSet } from "./realSprites";

/** A Gaussian fit of the classifier's features on `images` [N, 16, 16, 3] in [-1, 1] (N >= 2). */
export async function featureFit(classifier: SpriteClassifier, images: tf.Tensor4D): Promise<GaussianFit> {
  const { features, count, featureSize } = await classifyImages(classifier, images);
  return fitGaussian(features, count, featureSize);
}

/**
 * SFD between two sets of sprites, each [N, 16, 16, 3] in [-1, 1] (sizes may differ, each >= 2):
 * the squared Frechet distance of their feature Gaussians. Lower is closer; compare it with
 * the floor at the same size (sfdAgainstHeldOut does both).
 */
export async function spriteFrechetDistance(classifier: SpriteClassifier, generated: tf.Tensor4D, real: tf.Tensor4D): Promise<number> {
  return frechetDistance(await featureFit(classifier, generated), await featureFit(classifier, real));
}

export interface SfdReport {
  /** SFD of the generated sprites against n held-out real ones. */
  sfd: number;
  /** SFD of a second, disjoint draw of n held-out real sprites against the same n. */
  sfdFloor: number;
  n: number;
  seed: number;
}

/**
 * SFD of `generated` [n, 16, 16, 3] against n held-out real sprites (drawn with `seed`), and
 * the real-vs-real floor for the same n. Needs 2n held-out sprites (n <= 4475 with the project's set).
 * Use n well above the 64 features (500 or more): with fewer samples the covariances are poorly
 * estimated, both numbers grow and the floor swings from draw to draw. Measured with the shipped
 * classifier: seed 0 gives 6.6 at n = 100, 19.2 at n = 200 and 2.1 at n = 1000; seeds 1-4 give
 * 5.0-36.5 at n = 100 and 6.9-17.3 at n = 200. Compare an SFD only with the floor of its own draw.
 */
export async function sfdAgainstHeldOut(classifier: SpriteClassifier, generated: tf.Tensor4D, seed = 0, set: RealSpriteSet = realSpriteSet()): Promise<SfdReport> {
  const n = generated.shape[0];
  const first = heldOutRealSprites(n, seed, 0, set);
  const second = heldOutRealSprites(n, seed, n, set);
  try {
    const reference = await featureFit(classifier, first.images);
    const sfd = frechetDistance(await featureFit(classifier, generated), reference);
    const sfdFloor = frechetDistance(await featureFit(classifier, second.images), reference);
    return { sfd, sfdFloor, n, seed };
  } finally {
    tf.dispose([first.images, first.labels, second.images, second.labels]);
  }
}

export interface ContextAccuracy {
  /** Per intended class c: share of its samples classified as c, or null if none was drawn for c. */
  perClass: Array<number | null>;
  /** Samples drawn per intended class. */
  counts: number[];
  /** Share of all samples classified as intended. */
  overall: number;
  /** confusion[intended][predicted] counts. */
  confusion: number[][];
}

/**
 * Context accuracy of `samples` [N, 16, 16, 3] drawn with one-hot contexts whose classes are
 * `intendedClasses` (length N, each 0..4): per class, the share the classifier assigns to it.
 * The same for a 28x28 set with its classifier: [N, 28, 28, C] samples, classes 0..K-1.
 */
export async function contextAccuracy(classifier: SpriteClassifier, samples: tf.Tensor4D, intendedClasses: ArrayLike<number>): Promise<ContextAccuracy> {
  const n = samples.shape[0];
  const classCount = classifier.config.classes;
  if (intendedClasses.length !== n) {
    throw new Error(`contextAccuracy: ${n} samples but ${intendedClasses.length} intended classes; pass the class of each sample's one-hot context.`);
  }
  for (let i = 0; i < n; i++) {
    const c = intendedClasses[i];
    if (!Number.isInteger(c) || c < 0 || c >= classCount) throw new Error(`contextAccuracy: intended class ${c} of sample ${i} is not a class index 0..${classCount - 1}.`);
  }
  const { classes } = await classifyImages(classifier, samples);
  const confusion = confusionMatrix(intendedClasses, classes, classCount);
  const counts = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const right = confusion.reduce((sum, row, c) => sum + row[c], 0);
  return { perClass: confusion.map((row, c) => (counts[c] > 0 ? row[c] / counts[c] : null)), counts, overall: right / n, confusion };
}

/** Share of `samples` the classifier assigns to each class (what an unconditional model draws). */
export async function classShares(classifier: SpriteClassifier, samples: tf.Tensor4D): Promise<number[]> {
  const { classes, count } = await classifyImages(classifier, samples);
  const shares = new Array<number>(classifier.config.classes).fill(0);
  for (const c of classes) shares[c] += 1 / count;
  return shares;
}
