/**
 * The sprite classifier's code as the instrument of a named 28x28 set (MNIST digits, textures):
 * the set's configuration, where its classifier lives (models/classifier-<set>), the set's parts
 * loaded once, and the checks that a classifier and a batch of images belong together.
 *
 * Only the configuration differs from the sprites': 28x28 input, the set's channels and classes,
 * and `finalPool` (see classifier.ts). Training is the sprites' trainClassifier on the train part;
 * held-out scores and Frechet distances use the test part, which training never sees.
 */
import { type SpriteDataset, classCountOf, imageShapeOf } from "../data/dataset";
import type { ImageSetPartName } from "../data/imageSetFiles";
import { IMAGE_SETS, type ImageSetName, loadNamedImageSet } from "../data/namedImageSets";
import type { SpriteClassifier, SpriteClassifierConfig } from "./classifier";
import { type ClassifierManifest, loadClassifier } from "./classifierFile";

/** The names a command accepts, in order. */
export const IMAGE_SET_NAMES = Object.keys(IMAGE_SETS) as ImageSetName[];

/** `name` as an ImageSetName; throws, listing the sets, for anything else. */
export function checkImageSetName(name: string): ImageSetName {
  if (!(IMAGE_SET_NAMES as string[]).includes(name)) {
    throw new Error(`No image set "${name}": the 28x28 sets are ${IMAGE_SET_NAMES.join(", ")} (the sprites' classifier is the default, without a set).`);
  }
  return name as ImageSetName;
}

/**
 * The classifier configuration of a set (the rest as DEFAULT_CLASSIFIER_CONFIG): its image side
 * and channels, its classes, and the final pool that keeps the features layer small at 28x28.
 * MNIST: { height 28, inChannels 1, classes 10 }; textures: { height 28, inChannels 3, classes 6 }.
 */
export function imageSetClassifierConfig(name: ImageSetName): Partial<SpriteClassifierConfig> {
  const { spec } = IMAGE_SETS[checkImageSetName(name)];
  const [height, , inChannels] = spec.imageShape;
  return { height, inChannels, classes: spec.classNames.length, finalPool: true };
}

/** Where a set's classifier is saved by default, relative to the project root. */
export function imageSetClassifierDir(name: ImageSetName): string {
  return `models/classifier-${checkImageSetName(name)}`;
}

const parts = new Map<string, SpriteDataset>();

/** Part `part` of set `name` (data/<name>), loaded once per process and kept (MNIST train: 47 MB). */
export function imageSetPart(name: ImageSetName, part: ImageSetPartName): SpriteDataset {
  const key = `${checkImageSetName(name)}/${part}`;
  const known = parts.get(key);
  if (known) return known;
  const dataset = loadNamedImageSet(name, part);
  parts.set(key, dataset);
  return dataset;
}

/**
 * Throws unless `classifier` takes the images of `dataset` ([H, W, C] equal to its [height,
 * height, inChannels]) and, when `withClasses`, has the data set's number of classes.
 */
export function checkClassifierFits(classifier: SpriteClassifier, dataset: SpriteDataset, withClasses = true, what = "data set"): void {
  const { height, inChannels, classes } = classifier.config;
  const [h, w, c] = imageShapeOf(dataset);
  if (h !== height || w !== height || c !== inChannels) {
    throw new Error(`The classifier takes [${height}, ${height}, ${inChannels}] images but the ${what} ${dataset.source.images} has [${h}, ${w}, ${c}]; use the classifier trained on this set (\`npm run train-classifier -- --set NAME\`).`);
  }
  if (withClasses && classCountOf(dataset) !== classes) {
    throw new Error(`The classifier has ${classes} classes but the ${what} ${dataset.source.images} has ${classCountOf(dataset)}; use the classifier trained on this set.`);
  }
}

/** Throws unless `shape` is a batch's [N, height, height, inChannels], which the classifier takes. */
export function checkImagesFit(classifier: SpriteClassifier, shape: readonly number[], what: string): void {
  const { height, inChannels } = classifier.config;
  if (shape.length !== 4 || shape[1] !== height || shape[2] !== height || shape[3] !== inChannels) {
    throw new Error(`${what} have shape [${shape}] but the classifier takes [N, ${height}, ${height}, ${inChannels}] (NHWC, values in [-1, 1]); use the classifier of the images' set.`);
  }
}

/**
 * The classifier of set `name` from `dir` (default models/classifier-<name>), checked to be that
 * set's: its manifest names the set and its input is the set's images. The caller owns it.
 */
export function loadImageSetClassifier(name: ImageSetName, dir: string = imageSetClassifierDir(name)): { classifier: SpriteClassifier; manifest: ClassifierManifest } {
  const loaded = loadClassifier(dir);
  const recorded = loaded.manifest.imageSet?.name;
  if (recorded !== checkImageSetName(name)) {
    loaded.classifier.dispose();
    throw new Error(`${dir} holds the classifier of ${recorded === undefined ? "the sprites" : `the ${recorded} set`}, not of ${name}; train one with \`npm run train-classifier -- --set ${name}\`.`);
  }
  return loaded;
}
