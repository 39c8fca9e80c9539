/**
 * The prompt-match measure: shares of images whose predicted kind, colour and both equal the
 * expected ones, against a hand count; real sprites chosen for wanted attributes (the reference);
 * clear errors; no leaked tensors. Two small untrained classifiers saved and loaded as the
 * attribute classifiers are: what they predict does not matter, only that it is counted right.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleTensors } from "../../src/lib/data/dataset";
import { type SpriteCaptions, loadSpriteCaptions } from "../../src/lib/data/spriteCaptions";
import { writeSpriteSet } from "../../src/lib/data/spriteFiles";
import { generateSpriteSet } from "../../src/lib/data/sprites/generate";
import { type SpriteAttributeName, attributeClassNames, loadAttributeClassifier } from "../../src/lib/metrics/attributeClassifier";
import { type AttributeClassifiers, type ExpectedAttributes, attributeMatch, realAttributeMatch, realSpritesWithAttributes } from "../../src/lib/metrics/attributeMatch";
import { SpriteClassifier } from "../../src/lib/metrics/classifier";
import { readClassifierManifest, saveClassifier } from "../../src/lib/metrics/classifierFile";
import { type RealSpriteSet, realSpriteSet } from "../../src/lib/metrics/realSprites";
import { deriveSeed } from "../../src/lib/data/sprites/prng";
import { sample } from "../../src/lib/diffusion/samplers";
import { courseSchedule } from "../../src/lib/diffusion/schedule";
import { fnv1a, promptSetMatch } from "../../src/lib/metrics/promptMatchEvaluation";
import { TextContextUnet } from "../../src/lib/text/textContextUnet";
import type { LoadedModel } from "../../src/lib/train/trainingCheckpoint";
import { useTestBackend } from "../helpers/backends";

const dir = mkdtempSync(join(tmpdir(), "attribute-match-"));
let real: RealSpriteSet;
let captions: SpriteCaptions;
let classifiers: AttributeClassifiers;

/** An untrained classifier of `attribute`'s classes, saved and loaded the way the command's are. */
async function untrained(attribute: SpriteAttributeName, seed: number) {
  const classNames = attributeClassNames(captions, attribute);
  const classifier = new SpriteClassifier({ channels: [4, 4, 4], featureSize: 8, classes: classNames.length }, seed);
  const manifest = readClassifierManifest();
  const out = join(dir, attribute);
  await saveClassifier(out, classifier, { ...manifest, classNames, attribute: { name: attribute, captions: "x", heldOutAccuracy: 0, classes: [], confusedPairs: [] } });
  classifier.dispose();
  return loadAttributeClassifier(attribute, out);
}

