/**
 * The sprite data set in memory: uint8 pixels and class indices in typed arrays (no tensors), read
 * from an images .npy and a labels .npy in the course's format, checked to agree. Tensors are
 * made only for the samples asked for (`sampleTensors`), mapping pixels to [-1, 1].
 *
 * Formats accepted: images uint8 (N, 16, 16, 3) NHWC RGB; labels (N, 5) one-hot, float64 (the
 * course's), float32 or uint8. Both the project's files (data/sprites) and the course's
 * sprites_1788_16x16.npy / sprite_labels_nc_1788_16x16.npy load the same way. Images without
 * labels load too (`loadImagesOnlyDataset`), for unconditional training on one's own sprites.
 *
 * Other image sets (MNIST's 28x28x1 digits, the 28x28x3 textures) load through the same type with
 * `loadImageDataset`, which takes any (N, H, W, C) uint8 images and (N, K) one-hot labels and
 * records H, W, C and K in the data set (`imageShape`, `classCount`); without them a data set is
 * the sprites' 16x16x3 with 5 classes.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createHash } from "node:crypto";
import { formatShape, readNpy, type NpyArray } from "./npy";

export const SPRITE_HEIGHT = 16;
export const SPRITE_WIDTH = 16;
export const SPRITE_CHANNELS = 3;
export const SPRITE_PIXELS = SPRITE_HEIGHT * SPRITE_WIDTH * SPRITE_CHANNELS;
/** Classes of the course's labels: 0 hero, 1 non-hero, 2 food, 3 spells & weapons, 4 side-facing. */
export const SPRITE_CLASSES = 5;

export interface SpriteDataset {
  /** Number of sprites N. */
  readonly count: number;
  /** uint8 RGB, [N, 16, 16, 3] flat in C order (NHWC), 0..255. */
  readonly pixels: Uint8Array;
  /** The class index 0..4 of each sprite (the position of the 1 in its one-hot label). */
  readonly classes: Uint8Array;
  /**
   * Where the data came from, for messages and manifests; labels is null for images without labels
   * (every class index is then 0, and sampleTensors gives all-zero label rows: no context).
   */
  readonly source: { readonly images: string; readonly labels: string | null };
  /** [height, width, channels] of every image; absent means the sprites' [16, 16, 3]. */
  readonly imageShape?: readonly [number, number, number];
  /** Number of classes K of the one-hot labels; absent means the sprites' 5. */
  readonly classCount?: number;
}

/** [height, width, channels] of a data set's images (the sprites' [16, 16, 3] unless it says). */
export function imageShapeOf(dataset: SpriteDataset): readonly [number, number, number] {
  return dataset.imageShape ?? [SPRITE_HEIGHT, SPRITE_WIDTH, SPRITE_CHANNELS];
}

/** Classes of a data set's labels (the sprites' 5 unless it says). */
export function classCountOf(dataset: SpriteDataset): number {
  return dataset.classCount ?? SPRITE_CLASSES;
}

const pixelsPerImage = (dataset: SpriteDataset): number => imageShapeOf(dataset).reduce((a, b) => a * b, 1);

/** Loads and checks an images .npy and a labels .npy (see the module comment). */
export function loadSpriteDataset(imagesPath: string, labelsPath: string): SpriteDataset {
  return spriteDatasetFromArrays(readNpy(imagesPath), readNpy(labelsPath), { images: imagesPath, labels: labelsPath });
}

/**
 * Loads and checks an images .npy alone (uint8 (N, 16, 16, 3), like the course's sprites file):
 * a data set without labels, for unconditional training. Its label rows are all zero.
 */
export function loadImagesOnlyDataset(imagesPath: string): SpriteDataset {
  const images = readNpy(imagesPath);
  const count = checkImages(images, imagesPath);
  return { count, pixels: images.data as Uint8Array, classes: new Uint8Array(count), source: { images: imagesPath, labels: null } };
}

