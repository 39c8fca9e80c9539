/**
 * The Frechet distance of a 28x28 set (MNIST, textures), the sprite Frechet distance's twin: the
 * squared Frechet distance between Gaussian fits of the set's classifier's 64 penultimate
 * features on generated images and on the set's test images (which neither the classifier nor a
 * diffusion model trains on), beside its real-vs-real floor, the same distance between two
 * disjoint test draws of the same n. As with SFD, a value means something only next to the floor
 * of its own n and seed (see sfdAgainstHeldOut in evaluate.ts).
 */
import * as tf from "@tensorflow/tfjs-core";
import { epochOrder } from "../data/batches";
import { imageShapeOf, sampleTensors } from "../data/dataset";
import type { ImageSetName } from "../data/namedImageSets";
import { deriveSeed } from "../data/sprites/prng";
import { type Classification, type SpriteClassifier, classifyImages } from "./classifier";
import { fitGaussian, frechetDistance } from "./frechet";
import { checkClassifierFits, checkImagesFit, imageSetPart } from "./imageSetClassifier";
import { seededNormal } from "../seededNormal";

/** Test images of a set: the caller owns `images` and `labels`. */
export interface TestImages {
  /** [n, H, W, C] float32 in [-1, 1] (MNIST [n, 28, 28, 1], textures [n, 28, 28, 3]). */
  images: tf.Tensor4D;
  /** [n, K] one-hot. */
  labels: tf.Tensor2D;
  /** Index of each image in the test part. */
  indices: Int32Array;
}

/**
 * `n` test images of set `name` in a seeded order of the test part, drawn without replacement;
 * `offset` skips that many of the order, so (n, seed, 0) and (n, seed, n) are two disjoint draws
 * of the same size. MNIST's test part has 10,000 images, the textures' 6,000.
 */
export function testImages(name: ImageSetName, n: number, seed = 0, offset = 0): TestImages {
  const test = imageSetPart(name, "test");
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(offset) || offset < 0 || offset + n > test.count) {
    throw new Error(`testImages: asked for images ${offset}..${offset + n - 1} of the ${name} test part's order, which has ${test.count}; use n + offset <= ${test.count}.`);
  }
  // The seed derivation of the sprites' held-out draws (realSprites.ts), over the test part.
  const indices = epochOrder(test.count, deriveSeed(seed, 0x4e1d), 0).slice(offset, offset + n);
  return { ...sampleTensors(test, indices), indices };
}

export interface ImageSetFrechetReport {
  set: ImageSetName;
  /** Frechet distance of the generated images against n test images (drawn with `seed`). */
  fd: number;
  /** The same for a second, disjoint draw of n test images against the same n: the floor. */
  floor: number;
  n: number;
  seed: number;
}

/**
 * The Frechet distance of `generated` [n, 28, 28, C] in [-1, 1] (n >= 2; use 1000: with fewer
 * than about ten times the 64 features the fits are poor and both numbers grow) against n test
 * images of set `name`, and the real-vs-real floor at the same n, with `classifier`'s features
 * (the set's own: loadImageSetClassifier). Needs 2n test images. Throws when the classifier or
 * the images do not match the set. Frees every tensor it makes; `generated` stays the caller's.
 * Measured with models/classifier-<set> (`npm run set-frechet -- --set NAME --seed S`; seed 0 is
 * in the manifests): the floor at n = 1000 is 2.05 / 2.66 / 4.92 for MNIST with seeds 0 / 1 / 2,
 * 2.58 / 5.29 / 2.18 for the textures, and clipped noise scores 2300-2400 and about 1500.
 */
export async function frechetAgainstTestSet(classifier: SpriteClassifier, generated: tf.Tensor4D, name: ImageSetName, seed = 0): Promise<ImageSetFrechetReport> {
  return (await classifiedAgainstTestSet(classifier, generated, name, seed)).report;
}

/**
 * frechetAgainstTestSet's report with the classifier's readings it was computed from: of the
 * generated images and of the reference test draw (classes, confidences), for measures beside it.
 */
export async function classifiedAgainstTestSet(
  classifier: SpriteClassifier,
  generated: tf.Tensor4D,
  name: ImageSetName,
  seed = 0,
): Promise<{ report: ImageSetFrechetReport; generated: Classification; reference: Classification }> {
  checkClassifierFits(classifier, imageSetPart(name, "test"), true, `${name} test part`);
  checkImagesFit(classifier, generated.shape, "frechetAgainstTestSet: the generated images");
  const n = generated.shape[0];
  const first = testImages(name, n, seed, 0);
  const second = testImages(name, n, seed, n);
  try {
    const fit = (c: Classification) => fitGaussian(c.features, c.count, c.featureSize);
    const [reference, made, other] = [await classifyImages(classifier, first.images), await classifyImages(classifier, generated), await classifyImages(classifier, second.images)];
    const report = { set: name, fd: frechetDistance(fit(made), fit(reference)), floor: frechetDistance(fit(other), fit(reference)), n, seed };
    return { report, generated: made, reference };
  } finally {
    tf.dispose([first.images, first.labels, second.images, second.labels]);
  }
}

/**
 * A sanity reference: `n` images of standard Gaussian noise clipped to [-1, 1], shaped like set
 * `name`'s ([n, 28, 28, C]), from `seed`. Their distance to the test images must be far above
 * the floor. The same seed gives the same images. The caller owns the tensor.
 */
export function clippedNoiseImages(name: ImageSetName, n: number, seed = 0): tf.Tensor4D {
  const [h, w, c] = imageShapeOf(imageSetPart(name, "test"));
  // tfjs reads a seed of 0 as "no seed" (Math.random), so seed 0 is passed as 1.
  return tf.tidy(() => tf.clipByValue(seededNormal<tf.Rank.R4>([n, h, w, c], seed + 1), -1, 1) as tf.Tensor4D);
}
