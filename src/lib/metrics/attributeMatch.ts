/**
 * Do sprites show what their prompts ask for? The kind and main-colour classifiers
 * (attributeClassifier.ts) read each image, and the shares whose kind, colour, and both match the
 * expected ones are the prompt-match scores of a text-conditioned model ("a red potion": kind
 * potion, colour red). The same measure on real sprites of the same attributes is the reference:
 * what the classifiers themselves get right, the ceiling a model's share is read against.
 */
import * as tf from "@tensorflow/tfjs-core";
import { epochOrder } from "../data/batches";
import { type SpriteDataset, sampleTensors } from "../data/dataset";
import type { SpriteCaptions } from "../data/spriteCaptions";
import { deriveSeed } from "../data/sprites/prng";
import { checkImageBatch } from "../model/imageBatch";
import { type AttributeClassifier, attributeValue } from "./attributeClassifier";
import { classifyImages } from "./classifier";

/** The attributes an image is expected to show (a prompt's kind and main colour). */
export interface ExpectedAttributes {
  kind: string;
  colour: string;
}

/** The kind and the main-colour classifier, loaded (loadAttributeClassifier). */
export interface AttributeClassifiers {
  kind: AttributeClassifier;
  colour: AttributeClassifier;
}

/** How many images show their expected attributes; shares in [0, 1]. */
export interface AttributeMatch {
  count: number;
  /** Share whose predicted kind is the expected kind. */
  kind: number;
  /** Share whose predicted main colour is the expected colour. */
  colour: number;
  /** Share with both right. */
  both: number;
  /** What the classifiers read, per image: a kind and a colour name. */
  predicted: ExpectedAttributes[];
}

/** Throws unless `name` is one of the classifier's classes (a prompt asking for an unknown value cannot be judged). */
function checkKnown(classifier: AttributeClassifier, name: string, position: number): void {
  if (!classifier.classNames.includes(name)) {
    throw new Error(`attributeMatch: image ${position} expects ${classifier.attribute} "${name}", which the ${classifier.attribute} classifier does not know; its classes are ${classifier.classNames.join(", ")}.`);
  }
}

/**
 * Reads `images` [N, 16, 16, 3] (NHWC, values in [-1, 1]; clipped as the classifier does) with both
 * classifiers and compares with `expected` (one per image). Every expected value must be a class
 * of its classifier. Makes and frees its own tensors; `images` stays the caller's.
 */
export async function attributeMatch(classifiers: AttributeClassifiers, images: tf.Tensor4D, expected: readonly ExpectedAttributes[]): Promise<AttributeMatch> {
  checkImageBatch(images, 16, 3, "attributeMatch: images", ", values in [-1, 1]");
  const count = images.shape[0];
  if (expected.length !== count) throw new Error(`attributeMatch: ${count} images but ${expected.length} expected attributes; pass one { kind, colour } per image.`);
  if (count === 0) throw new Error("attributeMatch: no images; a share of none is undefined.");
  expected.forEach((e, i) => {
    checkKnown(classifiers.kind, e.kind, i);
    checkKnown(classifiers.colour, e.colour, i);
  });
  const kinds = (await classifyImages(classifiers.kind.classifier, images)).classes;
  const colours = (await classifyImages(classifiers.colour.classifier, images)).classes;
  const predicted = expected.map((_, i) => ({ kind: classifiers.kind.classNames[kinds[i]], colour: classifiers.colour.classNames[colours[i]] }));
  let kind = 0;
  let colour = 0;
  let both = 0;
  expected.forEach((e, i) => {
    const kindRight = predicted[i].kind === e.kind;
    const colourRight = predicted[i].colour === e.colour;
    kind += Number(kindRight);
    colour += Number(colourRight);
    both += Number(kindRight && colourRight);
  });
  return { count, kind: kind / count, colour: colour / count, both: both / count, predicted };
}

/** Real sprites chosen for wanted attributes, and the attributes none of them has. */
export interface RealSpritesWithAttributes {
  /** Indices into the data set, up to `perWanted` per wanted entry, in the order of `wanted`. */
  indices: Int32Array;
  /** The wanted attributes of each chosen sprite (aligned with `indices`). */
  expected: ExpectedAttributes[];
  /** Wanted attributes no sprite among the candidates has (left out of the reference). */
  missing: ExpectedAttributes[];
}

/**
 * Up to `perWanted` sprites among `candidates` (indices into the captions' images; e.g. the
 * classifier split's held-out part, which the classifiers never saw) whose base has each wanted
 * kind and main colour, drawn without replacement in a seeded order.
 */
export function realSpritesWithAttributes(captions: SpriteCaptions, candidates: ArrayLike<number>, wanted: readonly ExpectedAttributes[], perWanted = 50, seed = 0): RealSpritesWithAttributes {
  if (!Number.isInteger(perWanted) || perWanted < 1) throw new Error(`realSpritesWithAttributes: perWanted must be a whole number >= 1, got ${perWanted}.`);
  const order = epochOrder(candidates.length, deriveSeed(seed, 0xa77), 0);
  const indices: number[] = [];
  const expected: ExpectedAttributes[] = [];
  const missing: ExpectedAttributes[] = [];
  for (const want of wanted) {
    let found = 0;
    for (let k = 0; k < order.length && found < perWanted; k++) {
      const index = candidates[order[k]];
      const base = captions.images[index];
      if (base === undefined) throw new Error(`realSpritesWithAttributes: candidate ${index} is outside the captions' ${captions.count} images.`);
      if (base.kind !== want.kind || attributeValue(base, "colour") !== want.colour) continue;
      indices.push(index);
      expected.push({ kind: want.kind, colour: want.colour });
      found++;
    }
    if (found === 0) missing.push({ kind: want.kind, colour: want.colour });
  }
  return { indices: Int32Array.from(indices), expected, missing };
}

/**
 * The reference: attributeMatch on real sprites with the wanted attributes (realSpritesWithAttributes
 * of `dataset`'s images), with the wanted attributes that had none. `match` is null when none had any.
 */
export async function realAttributeMatch(
  classifiers: AttributeClassifiers,
  dataset: SpriteDataset,
  captions: SpriteCaptions,
  candidates: ArrayLike<number>,
  wanted: readonly ExpectedAttributes[],
  perWanted = 50,
  seed = 0,
): Promise<{ match: AttributeMatch | null; indices: Int32Array; missing: ExpectedAttributes[] }> {
  if (captions.count !== dataset.count) throw new Error(`realAttributeMatch: the captions cover ${captions.count} images but ${dataset.source.images} has ${dataset.count}; use the captions written with these sprites.`);
  const chosen = realSpritesWithAttributes(captions, candidates, wanted, perWanted, seed);
  if (chosen.indices.length === 0) return { match: null, indices: chosen.indices, missing: chosen.missing };
  const { images, labels } = sampleTensors(dataset, chosen.indices);
  try {
    return { match: await attributeMatch(classifiers, images, chosen.expected), indices: chosen.indices, missing: chosen.missing };
  } finally {
    tf.dispose([images, labels]);
  }
}
