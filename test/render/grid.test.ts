import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { beforeAll, describe, expect, it } from "vitest";
import { captionBandHeight, renderGridPng, renderGridRgba } from "../../src/lib/render";
import { coloursIn, decodeImage, pixelAt, type DecodedImage } from "./imageBytes";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

// Colours in model space [-1, 1] and their "clip" bytes: round(255 (x + 1) / 2).
const RED = [1, -1, -1];
const GREEN = [-1, 1, -1];
const BLUE = [-1, -1, 1];
const GREY = [0, 0, 0]; // 127.5 -> 128
const BYTES: Record<string, number[]> = {
  RED: [255, 0, 0, 255],
  GREEN: [0, 255, 0, 255],
  BLUE: [0, 0, 255, 255],
  GREY: [128, 128, 128, 255],
};

/** [N, H, W, 3] of solid colours; H != W so a transposed layout shows. */
function solidBatch(colours: number[][], height = 3, width = 2): tf.Tensor4D {
  const values = colours.flatMap((rgb) => Array.from({ length: height * width }, () => rgb).flat());
  return tf.tensor4d(values, [colours.length, height, width, 3]);
}

function expectSolid(image: DecodedImage, x0: number, y0: number, w: number, h: number, rgba: number[]): void {
  expect([...coloursIn(image, x0, y0, w, h)]).toEqual([rgba.join(",")]);
}

describe("renderGridPng of a 4-D batch", () => {
  it("lays out 2 x 2 solid sprites at the documented size, cell places and gutters", async () => {
    const batch = solidBatch([RED, GREEN, BLUE, GREY]);
    const png = renderGridPng(batch, { rows: 2, scale: 4, gutter: 2, gutterColor: "#ff00ff" });
    const image = await decodeImage(png);
    // cells 2 x 4 = 8 wide, 3 x 4 = 12 high; width = 2 x 8 + 2, height = 2 x 12 + 2
    expect([image.width, image.height]).toEqual([18, 26]);
    expectSolid(image, 0, 0, 8, 12, BYTES.RED); // image 0: row 0, col 0
    expectSolid(image, 10, 0, 8, 12, BYTES.GREEN); // image 1: row 0, col 1
    expectSolid(image, 0, 14, 8, 12, BYTES.BLUE); // image 2: row 1, col 0
    expectSolid(image, 10, 14, 8, 12, BYTES.GREY);
    expectSolid(image, 8, 0, 2, 26, [255, 0, 255, 255]); // vertical gutter
    expectSolid(image, 0, 12, 18, 2, [255, 0, 255, 255]); // horizontal gutter
    // The PNG holds exactly the pixels of the RGBA renderer.
    const rgba = renderGridRgba(batch, { rows: 2, scale: 4, gutter: 2, gutterColor: "#ff00ff" });
    expect(Buffer.from(rgba.rgba).equals(Buffer.from(image.rgba))).toBe(true);
    batch.dispose();
  });

  it("scales up by nearest neighbour: output (y, x) copies input (floor(y / s), floor(x / s))", () => {
    const [height, width, scale] = [3, 4, 5];
    const values = Float32Array.from({ length: height * width * 3 }, (_, i) => ((i * 37) % 101) / 50 - 1);
    const batch = tf.tensor4d(values, [1, height, width, 3]);
    const { width: outW, height: outH, rgba } = renderGridRgba(batch, { scale });
    expect([outW, outH]).toEqual([width * scale, height * scale]);
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        const source = (Math.floor(y / scale) * width + Math.floor(x / scale)) * 3;
        const expected = [0, 1, 2].map((c) => Math.round(255 * ((Math.max(-1, Math.min(1, values[source + c])) + 1) / 2)));
        expect(Array.from(rgba.subarray((y * outW + x) * 4, (y * outW + x) * 4 + 3))).toEqual(expected);
      }
    }
    batch.dispose();
  });

  it("derives rows and cols: default ceil(sqrt(N)) columns, or from the one given; empty cells show the background", async () => {
    const five = solidBatch([RED, GREEN, BLUE, GREY, RED], 1, 1);
    const sizeOf = async (options: Parameters<typeof renderGridPng>[1]) => {
      const image = await decodeImage(renderGridPng(five, { scale: 1, gutter: 0, ...options }));
      return [image.width, image.height];
    };
    expect(await sizeOf({})).toEqual([3, 2]); // cols = ceil(sqrt(5)) = 3, rows = 2
    expect(await sizeOf({ rows: 1 })).toEqual([5, 1]);
    expect(await sizeOf({ cols: 2 })).toEqual([2, 3]);
    const image = await decodeImage(renderGridPng(five, { scale: 1, gutter: 0, background: "#00ffff" }));
    expect(pixelAt(image, 1, 1)).toEqual(BYTES.RED); // image 4 at row 1, col 1
    expect(pixelAt(image, 2, 1)).toEqual([0, 255, 255, 255]); // no image 5
    five.dispose();
  });

  it("uses the default scale 4, gutter 2 and a light grey gutter", async () => {
    const batch = solidBatch([RED, GREEN], 16, 16);
    const image = await decodeImage(renderGridPng(batch));
    expect([image.width, image.height]).toEqual([2 * 64 + 2, 64]); // cols = ceil(sqrt(2)) = 2
    expect(pixelAt(image, 64, 10)).toEqual([192, 192, 192, 255]);
    batch.dispose();
  });

  it("renders a grey (1-channel) batch as equal RGB", () => {
    const batch = tf.tensor4d([-1, 0, 1, 0.5], [4, 1, 1, 1]);
    const { rgba } = renderGridRgba(batch, { rows: 1, scale: 1, gutter: 0 });
    expect(Array.from(rgba)).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255, 191, 191, 191, 255]);
    batch.dispose();
  });

  it("applies the minmax normalisation when asked", () => {
    // One 1 x 2 image: R in {-0.2, 0.2} stretches to 0 / 255 (clip would give 102 / 153).
    const batch = tf.tensor4d([-0.2, 0, 0, 0.2, 0, 0], [1, 1, 2, 3]);
    const minmax = renderGridRgba(batch, { scale: 1, normalization: "minmax" });
    const clip = renderGridRgba(batch, { scale: 1 });
    expect([minmax.rgba[0], minmax.rgba[4]]).toEqual([0, 255]);
    expect([clip.rgba[0], clip.rgba[4]]).toEqual([102, 153]);
    batch.dispose();
  });
});

