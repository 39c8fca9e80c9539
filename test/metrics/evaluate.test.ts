import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadClassifier } from "../../src/lib/metrics/classifierFile";
import { contextAccuracy, featureFit, sfdAgainstHeldOut, spriteFrechetDistance } from "../../src/lib/metrics/evaluate";
import { frechetDistance } from "../../src/lib/metrics/frechet";
import { heldOutRealSprites, realSpriteSet } from "../../src/lib/metrics/realSprites";
import { useTestBackend } from "../helpers/backends";

let shipped: ReturnType<typeof loadClassifier>;
beforeAll(async () => {
  await useTestBackend();
  shipped = loadClassifier();
});
afterAll(() => shipped?.classifier.dispose());

const N = 300;

/** Each channel blurred with a 3 x 3 box filter ("same" padding). */
const boxBlur = (images: tf.Tensor4D) => tf.tidy(() => tf.depthwiseConv2d(images, tf.fill([3, 3, 3, 1], 1 / 9) as tf.Tensor4D, 1, "same"));

describe("heldOutRealSprites", () => {
  it("gives disjoint draws for offsets 0 and n, all from the held-out split", () => {
    const a = heldOutRealSprites(N, 5, 0);
    const b = heldOutRealSprites(N, 5, N);
    const held = new Set(realSpriteSet().split.heldOut);
    expect(new Set([...a.indices, ...b.indices]).size).toBe(2 * N);
    expect([...a.indices, ...b.indices].every((i) => held.has(i))).toBe(true);
    expect(a.images.shape).toEqual([N, 16, 16, 3]);
    tf.dispose([a.images, a.labels, b.images, b.labels]);
    expect(() => heldOutRealSprites(5000, 0, 5000)).toThrow(/which has 8950/);
  });
});

describe("sprite Frechet distance (SFD)", () => {
  it("separates real sprites from noise and from blurred sprites by a wide margin", async () => {
    const { classifier } = shipped;
    const reference = heldOutRealSprites(N, 1, 0);
    const other = heldOutRealSprites(N, 1, N);
    const noise = tf.randomNormal([N, 16, 16, 3], 0, 1, "float32", 7) as tf.Tensor4D;
    const blurred = boxBlur(other.images);
    const referenceFit = await featureFit(classifier, reference.images);
    const floor = frechetDistance(await featureFit(classifier, other.images), referenceFit);
    const toNoise = frechetDistance(await featureFit(classifier, noise), referenceFit);
    const toBlurred = frechetDistance(await featureFit(classifier, blurred), referenceFit);
    console.log(`SFD at n = ${N}: real vs real ${floor.toFixed(2)}, noise ${toNoise.toFixed(1)}, blurred ${toBlurred.toFixed(1)}`);
    expect(floor).toBeLessThan(25);
    expect(toNoise).toBeGreaterThan(20 * floor);
    expect(toBlurred).toBeGreaterThan(20 * floor);
    // The same distance through the one-call API; a set against itself is 0.
    expect(await spriteFrechetDistance(classifier, other.images, reference.images)).toBeCloseTo(floor, 6);
    expect(await spriteFrechetDistance(classifier, reference.images, reference.images)).toBeLessThan(1e-6);
    tf.dispose([reference.images, reference.labels, other.images, other.labels, noise, blurred]);
  });

  it("reports SFD and its floor against held-out sprites without leaking tensors", async () => {
    const real = heldOutRealSprites(100, 3, 0);
    const blurred = boxBlur(real.images);
    await sfdAgainstHeldOut(shipped.classifier, blurred, 3);
    const before = tf.memory().numTensors;
    const report = await sfdAgainstHeldOut(shipped.classifier, blurred, 3);
    expect(tf.memory().numTensors).toBe(before);
    expect(report).toMatchObject({ n: 100, seed: 3 });
    expect(report.sfd).toBeGreaterThan(10 * report.sfdFloor);
    tf.dispose([real.images, real.labels, blurred]);
  });
});

describe("contextAccuracy", () => {
  it("is about 1 for real sprites with their own classes and 0 with every class shifted by one", async () => {
    const real = heldOutRealSprites(N, 2, 0);
    const right = await contextAccuracy(shipped.classifier, real.images, real.classes);
    expect(right.overall).toBeGreaterThan(0.98);
    expect(right.counts.reduce((a, b) => a + b, 0)).toBe(N);
    right.perClass.forEach((share, c) => expect(share === null ? right.counts[c] === 0 : share > 0.9).toBe(true));
    const shifted = await contextAccuracy(shipped.classifier, real.images, real.classes.map((c) => (c + 1) % 5));
    expect(shifted.overall).toBeLessThan(0.02);
    await expect(contextAccuracy(shipped.classifier, real.images, [0, 1])).rejects.toThrow(/300 samples but 2 intended classes/);
    await expect(contextAccuracy(shipped.classifier, real.images, new Array(N).fill(5))).rejects.toThrow(/intended class 5 of sample 0/);
    tf.dispose([real.images, real.labels]);
  });
});
