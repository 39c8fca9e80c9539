import { describe, expect, it } from "vitest";
import { clipToUnit, normalizeToRgbBytes } from "../../src/lib/render";

describe("clip normalisation: (clamp(x, -1, 1) + 1) / 2, bytes round(255 v)", () => {
  it("maps hand-computed values, clamping outside [-1, 1]", () => {
    // One 1 x 7 grey image; hand values: round(255 * (clamp(x) + 1) / 2).
    const x = [-2, -1, -0.5, 0, 0.3, 1, 3];
    const expected = [0, 0, 64, 128, 166, 255, 255]; // 63.75 -> 64, 127.5 -> 128, 165.75 -> 166
    const bytes = normalizeToRgbBytes(Float32Array.from(x), { count: 1, height: 1, width: 7, channels: 1 }, "clip");
    expect(Array.from(bytes)).toEqual(expected.flatMap((v) => [v, v, v]));
    expect(clipToUnit(0.3)).toBeCloseTo(0.65, 12);
  });

  it("keeps RGB channels in place", () => {
    const bytes = normalizeToRgbBytes(Float32Array.from([1, -1, 0]), { count: 1, height: 1, width: 1, channels: 3 }, "clip");
    expect(Array.from(bytes)).toEqual([255, 0, 128]);
  });
});

describe("minmax normalisation: per image, per channel (x - min) / (max - min)", () => {
  it("stretches each channel of each image on its own, against hand-computed values", () => {
    // Two images of 1 x 3 pixels, RGB. Image 0: R in {-3, 0, 1}, G constant 0.2, B in {5, 7, 6}.
    // Image 1: R in {10, 20, 30}: its own range, untouched by image 0's.
    const image0 = [-3, 0.2, 5, 0, 0.2, 7, 1, 0.2, 6];
    const image1 = [10, 0, 0, 20, 0.5, -1, 30, 1, 1];
    const bytes = normalizeToRgbBytes(Float32Array.from([...image0, ...image1]), { count: 2, height: 1, width: 3, channels: 3 }, "minmax");
    expect(Array.from(bytes)).toEqual([
      // R: (x + 3) / 4 -> 0, 0.75, 1; G constant 0.2 -> clip fallback 0.6 -> 153; B: (x - 5) / 2 -> 0, 1, 0.5
      0, 153, 0, 191, 153, 255, 255, 153, 128,
      // R: (x - 10) / 20 -> 0, 0.5, 1; G: x / 1 -> 0, 0.5, 1; B: (x + 1) / 2 -> 0.5, 0, 1
      0, 0, 128, 128, 128, 0, 255, 255, 255,
    ]);
  });

  it("a constant channel falls back to clip instead of dividing by zero", () => {
    const bytes = normalizeToRgbBytes(Float32Array.from([-1, -1, -1, -1, 1, 0, 1, 0]), { count: 2, height: 2, width: 2, channels: 1 }, "minmax");
    // Image 0 constant -1 -> clip 0; image 1 has values {1, 0} -> 255 / 0.
    expect(Array.from(bytes)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255, 0, 0, 0]);
  });
});

describe("normalizeToRgbBytes input checks", () => {
  const shape = { count: 1, height: 2, width: 2, channels: 3 };
  it("names the image, pixel and channel of a non-finite value", () => {
    const pixels = new Float32Array(12);
    pixels[3 * 3 + 2] = NaN; // pixel (y=1, x=1), channel 2
    expect(() => normalizeToRgbBytes(pixels, shape, "clip")).toThrow(/image 0, pixel \(y=1, x=1\), channel 2 is NaN/);
    pixels[3 * 3 + 2] = 0;
    pixels[1] = -Infinity;
    expect(() => normalizeToRgbBytes(pixels, shape, "minmax")).toThrow(/pixel \(y=0, x=0\), channel 1 is -Infinity/);
  });
  it("rejects other channel counts, mismatched lengths and unknown normalisations", () => {
    expect(() => normalizeToRgbBytes(new Float32Array(16), { ...shape, channels: 4 }, "clip")).toThrow(/3 channels .* got 4/);
    expect(() => normalizeToRgbBytes(new Float32Array(11), shape, "clip")).toThrow(/11 values do not fill shape \[1, 2, 2, 3\]/);
    expect(() => normalizeToRgbBytes(new Float32Array(12), shape, "sigmoid" as never)).toThrow(/Unknown normalization "sigmoid"/);
  });
});
