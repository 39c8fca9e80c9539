/**
 * The kind and main-colour classifiers' data: each image labelled by its base's attribute (checked
 * against the captions file read directly), sorted class names, the sprite classifier's labels
 * untouched, a few training steps that lower the loss, the per-class record and confused pairs,
 * the manifest's attribute record and the errors. A 30-base set of 4 variants: seconds on cpu.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAttributeClassifierArgs } from "../../src/cli/train-attribute-classifier";
import { type SpriteDataset, sampleTensors } from "../../src/lib/data/dataset";
import { SPRITE_CAPTIONS_FILE, type SpriteCaptions, loadSpriteCaptions } from "../../src/lib/data/spriteCaptions";
import { writeSpriteSet } from "../../src/lib/data/spriteFiles";
import { generateSpriteSet } from "../../src/lib/data/sprites/generate";
import {
  attributeClassNames,
  attributeClassRecords,
  attributeDataset,
  checkAttributeName,
  loadAttributeClassifier,
  mostConfusedPairs,
} from "../../src/lib/metrics/attributeClassifier";
import { SpriteClassifier } from "../../src/lib/metrics/classifier";
import { readClassifierManifest, saveClassifier } from "../../src/lib/metrics/classifierFile";
import { scoreClassifier, trainClassifier } from "../../src/lib/metrics/classifierTraining";
import { type RealSpriteSet, realSpriteSet } from "../../src/lib/metrics/realSprites";
import { useTestBackend } from "../helpers/backends";

const dir = mkdtempSync(join(tmpdir(), "attribute-classifier-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let real: RealSpriteSet;
let dataset: SpriteDataset;
let captions: SpriteCaptions;
/** Per image, its base's kind and first colour, read from the JSON file without the library's loader. */
let fromFile: { kind: string; colour: string }[];

beforeAll(async () => {
  await useTestBackend();
  writeSpriteSet(dir, generateSpriteSet({ seed: 2, count: 120, variantsPerBase: 4 }));
  real = realSpriteSet(dir);
  dataset = real.dataset;
  captions = loadSpriteCaptions(dir);
  const file = JSON.parse(readFileSync(join(dir, SPRITE_CAPTIONS_FILE), "utf8")) as { bases: { images: [number, number]; kind: string; colours: string[] }[] };
  fromFile = file.bases.flatMap((base) => Array.from({ length: base.images[1] - base.images[0] }, () => ({ kind: base.kind, colour: base.colours[0] })));
});

describe("attributeDataset", () => {
  it("labels every image with its base's kind and main colour, as the captions file says", () => {
    expect(fromFile.length).toBe(dataset.count);
    for (const attribute of ["kind", "colour"] as const) {
      const data = attributeDataset(dataset, captions, attribute);
      expect(data.dataset.classCount).toBe(data.classNames.length);
      expect(data.dataset.pixels).toBe(dataset.pixels);
      expect(Array.from(data.dataset.classes, (c) => data.classNames[c])).toEqual(fromFile.map((f) => f[attribute]));
    }
  });

  it("names its classes as the sorted distinct values, the same for the same set", () => {
    for (const attribute of ["kind", "colour"] as const) {
      const names = attributeClassNames(captions, attribute);
      expect(names).toEqual([...new Set(fromFile.map((f) => f[attribute]))].sort());
      expect(new Set(names).size).toBe(names.length);
      const again = mkdtempSync(join(tmpdir(), "attribute-classifier-again-"));
      try {
        writeSpriteSet(again, generateSpriteSet({ seed: 2, count: 120, variantsPerBase: 4 }));
        expect(attributeClassNames(loadSpriteCaptions(again), attribute)).toEqual(names);
      } finally {
        rmSync(again, { recursive: true, force: true });
      }
    }
    expect(attributeClassNames(captions, "kind").length).toBeGreaterThan(5);
  });

  it("leaves the sprite classifier's labels as they were: [B, 5] one-hot of the course's classes", () => {
    const classesBefore = Uint8Array.from(dataset.classes);
    const start = tf.memory().numTensors;
    const data = attributeDataset(dataset, captions, "kind");
    const indices = [0, 5, 63, 119];
    const sprite = sampleTensors(dataset, indices);
    const kind = sampleTensors(data.dataset, indices);
    expect(dataset.classCount).toBeUndefined();
    expect(Array.from(dataset.classes)).toEqual(Array.from(classesBefore));
    expect(sprite.labels.shape).toEqual([4, 5]);
    expect(sprite.labels.arraySync()).toEqual(indices.map((i) => [0, 1, 2, 3, 4].map((c) => (c === dataset.classes[i] ? 1 : 0))));
    expect(kind.labels.shape).toEqual([4, data.classNames.length]);
    expect(kind.labels.arraySync()).toEqual(indices.map((i) => data.classNames.map((name) => (name === fromFile[i].kind ? 1 : 0))));
    expect(Array.from(kind.images.dataSync())).toEqual(Array.from(sprite.images.dataSync()));
    tf.dispose([sprite.images, sprite.labels, kind.images, kind.labels]);
    expect(tf.memory().numTensors).toBe(start);
  });

  it("says what is wrong: an unknown attribute, captions of another set, a value outside the classes", () => {
    expect(() => checkAttributeName("size")).toThrow('No attribute classifier "size": the attributes are kind, colour');
    expect(() => attributeDataset({ ...dataset, count: 8 }, captions, "kind")).toThrow(/the captions cover 120 images but .* has 8/);
    const names = attributeClassNames(captions, "colour");
    expect(() => attributeDataset(dataset, captions, "colour", names.slice(1))).toThrow(new RegExp(`has colour "${names[0]}", which is not among the ${names.length - 1} classes`));
    expect(() => parseAttributeClassifierArgs(["--attribute", "size"])).toThrow(/No attribute classifier "size"/);
    expect(() => parseAttributeClassifierArgs([])).toThrow(/--attribute is required: kind or colour/);
    expect(() => parseAttributeClassifierArgs(["--attribute", "kind", "--epochs", "0"])).toThrow('--epochs must be a whole number >= 1, got "0".');
    expect(parseAttributeClassifierArgs(["--attribute", "colour", "--out", join(dir, "out")])).toMatchObject({ attribute: "colour", out: join(dir, "out"), top: 10 });
  });
});

