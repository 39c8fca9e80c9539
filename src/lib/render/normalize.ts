/**
 * The course's two display normalisations, from model-space floats to 8-bit RGB.
 *
 * Both work on plain NHWC float data (no tensors): `pixels` holds `count` images of
 * `height x width x channels`, channel fastest, and `channels` is 3 (RGB) or 1 (grey, shown as
 * three equal channels). The result is always RGB: `count * height * width * 3` bytes.
 *
 * - "clip"   (static grids): v = (clamp(x, -1, 1) + 1) / 2, the inverse of the data scaling
 *            x = 2 v - 1 applied when sprites were loaded.
 * - "minmax" (the course's animations, its `unorm`/`norm_all`): each image's each channel is
 *            stretched to fill [0, 1]: v = (x - min_c) / (max_c - min_c), min and max over that
 *            image's pixels. It shows structure in early, noisy frames whose values lie far
 *            outside [-1, 1], at the cost of hiding absolute colour. A constant channel
 *            (max = min) would divide by zero in the course's code; here it falls back to
 *            "clip" for that channel, so a flat colour stays that colour instead of NaN.
 *
 * Bytes are round(255 v), with v in [0, 1].
 */

/** Which display mapping to apply: see the module comment. */
export type Normalization = "clip" | "minmax";

export const NORMALIZATIONS: readonly Normalization[] = ["clip", "minmax"];

/** NHWC extent of a batch of images held in a flat array. */
export interface ImageBatchShape {
  count: number;
  height: number;
  width: number;
  /** 3 for RGB, 1 for grey. */
  channels: number;
}

/** Throws unless `shape` is a positive NHWC extent with 1 or 3 channels matching `pixels`. */
export function assertImageBatch(pixels: ArrayLike<number>, shape: ImageBatchShape, what: string): void {
  const { count, height, width, channels } = shape;
  for (const [name, size] of Object.entries({ count, height, width })) {
    if (!Number.isInteger(size) || size < 1) {
      throw new Error(`${what}: ${name} must be a positive integer, got ${size}; pass a non-empty NHWC batch.`);
    }
  }
  if (channels !== 3 && channels !== 1) {
    throw new Error(
      `${what}: images must have 3 channels (RGB, NHWC) or 1 (grey), got ${channels} ` +
        `(shape [${count}, ${height}, ${width}, ${channels}]); for NCHW data transpose to NHWC first.`,
    );
  }
  const expected = count * height * width * channels;
  if (pixels.length !== expected) {
    const shapeText = `[${count}, ${height}, ${width}, ${channels}]`;
    throw new Error(`${what}: ${pixels.length} values do not fill shape ${shapeText} (${expected}).`);
  }
}

/**
 * Throws at the first NaN or infinite value, naming the image, pixel and channel, since one
 * such value means the sampler or model diverged and any picture of it would mislead.
 */
export function assertFinitePixels(pixels: ArrayLike<number>, shape: ImageBatchShape, what: string): void {
  for (let i = 0; i < pixels.length; i++) {
    const value = pixels[i];
    if (Number.isFinite(value)) continue;
    const { height, width, channels } = shape;
    const channel = i % channels;
    const x = Math.floor(i / channels) % width;
    const y = Math.floor(i / (channels * width)) % height;
    const image = Math.floor(i / (channels * width * height));
    throw new Error(
      `${what}: image ${image}, pixel (y=${y}, x=${x}), channel ${channel} is ${value}; ` +
        `images must be finite. The model or sampler diverged (check the learning rate, the ` +
        `schedule and the checkpoint) or the tensor was never filled.`,
    );
  }
}

/** round(255 v) for v in [0, 1], clamped so float error cannot wrap past 0 or 255. */
function toByte(unit: number): number {
  return Math.min(255, Math.max(0, Math.round(unit * 255)));
}

/** "clip": v = (clamp(x, -1, 1) + 1) / 2. */
export function clipToUnit(x: number): number {
  return (Math.min(1, Math.max(-1, x)) + 1) / 2;
}

/**
 * Maps a batch of NHWC float images to 8-bit RGB with the chosen normalisation.
 * Returns a new `Uint8Array` of `count * height * width * 3` bytes (NHWC, RGB).
 * Throws on a bad shape or any non-finite value.
 */
export function normalizeToRgbBytes(
  pixels: ArrayLike<number>,
  shape: ImageBatchShape,
  normalization: Normalization,
): Uint8Array {
  const what = `normalize(${JSON.stringify(normalization)})`;
  if (!NORMALIZATIONS.includes(normalization)) {
    throw new Error(`Unknown normalization ${JSON.stringify(normalization)}; use one of ${NORMALIZATIONS.join(", ")}.`);
  }
  assertImageBatch(pixels, shape, what);
  assertFinitePixels(pixels, shape, what);
  const { count, height, width, channels } = shape;
  const pixelsPerImage = height * width;
  const out = new Uint8Array(count * pixelsPerImage * 3);
  for (let image = 0; image < count; image++) {
    const base = image * pixelsPerImage * channels;
    for (let c = 0; c < channels; c++) {
      const map = normalization === "clip" ? clipToUnit : minMaxStretch(pixels, base, pixelsPerImage, channels, c);
      for (let p = 0; p < pixelsPerImage; p++) {
        const byte = toByte(map(pixels[base + p * channels + c]));
        const target = (image * pixelsPerImage + p) * 3;
        // A grey image (channels = 1) writes its one channel into R, G and B.
        if (channels === 1) out.fill(byte, target, target + 3);
        else out[target + c] = byte;
      }
    }
  }
  return out;
}

/**
 * "minmax" for one channel of one image: v = (x - min) / (max - min) over its pixels
 * (the course's `unorm`); a constant channel falls back to `clipToUnit`.
 */
function minMaxStretch(
  pixels: ArrayLike<number>,
  base: number,
  pixelCount: number,
  channels: number,
  channel: number,
): (x: number) => number {
  let min = Infinity;
  let max = -Infinity;
  for (let p = 0; p < pixelCount; p++) {
    const x = pixels[base + p * channels + channel];
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const range = max - min;
  if (!(range > 0)) return clipToUnit;
  return (x: number) => (x - min) / range;
}
