/**
 * The procedural texture set: 28x28 RGB images of six classes (stripes, checks, dots, bricks,
 * waves, noise), each with its own seeded scale, angle, phase and pair of colours. Image i of a
 * set is class i mod 6 (the classes are balanced to within one) and is drawn from its own seed
 * deriveSeed(seed, stream, i), so any image can be made alone and the order never matters.
 */
import { Prng, deriveSeed } from "../sprites/prng";
import { bricks, checks, dots, noise, stripes, waves, type Pattern } from "./patterns";

export const TEXTURE_SIZE = 28;
export const TEXTURE_CHANNELS = 3;
export const TEXTURE_BYTES = TEXTURE_SIZE * TEXTURE_SIZE * TEXTURE_CHANNELS;
/** Bump when the bytes a seed makes change (the committed manifest then needs rewriting). */
export const TEXTURE_GENERATOR_VERSION = "textures-1";
export const TEXTURE_CLASS_NAMES: readonly string[] = ["stripes", "checks", "dots", "bricks", "waves", "noise"];
const PATTERNS: readonly Pattern[] = [stripes, checks, dots, bricks, waves, noise];

export interface TextureSetOptions {
  /** Seed of the whole set. Default 0. */
  seed?: number;
  /** Number of images. Default 6,000. */
  count?: number;
  /** Which stream of the seed: the train part uses 0 and the test part 1, so they never share an image. Default 0. */
  stream?: number;
}

export interface TextureSet {
  seed: number;
  count: number;
  /** uint8 RGB, [count, 28, 28, 3] flat in C order (NHWC), 0..255. */
  pixels: Uint8Array;
  /** Class index 0..5 of each image (TEXTURE_CLASS_NAMES). */
  classes: Uint8Array;
}

type Rgb = [number, number, number];

/** Luma (ITU-R BT.601) in 0..255, integer weights so it is exact. */
const luma = ([r, g, b]: Rgb): number => (299 * r + 587 * g + 114 * b) / 1000;

/**
 * A background and a foreground colour, uniform in RGB, redrawn until their lumas differ by at
 * least 80 of 255 (a texture must show); after 16 misses the foreground is black or white.
 */
function colourPair(prng: Prng): { background: Rgb; foreground: Rgb } {
  const colour = (): Rgb => [prng.int(256), prng.int(256), prng.int(256)];
  const background = colour();
  for (let attempt = 0; attempt < 16; attempt++) {
    const foreground = colour();
    if (Math.abs(luma(foreground) - luma(background)) >= 80) return { background, foreground };
  }
  return { background, foreground: luma(background) < 128 ? [255, 255, 255] : [0, 0, 0] };
}

/** One texture of class `classIndex` from its own seed: 28 * 28 * 3 bytes, RGB, row-major. */
export function renderTexture(imageSeed: number, classIndex: number): Uint8Array {
  const pattern = PATTERNS[classIndex];
  if (pattern === undefined) throw new Error(`renderTexture: class ${classIndex} is not one of 0..${PATTERNS.length - 1} (${TEXTURE_CLASS_NAMES.join(", ")}).`);
  const prng = new Prng(imageSeed);
  const { background, foreground } = colourPair(prng);
  const coverage = pattern(prng, TEXTURE_SIZE);
  const out = new Uint8Array(TEXTURE_BYTES);
  for (let p = 0; p < coverage.length; p++) {
    for (let c = 0; c < TEXTURE_CHANNELS; c++) {
      out[p * TEXTURE_CHANNELS + c] = Math.round(background[c] + coverage[p] * (foreground[c] - background[c]));
    }
  }
  return out;
}

/** Makes a texture set (see the module comment); the same options give the same bytes everywhere. */
export function generateTextureSet(options: TextureSetOptions = {}): TextureSet {
  const { seed = 0, count = 6000, stream = 0 } = options;
  for (const [name, value] of [["seed", seed], ["count", count], ["stream", stream]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`generateTextureSet: ${name} must be a non-negative integer, got ${value}.`);
  }
  const pixels = new Uint8Array(count * TEXTURE_BYTES);
  const classes = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    classes[i] = i % PATTERNS.length;
    pixels.set(renderTexture(deriveSeed(seed, stream, i), classes[i]), i * TEXTURE_BYTES);
  }
  return { seed, count, pixels, classes };
}
