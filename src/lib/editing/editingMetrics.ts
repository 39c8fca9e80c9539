/**
 * Measures and pictures for inpainting that need no person to judge them. Images are
 * [N, H, W, 3] NHWC in [-1, 1]; distances are reported in pixel units of [0, 1], i.e. a
 * difference of [-1, 1] values divided by 2, so 1 is black against white.
 *
 * Pixels are picked by index lists computed once on the CPU from `mask.known` and gathered from
 * the images flattened to [N, H W, 3]; the other pixels never enter the arithmetic, so whatever
 * they hold (even NaN) cannot leak into a score or a fill.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type InpaintMask, checkMaskFits, maskTensor } from "./masks";

/** The grey checkerboard drawn over unknown pixels by `maskedInput`, in [-1, 1]. */
const CHECKER_LIGHT = 0.1;
const CHECKER_DARK = -0.1;

/** Magenta in [-1, 1] and how far `overlayMask` blends unknown pixels towards it. */
const MAGENTA = [1, -1, 1];
const TINT = 0.3;

/** Throws unless `images` are [N, H, W, 3] and fit `mask`. */
function checkImages(caller: string, images: tf.Tensor4D, mask: InpaintMask): void {
  checkMaskFits(mask, images);
  if (images.shape[3] !== 3) throw new Error(`${caller}: images have shape [${images.shape}]; expected [N, ${mask.height}, ${mask.width}, 3] RGB.`);
}

/** Flat indices y * W + x of the pixels whose known value is `value` (1 known, 0 unknown). */
function pixelIndices(mask: InpaintMask, value: 0 | 1): number[] {
  const indices: number[] = [];
  mask.known.forEach((k, i) => {
    if (k === value) indices.push(i);
  });
  return indices;
}

/**
 * Every unordered pair of 4-neighbours with one pixel known and the other unknown, as two
 * parallel lists of flat indices (each pair counted once: right and down neighbours only).
 */
function seamPairs(mask: InpaintMask): { known: number[]; unknown: number[] } {
  const { height, width, known } = mask;
  const pairs = { known: [] as number[], unknown: [] as number[] };
  const visit = (a: number, b: number): void => {
    if (known[a] === known[b]) return;
    pairs.known.push(known[a] === 1 ? a : b);
    pairs.unknown.push(known[a] === 1 ? b : a);
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (x + 1 < width) visit(i, i + 1);
      if (y + 1 < height) visit(i, i + width);
    }
  }
  return pairs;
}

/** [N, P, 3] the pixels at flat `indices` of each image. Call inside tidy. */
function gatherPixels(images: tf.Tensor4D, indices: number[]): tf.Tensor3D {
  const [n, height, width, channels] = images.shape;
  const flat = tf.reshape(images, [n, height * width, channels]);
  return tf.gather(flat, tf.tensor1d(indices, "int32"), 1) as tf.Tensor3D;
}

/**
 * RMSE over the unknown pixels only (all channels), pooled over the batch, in [0, 1] units:
 *   sqrt( mean over images, unknown pixels p and channels c of ((completed - truth) / 2)^2 ).
 * No clipping: values outside [-1, 1] count as they are. Throws if the mask hides no pixel.
 */
export async function unknownPixelRmse(completed: tf.Tensor4D, truth: tf.Tensor4D, mask: InpaintMask): Promise<number> {
  checkImages("unknownPixelRmse", truth, mask);
  if (completed.shape.join(",") !== truth.shape.join(",")) {
    throw new Error(`unknownPixelRmse: completed has shape [${completed.shape}] but truth has [${truth.shape}]; they must match.`);
  }
  const unknown = pixelIndices(mask, 0);
  if (unknown.length === 0) throw new Error(`unknownPixelRmse: mask "${mask.name}" hides no pixel, so there is nothing to score.`);
  const rmse = tf.tidy(() => {
    const difference = tf.div(tf.sub(gatherPixels(completed, unknown), gatherPixels(truth, unknown)), 2);
    return tf.sqrt(tf.mean(tf.square(difference)));
  });
  const value = (await rmse.data())[0];
  rmse.dispose();
  return value;
}

