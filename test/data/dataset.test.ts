import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { formatNpy, parseNpy, writeNpy, type NpyArray } from "../../src/lib/data/npy";
import { countClasses, fingerprint, loadImagesOnlyDataset, loadSpriteDataset, oneHotContexts, sampleTensors, spriteDatasetFromArrays, subsetDataset } from "../../src/lib/data/dataset";
import { generateSpriteSet } from "../../src/lib/data/sprites/generate";
import { spriteSetArrays } from "../../src/lib/data/spriteFiles";

const dir = mkdtempSync(join(tmpdir(), "dataset-test-"));
const set = generateSpriteSet({ seed: 3, count: 500, variantsPerBase: 10 });
const arrays = spriteSetArrays(set);
const imagesPath = join(dir, "images.npy");
const labelsPath = join(dir, "labels.npy");

beforeAll(async () => {
  await tf.setBackend("cpu");
  writeNpy(imagesPath, arrays.images);
  writeNpy(labelsPath, arrays.labels);
});

function writeArray(name: string, array: NpyArray): string {
  const path = join(dir, name);
  writeNpy(path, array);
  return path;
}

describe("loadSpriteDataset", () => {
  it("loads a matching pair and keeps the data in typed arrays", () => {
    const data = loadSpriteDataset(imagesPath, labelsPath);
    expect(data.count).toBe(500);
    expect(data.pixels).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(data.pixels).equals(Buffer.from(set.images))).toBe(true);
    expect(Array.from(data.classes)).toEqual(Array.from(set.classes));
    expect(countClasses(data).reduce((a, b) => a + b)).toBe(500);
  });

  it("accepts float32 labels like float64 ones", () => {
    const f32 = writeArray("labels-f32.npy", { dtype: "float32", shape: arrays.labels.shape, data: Float32Array.from(arrays.labels.data) });
    expect(Array.from(loadSpriteDataset(imagesPath, f32).classes)).toEqual(Array.from(set.classes));
  });

  it("a truncated images file: names the file and says truncated", () => {
    const bytes = readFileSync(imagesPath);
    const path = join(dir, "truncated-images.npy");
    writeFileSync(path, bytes.subarray(0, bytes.length - 1000));
    expect(() => loadSpriteDataset(path, labelsPath)).toThrow(new RegExp(`${path}: truncated`));
  });

  it("images of the wrong shape (NCHW): names the file and the shape", () => {
    const nchw = writeArray("nchw.npy", { dtype: "uint8", shape: [500, 3, 16, 16], data: set.images });
    expect(() => loadSpriteDataset(nchw, labelsPath)).toThrow(new RegExp(`${nchw}: wrong shape \\(500, 3, 16, 16\\) for images; expected \\(N, 16, 16, 3\\)`));
  });

  it("images that are not uint8", () => {
    const floats = writeArray("float-images.npy", { dtype: "float32", shape: [1, 16, 16, 3], data: new Float32Array(768) });
    const oneLabel = writeArray("one-label.npy", { dtype: "float64", shape: [1, 5], data: Float64Array.of(1, 0, 0, 0, 0) });
    expect(() => loadSpriteDataset(floats, oneLabel)).toThrow(/float-images\.npy: images must be uint8/);
  });

  it("labels of the wrong shape", () => {
    const path = writeArray("labels-4.npy", { dtype: "float64", shape: [500, 4], data: new Float64Array(2000) });
    expect(() => loadSpriteDataset(imagesPath, path)).toThrow(new RegExp(`${path}: wrong shape \\(500, 4\\) for labels; expected \\(N, 5\\)`));
  });

  it("a labels file that does not match the images", () => {
    const path = writeArray("labels-499.npy", { dtype: "float64", shape: [499, 5], data: arrays.labels.data.slice(0, 499 * 5) as Float64Array });
    expect(() => loadSpriteDataset(imagesPath, path)).toThrow(new RegExp(`${path}: has 499 labels but ${imagesPath} has 500 images`));
  });

  it("a label row that is not one-hot names the file and the row", () => {
    for (const [name, row] of [["half", [0, 0.5, 0.5, 0, 0]], ["two", [1, 0, 0, 1, 0]], ["none", [0, 0, 0, 0, 0]]] as const) {
      const data = Float64Array.from(arrays.labels.data);
      data.set(row, 123 * 5);
      const path = writeArray(`labels-${name}.npy`, { dtype: "float64", shape: [500, 5], data });
      expect(() => loadSpriteDataset(imagesPath, path)).toThrow(new RegExp(`${path}: label row 123 is \\[${row.join(", ")}\\], not one-hot`));
    }
  });
});

describe("fingerprint", () => {
  it("is stable, short, and changes with one pixel or one label", () => {
    const data = loadSpriteDataset(imagesPath, labelsPath);
    const print = fingerprint(data);
    expect(print).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint(loadSpriteDataset(imagesPath, labelsPath))).toBe(print);
    const pixels = data.pixels.slice();
    pixels[4242] ^= 1;
    expect(fingerprint({ ...data, pixels })).not.toBe(print);
    const classes = data.classes.slice();
    classes[7] = (classes[7] + 1) % 5;
    expect(fingerprint({ ...data, classes })).not.toBe(print);
  });
});

