/**
 * Inpainting masks: which pixels of a sprite are known (kept from the image) and which are
 * unknown (to be generated). A mask is a plain object holding one 0/1 value per pixel, row-major,
 *   known[y * width + x] = 1  keep pixel (x, y) from the image,
 *                          0  generate it,
 * the same for every channel and every image of a batch. Presets are named after the region they
 * HIDE: "left-half" hides the left half and keeps the right.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Prng } from "../data/sprites/prng";

/** Preset names describe the region that is HIDDEN (to be generated). */
export type MaskPreset = "left-half" | "right-half" | "centre-square" | "border" | "random-half" | "stripes";

export const MASK_PRESETS: readonly MaskPreset[] = Object.freeze(["left-half", "right-half", "centre-square", "border", "random-half", "stripes"] as MaskPreset[]);

/** known[y * width + x] = 1 for a known pixel kept from the image, 0 for an unknown one to generate. */
export interface InpaintMask {
  readonly name: string;
  readonly height: number;
  readonly width: number;
  readonly known: Float32Array;
}

/** The sprites' side; presets and user masks default to it. */
const DEFAULT_SIZE = 16;

/** A size x size mask whose pixel (x, y) is known when `isKnown(x, y)`. */
function maskWhere(name: string, size: number, isKnown: (x: number, y: number) => boolean): InpaintMask {
  const known = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) known[y * size + x] = isKnown(x, y) ? 1 : 0;
  return { name, height: size, width: size, known };
}

/**
 * A preset mask at `size` (default 16; any even size >= 4, regions scale with it):
 * - "left-half": hides columns 0 .. size/2 - 1; "right-half": columns size/2 .. size - 1.
 * - "centre-square": hides the central (size/2)^2 square, rows and columns
 *   floor(size/4) .. floor(size/4) + size/2 - 1 (4..11 at 16).
 * - "border": the complement of centre-square: hides a frame a quarter of the size wide and keeps
 *   the central square (outpainting).
 * - "random-half": hides exactly size^2 / 2 pixels picked by a Fisher-Yates shuffle seeded with
 *   `seed` (default 0), so a seed always gives the same mask.
 * - "stripes": hides every other row, rows 1, 3, 5, ... (one-pixel stripes).
 */
export function maskPreset(name: string, options: { size?: number; seed?: number } = {}): InpaintMask {
  const size = options.size ?? DEFAULT_SIZE;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(size) || size < 4 || size % 2 !== 0) {
    throw new Error(`maskPreset: size must be an even integer >= 4 (the sprites are 16), got ${size}.`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`maskPreset: seed must be an integer in 0..2^32-1, got ${seed}.`);
  }
  const half = size / 2;
  const lo = Math.floor(size / 4); // first row and column of the central square
  const inCentre = (x: number, y: number): boolean => x >= lo && x < lo + half && y >= lo && y < lo + half;
  switch (name as MaskPreset) {
    case "left-half":
      return maskWhere(name, size, (x) => x >= half);
    case "right-half":
      return maskWhere(name, size, (x) => x < half);
    case "centre-square":
      return maskWhere(name, size, (x, y) => !inCentre(x, y));
    case "border":
      return maskWhere(name, size, inCentre);
    case "stripes":
      return maskWhere(name, size, (_, y) => y % 2 === 0);
    case "random-half": {
      const order = new Prng(seed).shuffle(Array.from({ length: size * size }, (_, i) => i));
      const known = new Float32Array(size * size).fill(1);
      for (let k = 0; k < (size * size) / 2; k++) known[order[k]] = 0;
      return { name: `random-half (seed ${seed})`, height: size, width: size, known };
    }
    default:
      throw new Error(`maskPreset: unknown preset "${name}"; the presets are ${MASK_PRESETS.join(", ")} (each names the region it hides).`);
  }
}

/**
 * A mask from user values, 1 = known (kept), 0 = unknown (generated): either `size` rows of
 * `size` values (nested arrays, row y holding columns x = 0 ..) or one flat row-major array of
 * size^2 values. `size` defaults to 16. Values must be exactly 0 or 1; a mask with no unknown
 * pixel (nothing to generate) or no known pixel (generate everything) is allowed.
 */
