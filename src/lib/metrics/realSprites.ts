/**
 * The real sprites the metrics compare against: the project's sprite set, split by base sprite
 * into the classifier's training part and a held-out part it never sees. Each base sprite's 50
 * jittered variants are consecutive in the files (base = floor(index / variantsPerBase)), and the
 * split keeps whole bases together, so a held-out sprite is never a jittered copy of a trained one.
 *
 * Paths resolve from the project root, so notebooks (run from notebooks/) find the same files.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { epochOrder, splitIndices } from "../data/batches";
import { type SpriteDataset, fingerprint, loadSpriteDataset, sampleTensors } from "../data/dataset";
import { DEFAULT_SPRITE_DIR, SPRITE_MANIFEST_FILE, ensureSpriteSet, readSpriteManifest } from "../data/spriteFiles";
import { PROJECT_ROOT, projectPath } from "../data/projectRoot";
import { deriveSeed } from "../data/sprites/prng";

/** Defined once in ../data/projectRoot; re-exported for imports from here (test/metrics/classifier.test.ts). */
export { PROJECT_ROOT, projectPath };

/**
 * Where the sprite set is looked for, in order: the project's set, then the full-size working copy
 * made while the project's set was being finalised (same generator, same format).
 */
export const SPRITE_SET_DIRS = [DEFAULT_SPRITE_DIR, ".tmp/sprites-full"];

/** The classifier's split: 10 % of the base sprites held out, chosen by this seed. */
export const CLASSIFIER_SPLIT = Object.freeze({ heldOut: 0.1, seed: 8 });

export interface RealSpriteSet {
  dataset: SpriteDataset;
  /** Folder of the files (with its manifest.json). */
  dir: string;
  /** Variants per base sprite: the split's group size. */
  variantsPerBase: number;
  /** Generator version from the manifest. */
  generator: string;
  /** fingerprint(dataset). */
  fingerprint: string;
  /** Sorted indices the classifier trains on and the held-out ones it never sees. */
  split: { train: Int32Array; heldOut: Int32Array };
}

const cache = new Map<string, RealSpriteSet>();

/**
 * Loads a sprite set and its classifier split, kept in memory after the first call (70 MB).
 * Default: the project's set (data/sprites, regenerated from its manifest when the .npy files are
 * missing), else the first of SPRITE_SET_DIRS with a manifest. `dir` (relative to the project
 * root) picks another set in the same layout, e.g. the one a diffusion model was trained on.
 */
export function realSpriteSet(dir?: string): RealSpriteSet {
  const folder = dir !== undefined ? projectPath(dir) : SPRITE_SET_DIRS.map(projectPath).find((d) => existsSync(join(d, SPRITE_MANIFEST_FILE)));
  if (!folder) {
    throw new Error(`No sprite set: none of ${SPRITE_SET_DIRS.map((d) => join(d, SPRITE_MANIFEST_FILE)).join(", ")} exists under ${PROJECT_ROOT}; generate one with \`npm run sprites -- --out ${DEFAULT_SPRITE_DIR}\`.`);
  }
  const known = cache.get(folder);
  if (known) return known;
  const manifest = readSpriteManifest(folder);
  if (!manifest) throw new Error(`${join(folder, SPRITE_MANIFEST_FILE)} is missing: a sprite set folder needs the manifest that \`npm run sprites\` writes.`);
  const files = ensureSpriteSet(folder);
  const dataset = loadSpriteDataset(files.images, files.labels);
  const split = splitIndices(dataset.count, { ...CLASSIFIER_SPLIT, groupSize: manifest.variantsPerBase });
  const set = { dataset, dir: folder, variantsPerBase: manifest.variantsPerBase, generator: manifest.generator, fingerprint: fingerprint(dataset), split };
  cache.set(folder, set);
  return set;
}

/** Real sprites as tensors with their classes; the caller owns `images` and `labels`. */
export interface RealSprites {
  /** [n, 16, 16, 3] float32 in [-1, 1]. */
  images: tf.Tensor4D;
  /** [n, 5] one-hot. */
  labels: tf.Tensor2D;
  /** Class index of each sprite. */
  classes: Uint8Array;
  /** Index of each sprite in the sprite set. */
  indices: Int32Array;
}

/** A seeded order of the held-out sprites: draws with one seed never repeat a sprite. */
function heldOutOrder(set: RealSpriteSet, seed: number): Int32Array {
  const { heldOut } = set.split;
  return epochOrder(heldOut.length, deriveSeed(seed, 0x4e1d), 0).map((i) => heldOut[i]);
}

/**
 * `n` held-out real sprites (never seen by the classifier), drawn without replacement in a seeded
 * order; `offset` skips that many of the order, so (n, seed, 0) and (n, seed, n) are two disjoint
 * draws of the same size: the real-vs-real floor of SFD. `set`: default the project's.
 */
export function heldOutRealSprites(n: number, seed = 0, offset = 0, set: RealSpriteSet = realSpriteSet()): RealSprites {
  const order = heldOutOrder(set, seed);
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(offset) || offset < 0 || offset + n > order.length) {
    throw new Error(`heldOutRealSprites: asked for sprites ${offset}..${offset + n - 1} of the held-out order, which has ${order.length}; use n + offset <= ${order.length}.`);
  }
  const indices = order.slice(offset, offset + n);
  const { dataset } = set;
  return { ...sampleTensors(dataset, indices), classes: Uint8Array.from(indices, (i) => dataset.classes[i]), indices };
}
