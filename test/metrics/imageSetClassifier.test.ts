import { statSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { fingerprint } from "../../src/lib/data/dataset";
import { SpriteClassifier } from "../../src/lib/metrics/classifier";
import { loadClassifier } from "../../src/lib/metrics/classifierFile";
import { trainClassifier } from "../../src/lib/metrics/classifierTraining";
import { classShares, contextAccuracy } from "../../src/lib/metrics/evaluate";
import {
  checkClassifierFits,
  checkImageSetName,
  imageSetClassifierConfig,
  imageSetClassifierDir,
  imageSetPart,
  loadImageSetClassifier,
} from "../../src/lib/metrics/imageSetClassifier";
import { testImages } from "../../src/lib/metrics/imageSetFrechet";
import { projectPath } from "../../src/lib/metrics/realSprites";
import { useTestBackend } from "../helpers/backends";

beforeAll(async () => {
  await useTestBackend();
});

/** Trainable scalars of the 28x28 architecture: three 3x3 convs, their BatchNorms, a 576-wide features layer, the logits. */
function expectedParameters(inChannels: number, classes: number): number {
  const convs = 9 * inChannels * 16 + 16 + 9 * 16 * 32 + 32 + 9 * 32 * 64 + 64;
  const norms = 2 * (16 + 32 + 64);
  return convs + norms + (3 * 3 * 64 * 64 + 64) + (64 * classes + classes);
}

describe("the classifier of a 28x28 set", () => {
  it.each([
    ["mnist", 1, 10],
    ["textures", 3, 6],
  ] as const)("%s: [N, 28, 28, %i] in, 64 features and %i logits out, with the documented parameter count", (name, channels, classes) => {
    const config = imageSetClassifierConfig(name);
    expect(config).toEqual({ height: 28, inChannels: channels, classes, finalPool: true });
    const classifier = new SpriteClassifier(config, 1);
    expect(classifier.parameterCount).toBe(expectedParameters(channels, classes));
    const x = tf.randomUniform([3, 28, 28, channels], -1, 1, "float32", 2) as tf.Tensor4D;
    tf.dispose([classifier.logits(x), classifier.features(x)]);
    const before = tf.memory().numTensors;
    const { features, logits } = classifier.forward(x);
    expect(features.shape).toEqual([3, 64]);
    expect(logits.shape).toEqual([3, classes]);
    tf.dispose([features, logits]);
    expect(tf.memory().numTensors).toBe(before);
    const wrong = tf.zeros([3, 28, 28, 4 - channels]) as tf.Tensor4D;
    expect(() => classifier.forward(wrong)).toThrow(new RegExp(`shape \\[3,28,28,${4 - channels}\\], expected \\[N, 28, 28, ${channels}\\]`));
    tf.dispose([x, wrong]);
    classifier.dispose();
  });

  it("keeps the sprites' architecture when finalPool is off (the shipped classifier's config has no such field)", () => {
    const sprites = new SpriteClassifier({}, 1);
    expect(sprites.config.finalPool).toBe(false);
    expect(sprites.parameters.spec("features.weight").shape).toEqual([1024, 64]);
    sprites.dispose();
  });

  it("learns from a few batches of MNIST (loss falls) and leaks no tensors while training", async () => {
    const train = imageSetPart("mnist", "train");
    const indices = Array.from({ length: 20 }, (_, k) => k * 2999);
    // A narrow classifier: this checks the loop at 28x28x1, not the architecture (the cpu backend's
    // gradients are slow at 28x28: these 120 sample passes take seconds).
    const classifier = new SpriteClassifier({ ...imageSetClassifierConfig("mnist"), channels: [4, 4, 4], featureSize: 16 }, 5);
    const before = tf.memory().numTensors;
    const history = await trainClassifier(classifier, train, indices, { epochs: 6, batchSize: 10, learningRate: 2e-2, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(history.map((h) => h.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(history[5].meanLoss).toBeLessThan(0.8 * history[0].meanLoss);
    classifier.dispose();
  });

  it("names the sets when given one that does not exist, and refuses a classifier of other images", () => {
    expect(() => checkImageSetName("cifar")).toThrow(/No image set "cifar": the 28x28 sets are mnist, textures/);
    expect(() => imageSetClassifierConfig("cifar" as "mnist")).toThrow(/No image set "cifar"/);
    const sprites = new SpriteClassifier({}, 1);
    expect(() => checkClassifierFits(sprites, imageSetPart("mnist", "test"))).toThrow(/takes \[16, 16, 3\] images but .* has \[28, 28, 1\]/);
    sprites.dispose();
    const tenClasses = new SpriteClassifier({ ...imageSetClassifierConfig("textures"), classes: 10 }, 1);
    expect(() => checkClassifierFits(tenClasses, imageSetPart("textures", "test"))).toThrow(/has 10 classes but .* has 6/);
    tenClasses.dispose();
    expect(() => loadImageSetClassifier("mnist", "models/classifier")).toThrow(/holds the classifier of the sprites, not of mnist/);
  });
});

describe.each(["mnist", "textures"] as const)("the trained classifier models/classifier-%s", (name) => {
  it("is the set's, trained on its train part and scored on its test part, small, and records its floor", () => {
    const { classifier, manifest } = loadImageSetClassifier(name);
    expect(classifier.config).toMatchObject(imageSetClassifierConfig(name));
    expect(manifest.imageSet?.trainFingerprint).toBe(fingerprint(imageSetPart(name, "train")));
    expect(manifest.imageSet?.testFingerprint).toBe(fingerprint(imageSetPart(name, "test")));
    expect(manifest.heldOutScore.count).toBe(imageSetPart(name, "test").count);
    expect(manifest.heldOutScore.accuracy).toBeGreaterThan(0.95);
    const { floor, noise } = manifest.imageSet!.frechet;
    expect(noise).toBeGreaterThan(20 * floor);
    expect(statSync(join(projectPath(imageSetClassifierDir(name)), manifest.tensors.file)).size).toBeLessThan(300_000);
    classifier.dispose();
    expect(() => loadClassifier(imageSetClassifierDir(name)).classifier.dispose()).not.toThrow();
  });

  it("gives the context accuracy of test images drawn for their own labels, over the set's classes", async () => {
    const { classifier } = loadImageSetClassifier(name);
    const real = testImages(name, 100, 0);
    const intended = Array.from(real.indices, (i) => imageSetPart(name, "test").classes[i]);
    const accuracy = await contextAccuracy(classifier, real.images, intended);
    expect(accuracy.counts.length).toBe(classifier.config.classes);
    expect(accuracy.overall).toBeGreaterThan(0.95);
    const shares = await classShares(classifier, real.images);
    expect(shares.length).toBe(classifier.config.classes);
    expect(shares.reduce((a, b) => a + b)).toBeCloseTo(1, 6);
    const k = classifier.config.classes;
    await expect(contextAccuracy(classifier, real.images, intended.map(() => k))).rejects.toThrow(`intended class ${k} of sample 0 is not a class index 0..${k - 1}`);
    tf.dispose([real.images, real.labels]);
    classifier.dispose();
  });
});
