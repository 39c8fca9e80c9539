import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpriteClassifier } from "../../src/lib/metrics/classifier";
import { featureFit } from "../../src/lib/metrics/evaluate";
import { frechetDistance } from "../../src/lib/metrics/frechet";
import { imageSetClassifierConfig } from "../../src/lib/metrics/imageSetClassifier";
import { clippedNoiseImages, frechetAgainstTestSet, testImages } from "../../src/lib/metrics/imageSetFrechet";
import { useTestBackend } from "../helpers/backends";

// A narrow untrained classifier per set (8 features): the distance's properties hold for any
// feature extractor, it is fast on the cpu backend, and the tests need no trained model (the
// trained ones' floors at n = 1000 are in their manifests).
const classifiers = new Map<string, SpriteClassifier>();
beforeAll(async () => {
  await useTestBackend();
  for (const name of ["mnist", "textures"] as const) {
    classifiers.set(name, new SpriteClassifier({ ...imageSetClassifierConfig(name), channels: [4, 4, 4], featureSize: 8 }, 3));
  }
});
afterAll(() => classifiers.forEach((c) => c.dispose()));

const N = 100;

describe("testImages", () => {
  it("gives disjoint seeded draws of the test part, and says how many there are", () => {
    const a = testImages("textures", N, 4, 0);
    const b = testImages("textures", N, 4, N);
    const again = testImages("textures", N, 4, 0);
    expect(new Set([...a.indices, ...b.indices]).size).toBe(2 * N);
    expect(Array.from(again.indices)).toEqual(Array.from(a.indices));
    expect(a.images.shape).toEqual([N, 28, 28, 3]);
    expect(a.labels.shape).toEqual([N, 6]);
    tf.dispose([a.images, a.labels, b.images, b.labels, again.images, again.labels]);
    expect(() => testImages("mnist", 6000, 0, 5000)).toThrow(/test part's order, which has 10000/);
    expect(() => testImages("cifar" as "mnist", 10)).toThrow(/No image set "cifar"/);
  });
});

describe.each(["mnist", "textures"] as const)("frechetAgainstTestSet on %s", (name) => {
  it("is ~0 for a draw against itself, reports the distance of two disjoint draws as its floor, and leaks nothing", async () => {
    const classifier = classifiers.get(name)!;
    const first = testImages(name, N, 0, 0);
    const second = testImages(name, N, 0, N);
    const warm = await frechetAgainstTestSet(classifier, first.images, name, 0);
    const before = tf.memory().numTensors;
    const report = await frechetAgainstTestSet(classifier, first.images, name, 0);
    expect(tf.memory().numTensors).toBe(before);
    expect(report).toEqual(warm);
    expect(report).toMatchObject({ set: name, n: N, seed: 0 });
    expect(report.fd).toBeLessThan(1e-6);
    const floor = frechetDistance(await featureFit(classifier, second.images), await featureFit(classifier, first.images));
    expect(report.floor).toBeCloseTo(floor, 9);
    expect(report.floor).toBeGreaterThan(0);
    tf.dispose([first.images, first.labels, second.images, second.labels]);
  });

  it("refuses generated images of another shape and a classifier of another set", async () => {
    const classifier = classifiers.get(name)!;
    const other = name === "mnist" ? "textures" : "mnist";
    const wrong = clippedNoiseImages(other, 4, 0);
    await expect(frechetAgainstTestSet(classifier, wrong, name)).rejects.toThrow(/generated images have shape \[4,28,28,\d\] but the classifier takes/);
    await expect(frechetAgainstTestSet(classifiers.get(other)!, wrong, name)).rejects.toThrow(/The classifier takes \[28, 28, \d\] images but the .* has \[28, 28, \d\]/);
    wrong.dispose();
  });
});

describe("clippedNoiseImages", () => {
  it("is shaped like the set's images, within [-1, 1], and the same for the same seed (0 too)", async () => {
    const noise = clippedNoiseImages("mnist", 5, 0);
    const again = clippedNoiseImages("mnist", 5, 0);
    expect(noise.shape).toEqual([5, 28, 28, 1]);
    const values = Array.from(await noise.data());
    expect(values.reduce((a, b) => Math.min(a, b))).toBe(-1);
    expect(values.reduce((a, b) => Math.max(a, b))).toBe(1);
    expect(Array.from(await again.data())).toEqual(values);
    tf.dispose([noise, again]);
  });
});