/** Throws unless `images` is uint8 (N, 16, 16, 3); returns N. */
function checkImages(images: NpyArray, source: string): number {
  const expectedImages = `(N, ${SPRITE_HEIGHT}, ${SPRITE_WIDTH}, ${SPRITE_CHANNELS})`;
  if (images.dtype !== "uint8") {
    throw new Error(`${source}: images must be uint8 ${expectedImages} RGB 0..255, got dtype ${images.dtype}; in NumPy: arr = np.clip(arr, 0, 255).astype(np.uint8).`);
  }
  const [count, height, width, channels] = images.shape;
  if (images.shape.length !== 4 || height !== SPRITE_HEIGHT || width !== SPRITE_WIDTH || channels !== SPRITE_CHANNELS) {
    throw new Error(`${source}: wrong shape ${formatShape(images.shape)} for images; expected ${expectedImages} (NHWC, RGB last). Is it NCHW? transpose with arr.transpose(0, 2, 3, 1).`);
  }
  return count;
}

/** Checks two arrays already in memory; `source` names them in error messages. */
export function spriteDatasetFromArrays(
  images: NpyArray,
  labels: NpyArray,
  source: { images: string; labels: string } = { images: "<images>", labels: "<labels>" },
): SpriteDataset {
  const count = checkImages(images, source.images);
  if (labels.shape.length !== 2 || labels.shape[1] !== SPRITE_CLASSES) {
    throw new Error(`${source.labels}: wrong shape ${formatShape(labels.shape)} for labels; expected (N, ${SPRITE_CLASSES}) one-hot rows (0 hero, 1 non-hero, 2 food, 3 spells & weapons, 4 side-facing).`);
  }
  if (labels.shape[0] !== count) {
    throw new Error(`${source.labels}: has ${labels.shape[0]} labels but ${source.images} has ${count} images; the files do not belong together (pass the labels file saved with these images).`);
  }
  return { count, pixels: images.data as Uint8Array, classes: oneHotToClasses(labels, source.labels), source };
}

/**
 * Loads and checks an images .npy and a labels .npy of any size: images uint8 (N, H, W, C) NHWC,
 * C = 1 (grey) or 3 (RGB), 0..255; labels (N, K) one-hot (uint8, float32 or float64), K <= 255.
 * The data set records [H, W, C] and K, so `sampleTensors` makes [B, H, W, C] and [B, K] tensors.
 */
export function loadImageDataset(imagesPath: string, labelsPath: string): SpriteDataset {
  return imageDatasetFromArrays(readNpy(imagesPath), readNpy(labelsPath), { images: imagesPath, labels: labelsPath });
}

/** `loadImageDataset` on two arrays already in memory; `source` names them in error messages. */
export function imageDatasetFromArrays(images: NpyArray, labels: NpyArray, source: { images: string; labels: string } = { images: "<images>", labels: "<labels>" }): SpriteDataset {
  const [count, height, width, channels] = images.shape;
  if (images.dtype !== "uint8" || images.shape.length !== 4 || (channels !== 1 && channels !== 3)) {
    throw new Error(`${source.images}: images must be uint8 (N, H, W, C) NHWC with C = 1 (grey) or 3 (RGB), got ${images.dtype} ${formatShape(images.shape)}.`);
  }
  const classCount = labels.shape[1];
  if (labels.shape.length !== 2 || !(classCount >= 1 && classCount <= 255)) {
    throw new Error(`${source.labels}: wrong shape ${formatShape(labels.shape)} for labels; expected (N, K) one-hot rows with 1 <= K <= 255.`);
  }
  if (labels.shape[0] !== count) {
    throw new Error(`${source.labels}: has ${labels.shape[0]} labels but ${source.images} has ${count} images; the files do not belong together (pass the labels file saved with these images).`);
  }
  const classes = oneHotToClasses(labels, source.labels, classCount);
  return { count, pixels: images.data as Uint8Array, classes, source, imageShape: [height, width, channels], classCount };
}

