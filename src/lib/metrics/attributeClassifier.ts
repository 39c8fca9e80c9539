/**
 * Classifiers of the attributes a prompt names (issue 18): a sprite's **kind** ("potion", "slime",
 * "sword", ...) and its **main colour** (the first of its colour names, colourNames.ts). Each is the
 * sprite classifier (classifier.ts) with `classes` = the attribute's distinct values, trained by
 * the same trainClassifier on the same split (realSprites.ts: whole base sprites held out), on a
 * data set whose class index per image is the index of its base's attribute value.
 *
 * Class names are the distinct values in the captions file, sorted (code-unit order), so the same
 * set always gives the same classes. A value that occurs only in held-out bases is a class the
 * classifier never trained on: its recall is then 0, and the record says so (trainImages 0).
 */
import { type SpriteDataset, imageShapeOf } from "../data/dataset";
import type { SpriteCaptions } from "../data/spriteCaptions";
import type { SpriteAttributes } from "../data/sprites/traits";
import type { SpriteClassifier } from "./classifier";
import { type ClassifierManifest, loadClassifier } from "./classifierFile";
import type { ClassifierScore } from "./classifierTraining";

/** The attributes with a classifier, as a command names them. */
export const SPRITE_ATTRIBUTE_NAMES = ["kind", "colour"] as const;
export type SpriteAttributeName = (typeof SPRITE_ATTRIBUTE_NAMES)[number];

/** `name` as an attribute; throws, listing the attributes, for anything else. */
export function checkAttributeName(name: string): SpriteAttributeName {
  const found = SPRITE_ATTRIBUTE_NAMES.find((known) => known === name);
  if (found === undefined) throw new Error(`No attribute classifier "${name}": the attributes are ${SPRITE_ATTRIBUTE_NAMES.join(", ")} (colour = the main colour, a base's first colour name).`);
  return found;
}

/** A base's value of `attribute`: its kind, or its main colour (colours[0]). */
export function attributeValue(attributes: SpriteAttributes, attribute: SpriteAttributeName): string {
  if (attribute === "kind") return attributes.kind;
  const main = attributes.colours[0];
  if (main === undefined) throw new Error(`attributeValue: a ${attributes.kind} base names no colour, so it has no main colour; the captions file is damaged (regenerate it with \`npm run sprites -- --ensure\`).`);
  return main;
}

/** The sorted distinct values of `attribute` over the captions' bases: the classifier's class names. */
export function attributeClassNames(captions: SpriteCaptions, attribute: SpriteAttributeName): string[] {
  return [...new Set(captions.bases.map((base) => attributeValue(base, checkAttributeName(attribute))))].sort();
}

/** The sprites labelled by one attribute, with the names of its classes (index = class). */
export interface AttributeDataset {
  attribute: SpriteAttributeName;
  /** The same pixels as the sprite set; `classes` the attribute's index per image, `classCount` its size. */
  dataset: SpriteDataset;
  classNames: readonly string[];
}

/**
 * The sprite data set relabelled by `attribute`: image i's class is the index of its base's value
 * in `classNames` (default attributeClassNames(captions, attribute)). The pixels are shared, not
 * copied; sampleTensors then gives [B, classNames.length] one-hot labels. Throws when the captions
 * do not cover the images one to one, or an image's value is not among `classNames`.
 */
export function attributeDataset(dataset: SpriteDataset, captions: SpriteCaptions, attribute: SpriteAttributeName, classNames?: readonly string[]): AttributeDataset {
  const names = classNames ?? attributeClassNames(captions, attribute);
  const [height, width, channels] = imageShapeOf(dataset);
  if (height !== 16 || width !== 16 || channels !== 3) throw new Error(`attributeDataset: the attributes describe 16x16 RGB sprites, but ${dataset.source.images} holds [${height}, ${width}, ${channels}] images.`);
  if (captions.count !== dataset.count) {
    throw new Error(`attributeDataset: the captions cover ${captions.count} images but ${dataset.source.images} has ${dataset.count}; use the captions file written with these sprites (\`npm run sprites -- --ensure\`).`);
  }
  if (names.length < 2 || names.length > 255) throw new Error(`attributeDataset: ${names.length} ${attribute} classes; a classifier needs 2 to 255.`);
  const index = new Map(names.map((name, i) => [name, i]));
  const classes = new Uint8Array(dataset.count);
  for (let i = 0; i < dataset.count; i++) {
    const value = attributeValue(captions.images[i], attribute);
    const c = index.get(value);
    if (c === undefined) throw new Error(`attributeDataset: image ${i} has ${attribute} "${value}", which is not among the ${names.length} classes (${names.join(", ")}).`);
    classes[i] = c;
  }
  const source = { images: dataset.source.images, labels: `the captions' ${attribute} of ${dataset.source.images}` };
  return { attribute, dataset: { ...dataset, classes, classCount: names.length, source }, classNames: names };
}