describe("renderGridPng of a 5-D frames x batch stack", () => {
  it("puts frames in columns and samples in rows: image [f, n] at row n, column f", async () => {
    const colours = [RED, GREEN, BLUE, GREY, RED, BLUE]; // [f, n] = colours[f * 2 + n], F = 3, N = 2
    const stack = tf.tensor5d(colours.flatMap((c) => [...c, ...c]), [3, 2, 1, 2, 3]);
    const image = await decodeImage(renderGridPng(stack, { scale: 2, gutter: 1 }));
    // 3 columns of 4 px, 2 rows of 2 px: width 3 x 4 + 2, height 2 x 2 + 1
    expect([image.width, image.height]).toEqual([14, 5]);
    const names = ["RED", "GREEN", "BLUE", "GREY", "RED", "BLUE"];
    for (let f = 0; f < 3; f++) {
      for (let n = 0; n < 2; n++) expectSolid(image, f * 5, n * 3, 4, 2, BYTES[names[f * 2 + n]]);
    }
    expect(() => renderGridPng(stack, { rows: 3 })).toThrow(/N = 2 samples as rows and its F = 3 frames as columns/);
    stack.dispose();
  });
});

describe("captions", () => {
  const band = captionBandHeight(12); // ceil(1.5 x 12) = 18

  it("column captions add one band on top, cell captions one band under every row, a title one more", async () => {
    const batch = solidBatch([RED, GREEN, BLUE, GREY], 4, 4);
    const base = { rows: 2, scale: 4, gutter: 2, background: "#ffffff" } as const;
    const plain = await decodeImage(renderGridPng(batch, base));
    expect([plain.width, plain.height]).toEqual([34, 34]);
    expect(band).toBe(18);

    const columns = await decodeImage(renderGridPng(batch, { ...base, columnCaptions: ["t=500", "t=0"] }));
    expect([columns.width, columns.height]).toEqual([34, 34 + band]);
    expectSolid(columns, 0, band, 16, 16, BYTES.RED); // the grid moved down by one band
    expectSolid(columns, 18, band + 18, 16, 16, BYTES.GREY);
    expect(coloursIn(columns, 0, 0, 16, band).size).toBeGreaterThan(1); // text was drawn in the band

    const cells = await decodeImage(renderGridPng(batch, { ...base, cellCaptions: ["a", "b", "c", "d"], title: "T" }));
    expect([cells.width, cells.height]).toEqual([34, band + 2 * (16 + band) + 2]);
    expectSolid(cells, 0, band, 16, 16, BYTES.RED);
    expectSolid(cells, 18, band + 16 + band + 2, 16, 16, BYTES.GREY); // row 1 below row 0's caption band
    expect(coloursIn(cells, 18, band + 16, 16, band).size).toBeGreaterThan(1); // caption "b" under image 1
    batch.dispose();
  });

  it("squeezes a caption wider than its cell instead of spilling onto the neighbour", async () => {
    const batch = solidBatch([RED, GREEN], 4, 4);
    const long = "a caption far wider than sixteen pixels";
    const image = await decodeImage(renderGridPng(batch, { rows: 1, cellCaptions: [long, ""], background: "#ffffff" }));
    expect(coloursIn(image, 0, 16, 16, band).size).toBeGreaterThan(1);
    expectSolid(image, 18, 16, 16, band, [255, 255, 255, 255]); // the neighbour's band stays empty
    batch.dispose();
  });

  it("rejects caption lists of the wrong length", () => {
    const batch = solidBatch([RED, GREEN, BLUE], 2, 2);
    expect(() => renderGridPng(batch, { rows: 1, columnCaptions: ["a", "b"] })).toThrow(/2 entries for 3 columns/);
    expect(() => renderGridPng(batch, { cellCaptions: ["a"] })).toThrow(/1 entries for 3 images/);
    batch.dispose();
  });
});

