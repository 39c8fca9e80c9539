/**
 * The 28x28 sets through the sprites' loader: any (N, H, W, C) images with (N, K) one-hot labels
 * load, subset, count and become [B, H, W, C] / [B, K] tensors; a set folder is written with its
 * manifest, checked against it, remade when a file is missing or altered, and a missing manifest
 * says which command makes it.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spriteBatches } from "../../src/lib/data/batches";
import { classCountOf, countClasses, fingerprint, imageDatasetFromArrays, imageShapeOf, sampleTensors, subsetDataset } from "../../src/lib/data/dataset";
import { ensureImageSet, loadImageSet, readImageSetManifest, writeImageSet, type ImageSetSpec } from "../../src/lib/data/imageSetFiles";
import { loadNamedImageSet, type ImageSetName } from "../../src/lib/data/namedImageSets";
import { TEXTURE_SET } from "../../src/lib/data/textures/textureSet";

const dir = mkdtempSync(join(tmpdir(), "image-sets-test-"));
beforeAll(async () => {
  await tf.setBackend("cpu");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("imageDatasetFromArrays (any size, K classes)", () => {
  const pixels = Uint8Array.from({ length: 3 * 4 * 2 * 1 }, (_, i) => [0, 255, 51][i % 3]);
  const labels = Uint8Array.of(0, 0, 1, 1, 0, 0, 0, 1, 0); // classes 2, 0, 1 of K = 3
  const data = imageDatasetFromArrays({ dtype: "uint8", shape: [3, 4, 2, 1], data: pixels }, { dtype: "uint8", shape: [3, 3], data: labels });

  it("records [H, W, C] and K, and tensors follow them with values in [-1, 1]", () => {
    expect(imageShapeOf(data)).toEqual([4, 2, 1]);
    expect(classCountOf(data)).toBe(3);
    expect(Array.from(data.classes)).toEqual([2, 0, 1]);
    expect(countClasses(data)).toEqual([1, 1, 1]);
    const { images, labels: oneHot } = sampleTensors(data, [2, 0]);
    expect(images.shape).toEqual([2, 4, 2, 1]);
    expect(oneHot.arraySync()).toEqual([[0, 1, 0], [0, 0, 1]]);
    const values = images.dataSync();
    expect(Math.min(...values)).toBe(-1);
    expect(Math.max(...values)).toBe(1);
    expect(values[1]).toBeCloseTo(51 / 127.5 - 1, 6); // sample 2 starts at pixel 16: 255, 51, 0, ...
    tf.dispose([images, oneHot]);
  });

  it("a subset keeps the shape and the class count", () => {
    const subset = subsetDataset(data, [1]);
    expect(imageShapeOf(subset)).toEqual([4, 2, 1]);
    expect(classCountOf(subset)).toBe(3);
    expect(Array.from(subset.pixels)).toEqual(Array.from(pixels.subarray(8, 16)));
  });

  it("sprite data sets keep their defaults: [16, 16, 3] and 5 classes", () => {
    const sprite = { count: 1, pixels: new Uint8Array(768), classes: Uint8Array.of(4), source: { images: "s", labels: "s" } };
    expect(imageShapeOf(sprite)).toEqual([16, 16, 3]);
    const { images, labels: oneHot } = sampleTensors(sprite, [0]);
    expect([images.shape, oneHot.shape]).toEqual([[1, 16, 16, 3], [1, 5]]);
    tf.dispose([images, oneHot]);
  });

  it("refuses 2 channels, labels that are not (N, K), and counts that differ", () => {
    const u8 = (shape: number[]) => ({ dtype: "uint8" as const, shape, data: new Uint8Array(shape.reduce((a, b) => a * b, 1)) });
    expect(() => imageDatasetFromArrays(u8([1, 2, 2, 2]), u8([1, 3]), { images: "im.npy", labels: "la.npy" })).toThrow("im.npy: images must be uint8 (N, H, W, C) NHWC with C = 1 (grey) or 3 (RGB), got uint8 (1, 2, 2, 2)");
    expect(() => imageDatasetFromArrays(u8([1, 2, 2, 1]), u8([1]), { images: "im.npy", labels: "la.npy" })).toThrow("la.npy: wrong shape (1,) for labels; expected (N, K) one-hot rows");
    expect(() => imageDatasetFromArrays(u8([2, 2, 2, 1]), u8([1, 3]), { images: "im.npy", labels: "la.npy" })).toThrow("la.npy: has 1 labels but im.npy has 2 images");
    expect(() => imageDatasetFromArrays(u8([1, 2, 2, 1]), u8([1, 3]), { images: "im.npy", labels: "la.npy" })).toThrow("la.npy: label row 0 is [0, 0, 0], not one-hot");
  });
});

describe("a set folder: write, check, remake", () => {
  const small = { seed: 5, counts: { train: 12, test: 6 } };
  const folder = join(dir, "textures");
  const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

  it("writes every part with its manifest, and loads them as [28, 28, 3] with 6 classes", () => {
    const manifest = writeImageSet(TEXTURE_SET, folder, small);
    expect(manifest.parts.train.count).toBe(12);
    expect(manifest.parts.test.classCounts).toEqual([1, 1, 1, 1, 1, 1]);
    expect(manifest.licence).toBe(TEXTURE_SET.licence);
    expect(sha256(readFileSync(join(folder, manifest.parts.train.images.name)))).toBe(manifest.parts.train.images.sha256);
    const train = loadImageSet(TEXTURE_SET, folder, "train");
    expect([train.count, classCountOf(train), ...imageShapeOf(train)]).toEqual([12, 6, 28, 28, 3]);
    expect(fingerprint(train)).toBe(manifest.parts.train.fingerprint);
    const { images, labels } = sampleTensors(train, [0, 1, 2]);
    expect([images.shape, labels.shape]).toEqual([[3, 28, 28, 3], [3, 6]]);
    tf.dispose([images, labels]);
    const batches = [...spriteBatches(train, { batchSize: 5, seed: 1 })];
    expect(batches.map((batch) => batch.images.shape[0])).toEqual([5, 5, 2]);
    expect(batches[0].images.shape.slice(1)).toEqual([28, 28, 3]);
    batches.forEach((batch) => tf.dispose([batch.images, batch.labels]));
  });

  it("loads by the name a config gives (\"textures\", a path), and refuses an unknown name", () => {
    const test = loadNamedImageSet("textures", "test", folder);
    expect([test.count, ...imageShapeOf(test)]).toEqual([6, 28, 28, 3]);
    expect(() => loadNamedImageSet("cifar" as ImageSetName)).toThrow('loadNamedImageSet: no image set "cifar"; the sets are mnist, textures.');
  });

  it("remakes a missing or altered file byte for byte from the manifest", () => {
    const manifest = readImageSetManifest(folder)!;
    const testImages = join(folder, manifest.parts.test.images.name);
    unlinkSync(testImages);
    writeFileSync(join(folder, manifest.parts.train.labels.name), "not a .npy file");
    expect(ensureImageSet(TEXTURE_SET, folder).generated).toBe(true);
    expect(sha256(readFileSync(testImages))).toBe(manifest.parts.test.images.sha256);
    expect(ensureImageSet(TEXTURE_SET, folder).generated).toBe(false);
  });

  it("a manifest the maker no longer reproduces: says so and how to rewrite it", () => {
    const changed: ImageSetSpec = { ...TEXTURE_SET, generator: "textures-changed", make: (options) => TEXTURE_SET.make({ ...options, seed: options.seed + 1 }) };
    unlinkSync(join(folder, readImageSetManifest(folder)!.parts.train.images.name));
    expect(() => ensureImageSet(changed, folder)).toThrow(/textures-changed no longer reproduces textures_train_28x28\.npy, textures_test_28x28\.npy.*npm run make-data -- --set textures --out/);
  });

  it("no manifest: names the set and the command that makes it", () => {
    expect(() => loadImageSet(TEXTURE_SET, join(dir, "empty"))).toThrow(/manifest\.json: no manifest of the textures set \(procedural textures.*\); make it with `npm run make-data -- --set textures --out /);
  });
});