/** The index of the single 1 in each row of k; throws at the first row that is not one-hot. */
function oneHotToClasses(labels: NpyArray, source: string, k: number = SPRITE_CLASSES): Uint8Array {
  const classes = new Uint8Array(labels.shape[0]);
  for (let i = 0; i < classes.length; i++) {
    let hot = -1;
    let valid = true;
    for (let j = 0; j < k; j++) {
      const v = labels.data[i * k + j];
      if (v === 1 && hot === -1) hot = j;
      else if (v !== 0) valid = false;
    }
    if (!valid || hot === -1) {
      const row = Array.from(labels.data.subarray(i * k, i * k + k)).join(", ");
      throw new Error(`${source}: label row ${i} is [${row}], not one-hot (exactly one 1, the rest 0); the loader needs one class per sprite.`);
    }
    classes[i] = hot;
  }
  return classes;
}

/** Samples per class, [count of class 0, ..., count of class K - 1]. */
export function countClasses(dataset: SpriteDataset): number[] {
  const counts = new Array<number>(classCountOf(dataset)).fill(0);
  for (const c of dataset.classes) counts[c]++;
  return counts;
}

/** A new data set holding the given samples, in the given order (the typed arrays are copied). */
export function subsetDataset(dataset: SpriteDataset, indices: ArrayLike<number>): SpriteDataset {
  const size = pixelsPerImage(dataset);
  const pixels = new Uint8Array(indices.length * size);
  const classes = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    checkIndex(dataset, index, "subsetDataset");
    pixels.set(dataset.pixels.subarray(index * size, (index + 1) * size), i * size);
    classes[i] = dataset.classes[index];
  }
  return { ...dataset, count: indices.length, pixels, classes };
}

/**
 * A short fingerprint of the data for checkpoint manifests: the first 16 hex digits of
 * sha256(pixels bytes || class-index bytes). Independent of the labels file's dtype.
 */
export function fingerprint(dataset: SpriteDataset): string {
  return createHash("sha256").update(dataset.pixels).update(dataset.classes).digest("hex").slice(0, 16);
}

/** uint8 -> [-1, 1] as the course's ToTensor + Normalize(0.5, 0.5): (v / 255 - 0.5) / 0.5. */
const UNIT_RANGE = Float32Array.from({ length: 256 }, (_, v) => (v / 255 - 0.5) / 0.5);

/**
 * One-hot context vectors [N, classCount] float32 for class indices (each 0..classCount-1): the
 * contexts a sampler is given and the labels a batch carries. The caller owns the tensor.
 */
export function oneHotContexts(classes: ArrayLike<number>, classCount: number = SPRITE_CLASSES): tf.Tensor2D {
  for (let i = 0; i < classes.length; i++) {
    const c = classes[i];
    if (!Number.isInteger(c) || c < 0 || c >= classCount) {
      throw new Error(`oneHotContexts: class ${c} at position ${i} is not a class index 0..${classCount - 1}.`);
    }
  }
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Array.from(classes), "int32"), classCount), "float32") as tf.Tensor2D);
}

/**
 * Tensors for the given samples: images [B, H, W, C] float32 in [-1, 1] (NHWC; the sprites'
 * [B, 16, 16, 3]) and one-hot labels [B, K] float32 (the sprites' K = 5; all-zero rows for a data
 * set without labels). The caller owns both.
 */
export function sampleTensors(dataset: SpriteDataset, indices: ArrayLike<number>): { images: tf.Tensor4D; labels: tf.Tensor2D } {
  const n = indices.length;
  const size = pixelsPerImage(dataset);
  const classCount = classCountOf(dataset);
  const images = new Float32Array(n * size);
  const classes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const index = indices[i];
    checkIndex(dataset, index, "sampleTensors");
    const from = index * size;
    for (let p = 0; p < size; p++) images[i * size + p] = UNIT_RANGE[dataset.pixels[from + p]];
    classes[i] = dataset.classes[index];
  }
  return {
    images: tf.tensor4d(images, [n, ...imageShapeOf(dataset)]),
    labels: dataset.source.labels === null ? (tf.zeros([n, classCount]) as tf.Tensor2D) : oneHotContexts(classes, classCount),
  };
}

function checkIndex(dataset: SpriteDataset, index: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= dataset.count) {
    throw new Error(`${what}: sample index ${index} is outside 0..${dataset.count - 1} of ${dataset.source.images}.`);
  }
}