describe("input checks and tensor hygiene", () => {
  it("names the wrong rank, channel count or non-finite value", () => {
    const rank3 = tf.zeros([16, 16, 3]);
    const nchw = tf.zeros([2, 3, 16, 16]);
    const bad = tf.tensor4d([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Infinity, 0], [2, 1, 2, 3]);
    const nan = tf.fill([1, 2, 2, 3], NaN) as tf.Tensor4D;
    expect(() => renderGridPng(rank3 as tf.Tensor4D)).toThrow(/got rank 3 shape \[16, 16, 3\].*expandDims/);
    expect(() => renderGridPng(nchw as tf.Tensor4D)).toThrow(/got 16 in shape \[2, 3, 16, 16\]; is it NCHW/);
    expect(() => renderGridPng(bad)).toThrow(/image 1, pixel \(y=0, x=1\), channel 1 is Infinity/);
    expect(() => renderGridPng(nan)).toThrow(/image 0, pixel \(y=0, x=0\), channel 0 is NaN/);
    tf.dispose([rank3, nchw, bad, nan]);
  });

  it("rejects impossible layouts and sizes", () => {
    const batch = solidBatch([RED, GREEN, BLUE, GREY, RED], 1, 1);
    expect(() => renderGridPng(batch, { rows: 2, cols: 2 })).toThrow(/hold 4 cells, fewer than the 5 images/);
    expect(() => renderGridPng(batch, { scale: 1.5 })).toThrow(/scale must be a positive integer, got 1.5/);
    expect(() => renderGridPng(batch, { gutter: -1 })).toThrow(/gutter must be a whole number/);
    expect(() => renderGridPng(batch, { rows: 0 })).toThrow(/rows must be a positive integer, got 0/);
    batch.dispose();
  });

  it("neither disposes the input nor leaves tensors behind", () => {
    const batch = solidBatch([RED, GREEN, BLUE, GREY]);
    const before = tf.memory().numTensors;
    renderGridPng(batch, { columnCaptions: ["a", "b"] });
    renderGridRgba(batch, { normalization: "minmax" });
    expect(tf.memory().numTensors).toBe(before);
    expect(batch.isDisposed).toBe(false);
    batch.dispose();
  });
});
