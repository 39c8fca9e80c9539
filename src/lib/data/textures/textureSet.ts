/**
 * The procedural textures as an image set (data/textures): a train part and a test part drawn
 * from two streams of one seed, (N, 28, 28, 3) RGB NHWC with one-hot labels (N, 6), in the
 * project's .npy format beside a committed manifest (see imageSetFiles.ts).
 */
import { join } from "node:path";
import type { SpriteDataset } from "../dataset";
import { ensureImageSet, loadImageSet, type ImageSetPartName, type ImageSetSpec } from "../imageSetFiles";
import { projectPath } from "../projectRoot";
import { TEXTURE_CHANNELS, TEXTURE_CLASS_NAMES, TEXTURE_GENERATOR_VERSION, TEXTURE_SIZE, generateTextureSet } from "./generate";

/** The project's data/textures (absolute, from the project root). */
export const DEFAULT_TEXTURE_DIR = projectPath(join("data", "textures"));

export const TEXTURE_SET: ImageSetSpec = {
  name: "textures",
  description: "procedural textures (stripes, checks, dots, bricks, waves, noise), 28x28 RGB",
  source: "made by this project's generator (src/lib/data/textures) from the seed below",
  licence: "MIT (this project's licence)",
  generator: TEXTURE_GENERATOR_VERSION,
  imageShape: [TEXTURE_SIZE, TEXTURE_SIZE, TEXTURE_CHANNELS],
  classNames: TEXTURE_CLASS_NAMES,
  defaults: { seed: 0, counts: { train: 30000, test: 6000 } },
  command: "npm run make-data -- --set textures",
  make: ({ seed, counts }) => ({
    train: generateTextureSet({ seed, count: counts.train, stream: 0 }),
    test: generateTextureSet({ seed, count: counts.test, stream: 1 }),
  }),
};

/** Makes sure data/textures holds the .npy files its manifest describes (generating them if missing). */
export function ensureTextures(dir: string = DEFAULT_TEXTURE_DIR): { generated: boolean } {
  return { generated: ensureImageSet(TEXTURE_SET, dir).generated };
}

/**
 * The textures' train or test part as a data set: [28, 28, 3] images, 6 classes; `sampleTensors`
 * gives [B, 28, 28, 3] float32 in [-1, 1] and [B, 6] one-hot. Generated first when the files are
 * missing (seconds).
 */
export function loadTextures(part: ImageSetPartName = "train", dir: string = DEFAULT_TEXTURE_DIR): SpriteDataset {
  return loadImageSet(TEXTURE_SET, dir, part);
}
