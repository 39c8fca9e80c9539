import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { spriteDatasetFromArrays } from "../../src/lib/data/dataset";
import { diversity, nearestNeighbourDistances, rmsDistanceMatrix, summariseDistances } from "../../src/lib/metrics/diversity";
import { useTestBackend } from "../helpers/backends";

beforeAll(async () => {
  await useTestBackend();
});

/** n sprites [n, 16, 16, 3] filled with one value each. */
const flatSprites = (values: number[]) => tf.tidy(() => tf.mul(tf.ones([values.length, 16, 16, 3]), tf.reshape(tf.tensor1d(values), [-1, 1, 1, 1])) as tf.Tensor4D);

describe("rmsDistanceMatrix", () => {
  it("matches sqrt(mean (a - b)^2) computed pair by pair", async () => {
    const a = tf.randomUniform([7, 768], -1, 1, "float32", 1) as tf.Tensor2D;
    const b = tf.randomUniform([5, 768], -1, 1, "float32", 2) as tf.Tensor2D;
    const fast = await rmsDistanceMatrix(a, b).data();
    const [av, bv] = [await a.data(), await b.data()];
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 5; j++) {
        let sum = 0;
        for (let p = 0; p < 768; p++) sum += (av[i * 768 + p] - bv[j * 768 + p]) ** 2;
        expect(fast[i * 5 + j]).toBeCloseTo(Math.sqrt(sum / 768), 4);
      }
    }
    tf.dispose([a, b]);
  });
});

describe("diversity", () => {
  it("is 0 with every sample a near-duplicate when all samples are the same", async () => {
    const same = flatSprites([0.3, 0.3, 0.3, 0.3]);
    const report = await diversity(same);
    expect(report.meanPairwiseDistance).toBeLessThan(1e-3);
    expect(report.nearDuplicateShare).toBe(1);
    same.dispose();
  });

  it("measures known distances: all -1 vs all +1 is 2 apart; values beyond [-1, 1] are clipped", async () => {
    // Samples at -1, +1 and +3 (clipped to +1): pairs 2, 2, 0 -> mean 4/3; two of three are near-duplicates.
    const images = flatSprites([-1, 1, 3]);
    const report = await diversity(images);
    expect(report.meanPairwiseDistance).toBeCloseTo(4 / 3, 4);
    expect(report.nearDuplicateShare).toBeCloseTo(2 / 3, 6);
    expect(report.meanNearestOtherDistance).toBeCloseTo(2 / 3, 4);
    images.dispose();
  });

  it("rates independent noise images as diverse, without near-duplicates", async () => {
    const noise = tf.randomUniform([50, 16, 16, 3], -1, 1, "float32", 3) as tf.Tensor4D;
    const report = await diversity(noise);
    expect(report.meanPairwiseDistance).toBeGreaterThan(0.7); // E|u - v|^2 = 2/3 for u, v ~ U(-1, 1)
    expect(report.nearDuplicateShare).toBe(0);
    noise.dispose();
  });
});

describe("nearestNeighbourDistances", () => {
  it("finds an exact copy at distance 0 and a shifted sprite at its distance, across chunks", async () => {
    // A reference set of 10 flat sprites with values 0..255 -> (v / 255 - 0.5) / 0.5.
    const pixels = new Uint8Array(10 * 768);
    for (let i = 0; i < 10; i++) pixels.fill(i * 25, i * 768, (i + 1) * 768);
    const labels = new Float64Array(10 * 5).map((_, k) => (k % 5 === 0 ? 1 : 0));
    const reference = spriteDatasetFromArrays({ dtype: "uint8", shape: [10, 16, 16, 3], data: pixels }, { dtype: "float64", shape: [10, 5], data: labels });
    const unit = (v: number) => (v / 255 - 0.5) / 0.5;
    const samples = flatSprites([unit(75), unit(100) + 0.01, 1]);
    const distances = await nearestNeighbourDistances(samples, reference, undefined, 3);
    expect(distances[0]).toBeLessThan(1e-3);
    expect(distances[1]).toBeCloseTo(0.01, 3);
    expect(distances[2]).toBeCloseTo(1 - unit(225), 4);
    // Restricted to indices 0..2 (values up to 50), the closest to unit(75) is unit(50).
    const restricted = await nearestNeighbourDistances(samples, reference, [0, 1, 2]);
    expect(restricted[0]).toBeCloseTo(unit(75) - unit(50), 4);
    samples.dispose();
  });

  it("summarises distances with mean, median and the share below the threshold", () => {
    expect(summariseDistances([0.01, 0.5, 0.3, 0.02], 0.05)).toEqual({ mean: 0.2075, median: 0.16, min: 0.01, shareBelowThreshold: 0.5, threshold: 0.05 });
  });

  it("leaks no tensors", async () => {
    const samples = tf.randomUniform([20, 16, 16, 3], -1, 1, "float32", 4) as tf.Tensor4D;
    const pixels = new Uint8Array(30 * 768).map((_, k) => (k * 7) % 256);
    const labels = new Float64Array(30 * 5).map((_, k) => (k % 5 === 1 ? 1 : 0));
    const reference = spriteDatasetFromArrays({ dtype: "uint8", shape: [30, 16, 16, 3], data: pixels }, { dtype: "float64", shape: [30, 5], data: labels });
    await diversity(samples);
    await nearestNeighbourDistances(samples, reference, undefined, 7);
    const before = tf.memory().numTensors;
    await diversity(samples);
    await nearestNeighbourDistances(samples, reference, undefined, 7);
    expect(tf.memory().numTensors).toBe(before);
    samples.dispose();
  });
});