/** Where an attribute's classifier is saved by default, relative to the project root. */
export function attributeClassifierDir(attribute: SpriteAttributeName): string {
  return `models/classifier-${checkAttributeName(attribute)}`;
}

/** One class of an attribute classifier's record: how many images it trained and was scored on, and its recall. */
export interface AttributeClassRecord {
  name: string;
  trainImages: number;
  heldOutImages: number;
  /** Share of its held-out images classified right; null when no held-out base has this value. */
  recall: number | null;
}

/** What an attribute classifier's manifest records beside the sprite classifier's fields. */
export interface AttributeClassifierRecord {
  name: SpriteAttributeName;
  /** The captions file the labels came from, relative to the project root. */
  captions: string;
  /** Held-out accuracy (the same as heldOutScore.accuracy), repeated here to sit beside the classes. */
  heldOutAccuracy: number;
  classes: AttributeClassRecord[];
  /** The most confused pairs on the held-out bases, most first. */
  confusedPairs: ConfusedPair[];
}

/** Per class: train and held-out image counts and held-out recall (null for a class without held-out images). */
export function attributeClassRecords(data: AttributeDataset, trainIndices: ArrayLike<number>, score: ClassifierScore): AttributeClassRecord[] {
  const trainImages = new Array<number>(data.classNames.length).fill(0);
  for (let i = 0; i < trainIndices.length; i++) trainImages[data.dataset.classes[trainIndices[i]]]++;
  return data.classNames.map((name, c) => {
    const heldOutImages = score.confusion[c].reduce((a, b) => a + b, 0);
    return { name, trainImages: trainImages[c], heldOutImages, recall: heldOutImages === 0 ? null : score.confusion[c][c] / heldOutImages };
  });
}

/** A true class mistaken for another: how many of its held-out images, and what share of them. */
export interface ConfusedPair {
  trueName: string;
  predictedName: string;
  count: number;
  /** count / the true class's held-out images. */
  share: number;
}

/** The `top` largest off-diagonal cells of a confusion matrix, most first (ties: by true, then predicted class). */
export function mostConfusedPairs(confusion: number[][], classNames: readonly string[], top = 10): ConfusedPair[] {
  const pairs: ConfusedPair[] = [];
  confusion.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      if (p !== t && count > 0) pairs.push({ trueName: classNames[t], predictedName: classNames[p], count, share: count / total });
    });
  });
  return pairs.sort((a, b) => b.count - a.count).slice(0, top);
}

/** A loaded attribute classifier: the network and its class names (index = class). */
export interface AttributeClassifier {
  attribute: SpriteAttributeName;
  classifier: SpriteClassifier;
  classNames: readonly string[];
  manifest: ClassifierManifest;
}

/**
 * The classifier of `attribute` from `dir` (default models/classifier-<attribute>), checked to be
 * that attribute's (its manifest names it, one class name per output). The caller owns
 * `classifier`: dispose() it.
 */
export function loadAttributeClassifier(attribute: SpriteAttributeName, dir: string = attributeClassifierDir(attribute)): AttributeClassifier {
  const { classifier, manifest } = loadClassifier(dir);
  const recorded = manifest.attribute?.name;
  const problem =
    recorded !== checkAttributeName(attribute)
      ? `holds ${recorded === undefined ? "a classifier of no attribute" : `the ${recorded} classifier`}, not the ${attribute} classifier`
      : manifest.classNames.length !== classifier.config.classes
        ? `names ${manifest.classNames.length} classes but the classifier has ${classifier.config.classes} outputs`
        : null;
  if (problem !== null) {
    classifier.dispose();
    throw new Error(`${dir} ${problem}; train one with \`npm run train-attribute-classifier -- --attribute ${attribute}\`.`);
  }
  return { attribute, classifier, classNames: manifest.classNames, manifest };
}