/**
 * Seam score: over every pair of 4-neighbour pixels where one is known and the other unknown,
 * the mean over channels of |a - b|, averaged over all such pairs and the batch, in [0, 1]
 * units. Computed on real sprites with the same mask it is the floor a perfect completion would
 * have: a completion scoring far above it leaves a visible edge along the mask. Throws if the
 * mask has no known/unknown boundary.
 */
export async function seamScore(images: tf.Tensor4D, mask: InpaintMask): Promise<number> {
  checkImages("seamScore", images, mask);
  const pairs = seamPairs(mask);
  if (pairs.known.length === 0) {
    throw new Error(`seamScore: mask "${mask.name}" has no pixel known next to one unknown, so there is no seam; use a mask with both kinds.`);
  }
  const score = tf.tidy(() => tf.div(tf.mean(tf.abs(tf.sub(gatherPixels(images, pairs.known), gatherPixels(images, pairs.unknown)))), 2));
  const value = (await score.data())[0];
  score.dispose();
  return value;
}

/** [1, H, W, 1] bool, true where the mask keeps the pixel. Call inside tidy. */
function knownCondition(mask: InpaintMask): tf.Tensor4D {
  return tf.cast(maskTensor(mask, 1), "bool") as tf.Tensor4D;
}

/**
 * The trivial baseline a learned completion must beat: every unknown pixel set to the mean
 * colour of that sprite's known pixels; known pixels are copied bit for bit.
 * @returns [N, H, W, 3] in the images' range, owned by the caller. Throws if no pixel is known.
 */
export function meanColourFill(images: tf.Tensor4D, mask: InpaintMask): tf.Tensor4D {
  checkImages("meanColourFill", images, mask);
  const known = pixelIndices(mask, 1);
  if (known.length === 0) throw new Error(`meanColourFill: mask "${mask.name}" keeps no pixel, so there is no known colour to fill with.`);
  return tf.tidy(() => {
    const meanColour = tf.reshape(tf.mean(gatherPixels(images, known), 1), [images.shape[0], 1, 1, 3]);
    return tf.where(knownCondition(mask), images, meanColour) as tf.Tensor4D; // where broadcasts all three
  });
}

/**
 * For display: the known pixels of each image as they are, the unknown ones drawn as a grey
 * checkerboard (0.1 where x + y is even, -0.1 where odd, in [-1, 1]), the way an editor shows a
 * hole. Returns [N, H, W, 3], owned by the caller.
 */
export function maskedInput(images: tf.Tensor4D, mask: InpaintMask): tf.Tensor4D {
  checkImages("maskedInput", images, mask);
  const { height, width } = mask;
  const checker = Float32Array.from({ length: height * width }, (_, i) => ((Math.floor(i / width) + (i % width)) % 2 === 0 ? CHECKER_LIGHT : CHECKER_DARK));
  return tf.tidy(() => tf.where(knownCondition(mask), images, tf.tensor4d(checker, [1, height, width, 1])) as tf.Tensor4D);
}

/**
 * For display: the images with the unknown region tinted, 0.7 x + 0.3 magenta, so a grid of
 * completions shows where the mask was; known pixels are copied unchanged. Returns
 * [N, H, W, 3], owned by the caller.
 */
export function overlayMask(images: tf.Tensor4D, mask: InpaintMask): tf.Tensor4D {
  checkImages("overlayMask", images, mask);
  return tf.tidy(() => {
    const tinted = tf.add(tf.mul(images, 1 - TINT), tf.mul(tf.tensor4d(MAGENTA, [1, 1, 1, 3]), TINT));
    return tf.where(knownCondition(mask), images, tinted) as tf.Tensor4D;
  });
}