describe("training and scoring an attribute classifier", () => {
  it("lowers the loss in a few steps and leaks nothing", async () => {
    const data = attributeDataset(dataset, captions, "kind");
    // A narrow classifier: this checks the loop and the labels, not the architecture.
    const classifier = new SpriteClassifier({ channels: [8, 8, 8], featureSize: 16, classes: data.classNames.length }, 3);
    const before = tf.memory().numTensors;
    // 24 of the training images, 10 steps: the cpu backend is slow to train.
    const some = real.split.train.filter((_, k) => k % 4 === 0).slice(0, 24);
    const history = await trainClassifier(classifier, data.dataset, some, { epochs: 5, batchSize: 12, learningRate: 1e-2, seed: 1 });
    expect(history[4].meanLoss).toBeLessThan(0.85 * history[0].meanLoss);
    expect(tf.memory().numTensors).toBe(before);
    classifier.dispose();
  }, 600_000);

  it("scores the held-out bases, records each class, saves and loads with its attribute, leaks nothing", async () => {
    const data = attributeDataset(dataset, captions, "kind");
    const { train, heldOut } = real.split;
    const start = tf.memory().numTensors;
    const classifier = new SpriteClassifier({ channels: [4, 4, 4], featureSize: 8, classes: data.classNames.length }, 3);
    const score = await scoreClassifier(classifier, data.dataset, heldOut);
    expect(score.confusion.length).toBe(data.classNames.length);
    const records = attributeClassRecords(data, train, score);
    expect(records.map((r) => r.name)).toEqual(data.classNames);
    expect(records.reduce((sum, r) => sum + r.trainImages, 0)).toBe(train.length);
    expect(records.reduce((sum, r) => sum + r.heldOutImages, 0)).toBe(heldOut.length);
    for (const [c, r] of records.entries()) {
      const held = Array.from(heldOut).filter((i) => fromFile[i].kind === r.name).length;
      expect(r.heldOutImages).toBe(held);
      expect(r.recall).toBe(held === 0 ? null : score.confusion[c][c] / held);
    }

    const out = join(dir, "classifier-kind");
    const fields = { ...readClassifierManifest(), classNames: data.classNames, heldOutScore: score };
    await saveClassifier(out, classifier, { ...fields, attribute: { name: "kind", captions: "x", heldOutAccuracy: score.accuracy, classes: records, confusedPairs: [] } });
    const loaded = loadAttributeClassifier("kind", out);
    expect(loaded.classNames).toEqual(data.classNames);
    expect(loaded.manifest.attribute?.classes).toEqual(records);
    const x = sampleTensors(dataset, [0, 1]);
    const [a, b] = [classifier.logits(x.images), loaded.classifier.logits(x.images)];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x.images, x.labels, a, b]);
    loaded.classifier.dispose();
    expect(() => loadAttributeClassifier("colour", out)).toThrow(`${out} holds the kind classifier, not the colour classifier; train one with \`npm run train-attribute-classifier -- --attribute colour\`.`);
    // The sprite classifier's manifest (no attribute record) still loads as before, and is refused as an attribute's.
    expect(() => loadAttributeClassifier("kind", "models/classifier")).toThrow("models/classifier holds a classifier of no attribute, not the kind classifier");
    classifier.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it("lists the most confused pairs, most first, with the share of the true class", () => {
    const confusion = [
      [5, 3, 0],
      [1, 6, 0],
      [0, 4, 0],
    ];
    expect(mostConfusedPairs(confusion, ["a", "b", "c"], 2)).toEqual([
      { trueName: "c", predictedName: "b", count: 4, share: 1 },
      { trueName: "a", predictedName: "b", count: 3, share: 3 / 8 },
    ]);
    expect(mostConfusedPairs(confusion, ["a", "b", "c"]).length).toBe(3);
  });
});