describe("sampleTensors and subsetDataset", () => {
  it("maps 0..255 to [-1, 1] NHWC and labels to one-hot, in the order asked", () => {
    const data = loadSpriteDataset(imagesPath, labelsPath);
    const indices = [17, 3, 499];
    const { images, labels } = sampleTensors(data, indices);
    expect(images.shape).toEqual([3, 16, 16, 3]);
    expect(labels.shape).toEqual([3, 5]);
    const values = images.dataSync();
    indices.forEach((index, i) => {
      for (const p of [0, 100, 767]) expect(values[i * 768 + p]).toBeCloseTo(data.pixels[index * 768 + p] / 127.5 - 1, 6);
    });
    const rows = labels.arraySync();
    expect(rows.map((row) => row.indexOf(1))).toEqual(indices.map((i) => data.classes[i]));
    expect(rows.map((row) => row.reduce((a, b) => a + b))).toEqual([1, 1, 1]);
    tf.dispose([images, labels]);
    const extremes = { ...data, count: 1, pixels: Uint8Array.from({ length: 768 }, (_, i) => (i % 2 ? 255 : 0)) };
    const { images: edge, labels: edgeLabels } = sampleTensors(extremes, [0]);
    expect(Array.from(edge.dataSync().slice(0, 2))).toEqual([-1, 1]);
    tf.dispose([edge, edgeLabels]);
  });

  it("subsetDataset copies the chosen samples", () => {
    const data = loadSpriteDataset(imagesPath, labelsPath);
    const sub = subsetDataset(data, [9, 1]);
    expect(sub.count).toBe(2);
    expect(Buffer.from(sub.pixels.subarray(0, 768)).equals(Buffer.from(data.pixels.subarray(9 * 768, 10 * 768)))).toBe(true);
    expect(Array.from(sub.classes)).toEqual([data.classes[9], data.classes[1]]);
    expect(() => subsetDataset(data, [500])).toThrow(/sample index 500 is outside 0\.\.499/);
  });

  it("loads from .npy bytes in memory as from files", () => {
    const images = parseNpy(formatNpy(arrays.images), "images bytes");
    const labels = parseNpy(formatNpy(arrays.labels), "labels bytes");
    const data = spriteDatasetFromArrays(images, labels, { images: "images bytes", labels: "labels bytes" });
    expect(fingerprint(data)).toBe(fingerprint(loadSpriteDataset(imagesPath, labelsPath)));
  });
});

describe("images without labels", () => {
  it("load alone, keep their pixels, and give all-zero label rows (no context)", () => {
    const data = loadImagesOnlyDataset(imagesPath);
    expect(data.count).toBe(500);
    expect(data.source).toEqual({ images: imagesPath, labels: null });
    expect(Buffer.from(data.pixels).equals(Buffer.from(set.images))).toBe(true);
    const { images, labels } = sampleTensors(data, [4, 2]);
    const labelled = sampleTensors(loadSpriteDataset(imagesPath, labelsPath), [4, 2]);
    expect(Array.from(images.dataSync())).toEqual(Array.from(labelled.images.dataSync()));
    expect(labels.arraySync()).toEqual([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]);
    tf.dispose([images, labels, labelled.images, labelled.labels]);
    expect(subsetDataset(data, [1, 0]).source.labels).toBeNull();
  });

  it("are checked like labelled images", () => {
    const nchw = writeArray("nchw-alone.npy", { dtype: "uint8", shape: [500, 3, 16, 16], data: set.images });
    expect(() => loadImagesOnlyDataset(nchw)).toThrow(new RegExp(`${nchw}: wrong shape \\(500, 3, 16, 16\\) for images`));
    expect(() => loadImagesOnlyDataset(labelsPath)).toThrow(/labels\.npy: images must be uint8/);
  });
});

describe("oneHotContexts", () => {
  it("makes one float32 one-hot row per class index, 5 classes unless told", () => {
    const contexts = oneHotContexts([2, 0, 4]);
    expect(contexts.dtype).toBe("float32");
    expect(contexts.arraySync()).toEqual([[0, 0, 1, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 1]]);
    const three = oneHotContexts(Uint8Array.of(1), 3);
    expect(three.arraySync()).toEqual([[0, 1, 0]]);
    tf.dispose([contexts, three]);
  });

  it("refuses a class outside 0..K-1 (tf.oneHot would give a silent row of zeros)", () => {
    expect(() => oneHotContexts([0, 5])).toThrow("oneHotContexts: class 5 at position 1 is not a class index 0..4.");
    expect(() => oneHotContexts([1.5], 3)).toThrow(/class 1.5 at position 0 is not a class index 0\.\.2/);
  });
});