export function maskFromArray(values: ArrayLike<ArrayLike<number>> | ArrayLike<number>, options: { size?: number; name?: string } = {}): InpaintMask {
  const size = options.size ?? DEFAULT_SIZE;
  const name = options.name ?? "custom";
  if (!Number.isInteger(size) || size < 1) throw new Error(`maskFromArray: size must be a positive integer, got ${size}.`);
  const expected = `a ${size}x${size} array of rows, or a flat array of ${size * size} values`;
  const nested = values.length > 0 && typeof values[0] === "object" && values[0] !== null;
  if (nested) {
    const rows = values as ArrayLike<ArrayLike<number>>;
    if (rows.length !== size) throw new Error(`maskFromArray: got ${rows.length} rows; expected ${expected}.`);
    for (let y = 0; y < size; y++) {
      const row = rows[y];
      if (row === null || typeof row !== "object" || row.length !== size) {
        const got = row !== null && typeof row === "object" ? `has ${row.length} values` : `is ${String(row)}, not an array`;
        throw new Error(`maskFromArray: row ${y} ${got}; expected ${expected}.`);
      }
    }
  } else if (values.length !== size * size) {
    throw new Error(`maskFromArray: got a flat array of ${values.length} values; expected ${expected}.`);
  }
  const known = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Checked before storing: float32 would round 1.00000001 to 1 and hide the mistake.
      const value = nested ? (values as ArrayLike<ArrayLike<number>>)[y][x] : (values as ArrayLike<number>)[y * size + x];
      if (value !== 0 && value !== 1) {
        throw new Error(`maskFromArray: the value at row ${y}, column ${x} is ${String(value)}; use 1 for a known pixel and 0 for one to generate.`);
      }
      known[y * size + x] = value;
    }
  }
  return { name, height: size, width: size, known };
}

/** Throws unless `mask.known` holds height * width values, each 0 or 1. */
function checkMask(caller: string, mask: InpaintMask): void {
  const { height, width, known } = mask;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1 || known.length !== height * width) {
    throw new Error(`${caller}: mask "${mask.name}" is ${height}x${width} but holds ${known.length} values; build it with maskPreset or maskFromArray.`);
  }
  const bad = known.findIndex((v) => v !== 0 && v !== 1);
  if (bad >= 0) {
    throw new Error(`${caller}: mask "${mask.name}" has ${known[bad]} at row ${Math.floor(bad / width)}, column ${bad % width}; known values must be 0 or 1.`);
  }
}

/**
 * The mask as a tensor for `count` images: [count, H, W, 1] float32 of 0/1 (1 = known), to
 * broadcast over channels. The caller owns the result.
 */
export function maskTensor(mask: InpaintMask, count: number): tf.Tensor4D {
  checkMask("maskTensor", mask);
  if (!Number.isInteger(count) || count < 1) throw new Error(`maskTensor: count must be a positive integer, got ${count}.`);
  return tf.tidy(() => tf.tile(tf.tensor4d(mask.known, [1, mask.height, mask.width, 1]), [count, 1, 1, 1]) as tf.Tensor4D);
}

/** Throws unless `images` are [N, H, W, C] with H and W the mask's. */
export function checkMaskFits(mask: InpaintMask, images: tf.Tensor4D): void {
  checkMask("checkMaskFits", mask);
  const [, height, width] = images.shape;
  if (images.rank !== 4 || height !== mask.height || width !== mask.width) {
    throw new Error(
      `checkMaskFits: images have shape [${images.shape}] but mask "${mask.name}" is ${mask.height}x${mask.width}; ` +
        `pass images [N, ${mask.height}, ${mask.width}, C] or build the mask at the images' size.`,
    );
  }
}

/** The share of pixels to generate: (number of zeros in `known`) / (H W), in [0, 1]. */
export function unknownFraction(mask: InpaintMask): number {
  checkMask("unknownFraction", mask);
  let unknown = 0;
  for (let i = 0; i < mask.known.length; i++) if (mask.known[i] === 0) unknown++;
  return unknown / mask.known.length;
}
