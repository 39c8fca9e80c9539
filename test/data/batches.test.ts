import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { beforeAll, describe, expect, it } from "vitest";
import { batchesPerEpoch, epochOrder, spriteBatches, splitIndices } from "../../src/lib/data/batches";
import type { SpriteDataset } from "../../src/lib/data/dataset";

/** 1,003 synthetic sprites whose first pixel byte encodes the index (mod 256), classes i mod 5. */
const count = 1003;
const dataset: SpriteDataset = {
  count,
  pixels: Uint8Array.from({ length: count * 768 }, (_, i) => Math.floor(i / 768) % 256),
  classes: Uint8Array.from({ length: count }, (_, i) => i % 5),
  source: { images: "synthetic", labels: "synthetic" },
};

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("spriteBatches", () => {
  it("covers every sample exactly once per epoch, keeping the last partial batch", () => {
    const seen: number[] = [];
    const sizes: number[] = [];
    for (const batch of spriteBatches(dataset, { batchSize: 100, seed: 1 })) {
      sizes.push(batch.images.shape[0]);
      expect(batch.labels.shape).toEqual([batch.images.shape[0], 5]);
      seen.push(...batch.indices);
      tf.dispose([batch.images, batch.labels]);
    }
    expect(sizes).toEqual([...new Array(10).fill(100), 3]);
    expect(batchesPerEpoch(count, 100)).toBe(11);
    expect(new Set(seen).size).toBe(count);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(seen.slice(0, 20)).not.toEqual(Array.from({ length: 20 }, (_, i) => i)); // shuffled
  });

  it("dropLast drops only the short last batch, without duplicates", () => {
    const seen: number[] = [];
    for (const batch of spriteBatches(dataset, { batchSize: 100, seed: 1, dropLast: true })) {
      expect(batch.images.shape[0]).toBe(100);
      seen.push(...batch.indices);
      tf.dispose([batch.images, batch.labels]);
    }
    expect(seen.length).toBe(1000);
    expect(new Set(seen).size).toBe(1000);
  });

  it("tensors hold the samples named in indices", () => {
    const batch = spriteBatches(dataset, { batchSize: 64, seed: 9, epoch: 2 }).next().value!;
    const images = batch.images.dataSync();
    const labels = batch.labels.dataSync();
    batch.indices.forEach((index, i) => {
      expect(images[i * 768]).toBeCloseTo((index % 256) / 127.5 - 1, 6);
      expect(labels[i * 5 + (index % 5)]).toBe(1);
    });
    tf.dispose([batch.images, batch.labels]);
  });

  it("is seeded: same seed and epoch repeat, another epoch or seed reshuffles", () => {
    expect(epochOrder(count, 5, 0)).toEqual(epochOrder(count, 5, 0));
    expect(epochOrder(count, 5, 1)).not.toEqual(epochOrder(count, 5, 0));
    expect(epochOrder(count, 6, 0)).not.toEqual(epochOrder(count, 5, 0));
    const inOrder = spriteBatches(dataset, { batchSize: 10, shuffle: false }).next().value!;
    expect(Array.from(inOrder.indices)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    tf.dispose([inOrder.images, inOrder.labels]);
  });

  it("leaks no tensors across batches: only the batch being used is alive", () => {
    const warm = spriteBatches(dataset, { batchSize: 50 }).next().value!;
    tf.dispose([warm.images, warm.labels]);
    const before = tf.memory().numTensors;
    for (const batch of spriteBatches(dataset, { batchSize: 50, seed: 4 })) {
      expect(tf.memory().numTensors).toBe(before + 2);
      tf.dispose([batch.images, batch.labels]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects a bad batch size", () => {
    expect(() => spriteBatches(dataset, { batchSize: 0 }).next()).toThrow(/batchSize must be a positive integer, got 0/);
  });
});

describe("splitIndices", () => {
  it("splits into disjoint parts that cover everything, seeded", () => {
    const { train, heldOut } = splitIndices(count, { heldOut: 0.1, seed: 2 });
    expect(heldOut.length).toBe(100);
    expect(train.length + heldOut.length).toBe(count);
    expect(new Set([...train, ...heldOut]).size).toBe(count);
    expect(splitIndices(count, { heldOut: 0.1, seed: 2 }).heldOut).toEqual(heldOut);
    expect(splitIndices(count, { heldOut: 0.1, seed: 3 }).heldOut).not.toEqual(heldOut);
  });

  it("keeps groups (a base's variants) on one side", () => {
    const { train, heldOut } = splitIndices(1000, { heldOut: 200, seed: 1, groupSize: 50 });
    expect(heldOut.length).toBe(200);
    const heldGroups = new Set(Array.from(heldOut, (i) => Math.floor(i / 50)));
    expect(heldGroups.size).toBe(4);
    for (const i of train) expect(heldGroups.has(Math.floor(i / 50))).toBe(false);
  });

  it("refuses a split that leaves a part empty", () => {
    expect(() => splitIndices(10, { heldOut: 0.01 })).toThrow(/leaves an empty part/);
    expect(() => splitIndices(10, { heldOut: 10 })).toThrow(/leaves an empty part/);
  });
});