beforeAll(async () => {
  await useTestBackend();
  writeSpriteSet(join(dir, "sprites"), generateSpriteSet({ seed: 2, count: 120, variantsPerBase: 4 }));
  real = realSpriteSet(join(dir, "sprites"));
  captions = loadSpriteCaptions(join(dir, "sprites"));
  classifiers = { kind: await untrained("kind", 1), colour: await untrained("colour", 2) };
});
afterAll(() => {
  classifiers?.kind.classifier.dispose();
  classifiers?.colour.classifier.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** The sprites `indices` as [n, 16, 16, 3] images (their labels freed). */
function imagesOf(indices: ArrayLike<number>): tf.Tensor4D {
  const { images, labels } = sampleTensors(real.dataset, indices);
  labels.dispose();
  return images;
}

/** A class name of `names` other than `name`. */
const other = (names: readonly string[], name: string) => names.find((n) => n !== name)!;

describe("attributeMatch", () => {
  it("counts the shares of right kinds, right colours and both, as a hand count does", async () => {
    const images = imagesOf([0, 10, 20, 30, 40, 50]);
    // What the classifiers read, computed here from their logits.
    const read = (c: AttributeClassifiers["kind"]) => tf.tidy(() => Array.from(tf.argMax(c.classifier.logits(images), 1).dataSync(), (k) => c.classNames[k]));
    const [kinds, colours] = [read(classifiers.kind), read(classifiers.colour)];
    // Kinds right for images 0-3, colours right for 0, 1 and 4: kind 4/6, colour 3/6, both 2/6.
    const kindRight = [true, true, true, true, false, false];
    const colourRight = [true, true, false, false, true, false];
    const expected: ExpectedAttributes[] = kinds.map((kind, i) => ({
      kind: kindRight[i] ? kind : other(classifiers.kind.classNames, kind),
      colour: colourRight[i] ? colours[i] : other(classifiers.colour.classNames, colours[i]),
    }));
    const start = tf.memory().numTensors;
    const match = await attributeMatch(classifiers, images, expected);
    expect(tf.memory().numTensors).toBe(start);
    expect(match).toEqual({ count: 6, kind: 4 / 6, colour: 3 / 6, both: 2 / 6, predicted: kinds.map((kind, i) => ({ kind, colour: colours[i] })) });
    images.dispose();
  });

  it("says what is wrong: images of another shape, a count that differs, a value the classifier does not know", async () => {
    const wanted = { kind: classifiers.kind.classNames[0], colour: classifiers.colour.classNames[0] };
    const nchw = tf.zeros([2, 3, 16, 16]) as tf.Tensor4D;
    const grey = tf.zeros([2, 28, 28, 1]) as tf.Tensor4D;
    const sprites = tf.zeros([2, 16, 16, 3]) as tf.Tensor4D;
    await expect(attributeMatch(classifiers, nchw, [wanted, wanted])).rejects.toThrow("attributeMatch: images has shape [2,3,16,16], expected [N, 16, 16, 3] (NHWC, values in [-1, 1]). It looks NCHW");
    await expect(attributeMatch(classifiers, grey, [wanted, wanted])).rejects.toThrow("has shape [2,28,28,1], expected [N, 16, 16, 3]");
    await expect(attributeMatch(classifiers, sprites, [wanted])).rejects.toThrow("attributeMatch: 2 images but 1 expected attributes");
    await expect(attributeMatch(classifiers, sprites, [wanted, { ...wanted, kind: "dragon" }])).rejects.toThrow('image 1 expects kind "dragon", which the kind classifier does not know; its classes are');
    tf.dispose([nchw, grey, sprites]);
  });
});

describe("the reference: real sprites of the wanted attributes", () => {
  it("picks up to n sprites per wanted kind and colour, seeded, and names the wanted attributes none has", () => {
    const all = Int32Array.from({ length: real.dataset.count }, (_, i) => i);
    const have = (i: number) => ({ kind: captions.images[i].kind, colour: captions.images[i].colours[0] });
    const wanted = [have(0), have(60), { kind: have(0).kind, colour: "not-a-colour" }];
    const chosen = realSpritesWithAttributes(captions, all, wanted, 3, 5);
    const available = wanted.map((w) => Array.from(all).filter((i) => have(i).kind === w.kind && have(i).colour === w.colour).length);
    expect(chosen.indices.length).toBe(Math.min(3, available[0]) + Math.min(3, available[1]));
    expect(Array.from(chosen.indices, have)).toEqual(chosen.expected);
    expect(chosen.missing).toEqual([wanted[2]]);
    expect(realSpritesWithAttributes(captions, all, wanted, 3, 5)).toEqual(chosen);
    expect(() => realSpritesWithAttributes(captions, [real.dataset.count], wanted)).toThrow(`candidate ${real.dataset.count} is outside the captions' 120 images`);
  });

  it("measures the real sprites as attributeMatch does, on the held-out bases, leaking nothing", async () => {
    const base = real.split.heldOut[0];
    const wanted = [{ kind: captions.images[base].kind, colour: captions.images[base].colours[0] }];
    const start = tf.memory().numTensors;
    const reference = await realAttributeMatch(classifiers, real.dataset, captions, real.split.heldOut, wanted, 2);
    expect(tf.memory().numTensors).toBe(start);
    expect(reference.indices.length).toBe(2);
    const images = imagesOf(reference.indices);
    expect(reference.match).toEqual(await attributeMatch(classifiers, images, [wanted[0], wanted[0]]));
    images.dispose();
    const none = await realAttributeMatch(classifiers, real.dataset, captions, real.split.heldOut, [{ kind: "dragon", colour: "red" }]);
    expect(none).toEqual({ match: null, indices: new Int32Array(0), missing: [{ kind: "dragon", colour: "red" }] });
  });
});

describe("promptSetMatch: a text model's sprites read per prompt", () => {
  it("reads each prompt's sprites as attributeMatch does on the same draw, pools by count, and seeds by kind, leaking nothing", async () => {
    // Two kind-and-colour pairs of the set (their template-1 captions as prompts), a tiny untrained text model.
    const bases = [...new Map(captions.bases.map((base) => [base.kind, base])).values()].slice(0, 2);
    const pairs = bases.map((base) => ({ kind: base.kind, colour: base.colours[0], prompt: base.captions[0] }));
    const model = new TextContextUnet({ vocabulary: captions.vocabulary, encoder: { maxTokens: 16, embeddingWidth: 8, hiddenWidth: 8, contextSize: 4 }, unet: { nFeat: 8, height: 16 } }, 3);
    const loaded = { model, schedule: courseSchedule, weights: "raw", weightsLabel: "raw", manifest: {} } as unknown as LoadedModel<TextContextUnet>;
    const options = { sampler: "ddim" as const, steps: 2, perPrompt: 3, seed: 5, guidance: 1 };
    const realShares = [{ count: 2, kind: 1, colour: 0.5, both: 0.5 }, null];
    try {
      // The first call fills the sampler's caches (the schedule's tensors); the second leaves the count as it was.
      const alone = await promptSetMatch(loaded, classifiers, pairs.slice(1), [null], options);
      const before = tf.memory().numTensors;
      const both = await promptSetMatch(loaded, classifiers, pairs, realShares, options);
      expect(tf.memory().numTensors).toBe(before);
      // The second prompt alone drew what it draws beside the first (its noise comes from its kind).
      expect(alone.rows[0]).toEqual(both.rows[1]);
      // The same draw, made and read here: the library's shares.
      for (const [i, pair] of pairs.entries()) {
        const context = model.captionContexts([pair.prompt, pair.prompt, pair.prompt]);
        const seed = deriveSeed(5, fnv1a(pair.kind));
        const { samples } = await sample(model, courseSchedule, { count: 3, seed }, context, { sampler: "ddim", steps: 2, guidance: 1, seed, saveFrame: () => false });
        const match = await attributeMatch(classifiers, samples, [0, 1, 2].map(() => ({ kind: pair.kind, colour: pair.colour })));
        tf.dispose([context, samples]);
        expect(both.rows[i]).toEqual({ ...pair, generated: { count: 3, kind: match.kind, colour: match.colour, both: match.both }, real: realShares[i] });
      }
      const mean = (key: "kind" | "colour" | "both") => (both.rows[0].generated[key] + both.rows[1].generated[key]) / 2;
      expect(both.generated).toEqual({ count: 6, kind: mean("kind"), colour: mean("colour"), both: mean("both") });
      expect(both.real).toEqual(realShares[0]);
      expect(fnv1a("a")).toBe(0xe40c292c); // FNV-1a's published value for "a"
      await expect(promptSetMatch(loaded, classifiers, pairs, [null], options)).rejects.toThrow("2 prompts but 1 real references");
    } finally {
      model.dispose();
    }
  }, 120_000);
});
