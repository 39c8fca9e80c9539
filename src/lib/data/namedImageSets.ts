/**
 * The 28x28 image sets by name, as a config file or a command names them ("mnist", "textures"):
 * each set's kind and its default folder, and one loader for either.
 */
import type { SpriteDataset } from "./dataset";
import { loadImageSet, type ImageSetPartName, type ImageSetSpec } from "./imageSetFiles";
import { DEFAULT_MNIST_DIR, MNIST_SET } from "./mnist/mnistSet";
import { projectPath } from "./projectRoot";
import { DEFAULT_TEXTURE_DIR, TEXTURE_SET } from "./textures/textureSet";

export type ImageSetName = "mnist" | "textures";

export const IMAGE_SETS: Readonly<Record<ImageSetName, { spec: ImageSetSpec; dir: string }>> = Object.freeze({
  mnist: { spec: MNIST_SET, dir: DEFAULT_MNIST_DIR },
  textures: { spec: TEXTURE_SET, dir: DEFAULT_TEXTURE_DIR },
});

/**
 * Part `part` of the set `name` from `path` (relative to the project root; default data/<name>),
 * made first if its files are missing (see ensureImageSet): MNIST [28, 28, 1] with 10 classes,
 * textures [28, 28, 3] with 6. Throws, listing the names, for an unknown one.
 */
export function loadNamedImageSet(name: ImageSetName, part: ImageSetPartName = "train", path?: string): SpriteDataset {
  const entry = Object.prototype.hasOwnProperty.call(IMAGE_SETS, name) ? IMAGE_SETS[name] : undefined;
  if (entry === undefined) throw new Error(`loadNamedImageSet: no image set "${name}"; the sets are ${Object.keys(IMAGE_SETS).join(", ")}.`);
  return loadImageSet(entry.spec, path === undefined ? entry.dir : projectPath(path), part);
}
