import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { MASK_PRESETS, checkMaskFits, maskFromArray, maskPreset, maskTensor, unknownFraction, type InpaintMask } from "../../src/lib/editing/masks";
import { useTestBackend } from "../helpers/backends";

beforeAll(async () => {
  await useTestBackend();
});

/** Whether pixel (x, y) is unknown (to be generated). */
const hidden = (mask: InpaintMask, x: number, y: number): boolean => mask.known[y * mask.width + x] === 0;

/** The number of unknown pixels. */
const hiddenCount = (mask: InpaintMask): number => mask.known.filter((k) => k === 0).length;

describe("maskPreset", () => {
  it("left-half and right-half hide columns 0..7 and 8..15", () => {
    const left = maskPreset("left-half");
    expect(left.name).toBe("left-half");
    expect([left.height, left.width]).toEqual([16, 16]);
    expect(unknownFraction(left)).toBe(0.5);
    expect(hidden(left, 0, 0)).toBe(true);
    expect(hidden(left, 7, 15)).toBe(true);
    expect(hidden(left, 8, 0)).toBe(false);
    expect(hidden(left, 15, 0)).toBe(false);
    const right = maskPreset("right-half");
    expect(unknownFraction(right)).toBe(0.5);
    for (let i = 0; i < 256; i++) expect(right.known[i]).toBe(1 - left.known[i]);
  });

  it("centre-square hides rows and columns 4..11; border keeps exactly those 64 pixels", () => {
    const centre = maskPreset("centre-square");
    const border = maskPreset("border");
    expect(hiddenCount(centre)).toBe(64);
    expect(256 - hiddenCount(border)).toBe(64);
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) {
        const inside = x >= 4 && x <= 11 && y >= 4 && y <= 11;
        expect(hidden(centre, x, y), `centre (${x}, ${y})`).toBe(inside);
        expect(hidden(border, x, y), `border (${x}, ${y})`).toBe(!inside);
      }
    }
  });

  it("stripes hides the odd rows", () => {
    const stripes = maskPreset("stripes");
    expect(unknownFraction(stripes)).toBe(0.5);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) expect(hidden(stripes, x, y)).toBe(y % 2 === 1);
  });

  it("random-half hides exactly 128 pixels; the same seed gives the same mask, another seed another", () => {
    const a = maskPreset("random-half", { seed: 3 });
    expect(hiddenCount(a)).toBe(128);
    expect(Array.from(maskPreset("random-half", { seed: 3 }).known)).toEqual(Array.from(a.known));
    expect(Array.from(maskPreset("random-half", { seed: 4 }).known)).not.toEqual(Array.from(a.known));
    expect(Array.from(maskPreset("random-half").known)).toEqual(Array.from(maskPreset("random-half", { seed: 0 }).known));
  });

  it("scales to other even sizes", () => {
    for (const size of [4, 6, 8, 32]) {
      for (const name of MASK_PRESETS) {
        const mask = maskPreset(name, { size });
        expect(mask.known.length).toBe(size * size);
        if (name !== "centre-square" && name !== "border") expect(unknownFraction(mask), `${name} at ${size}`).toBe(0.5);
      }
      const side = size / 2;
      expect(hiddenCount(maskPreset("centre-square", { size }))).toBe(side * side);
      expect(size * size - hiddenCount(maskPreset("border", { size }))).toBe(side * side);
    }
    expect(hidden(maskPreset("centre-square", { size: 8 }), 2, 2)).toBe(true);
    expect(hidden(maskPreset("centre-square", { size: 8 }), 1, 2)).toBe(false);
  });

  it("rejects an unknown name listing the presets, and bad sizes and seeds", () => {
    expect(() => maskPreset("top-half")).toThrow(/unknown preset "top-half".*left-half, right-half, centre-square, border, random-half, stripes/);
    expect(() => maskPreset("left-half", { size: 7 })).toThrow(/even integer >= 4.*got 7/);
    expect(() => maskPreset("left-half", { size: 2 })).toThrow(/got 2/);
    expect(() => maskPreset("random-half", { seed: -1 })).toThrow(/seed.*got -1/);
  });
});

describe("maskFromArray", () => {
  it("round-trips a preset through nested rows and a flat array", () => {
    const preset = maskPreset("random-half", { seed: 9 });
    const rows = Array.from({ length: 16 }, (_, y) => Array.from(preset.known.subarray(y * 16, y * 16 + 16)));
    const fromRows = maskFromArray(rows, { name: "mine" });
    expect(fromRows.name).toBe("mine");
    expect([fromRows.height, fromRows.width]).toEqual([16, 16]);
    expect(Array.from(fromRows.known)).toEqual(Array.from(preset.known));
    expect(Array.from(maskFromArray(Array.from(preset.known)).known)).toEqual(Array.from(preset.known));
    expect(maskFromArray(preset.known).known).not.toBe(preset.known); // copied, not shared
    expect(maskFromArray(new Array(16).fill(1), { size: 4 }).width).toBe(4);
  });

  it("allows a mask with every pixel known, or none", () => {
    expect(unknownFraction(maskFromArray(new Array(256).fill(1)))).toBe(0);
    expect(unknownFraction(maskFromArray(new Array(256).fill(0)))).toBe(1);
  });

  it("rejects a wrong shape saying what was given and what is expected", () => {
    expect(() => maskFromArray(new Array(255).fill(1))).toThrow(/flat array of 255 values; expected a 16x16 array of rows, or a flat array of 256/);
    expect(() => maskFromArray(Array.from({ length: 15 }, () => new Array(16).fill(1)))).toThrow(/got 15 rows; expected a 16x16 array of rows/);
    const ragged = Array.from({ length: 16 }, (_, y) => new Array(y === 5 ? 17 : 16).fill(1));
    expect(() => maskFromArray(ragged)).toThrow(/row 5 has 17 values; expected a 16x16/);
    expect(() => maskFromArray([])).toThrow(/flat array of 0 values/);
  });

  it("rejects a value that is not 0 or 1, naming its row, column and value", () => {
    const rows = Array.from({ length: 16 }, () => new Array(16).fill(1));
    rows[3][7] = 2;
    expect(() => maskFromArray(rows)).toThrow(/row 3, column 7 is 2; use 1 for a known pixel and 0/);
    const flat = new Array(256).fill(0);
    flat[2 * 16 + 9] = NaN;
    expect(() => maskFromArray(flat)).toThrow(/row 2, column 9 is NaN/);
    flat[2 * 16 + 9] = 1.00000001; // float32 would round it to 1
    expect(() => maskFromArray(flat)).toThrow(/row 2, column 9 is 1.00000001/);
  });
});

describe("maskTensor and checkMaskFits", () => {
  it("gives [count, H, W, 1] float32 copies of known, and leaks nothing", async () => {
    const mask = maskPreset("centre-square");
    maskTensor(mask, 1).dispose();
    const before = tf.memory().numTensors;
    const tensor = maskTensor(mask, 3);
    expect(tensor.shape).toEqual([3, 16, 16, 1]);
    expect(tensor.dtype).toBe("float32");
    const values = await tensor.data();
    for (let n = 0; n < 3; n++) for (let i = 0; i < 256; i++) expect(values[n * 256 + i]).toBe(mask.known[i]);
    tensor.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => maskTensor(mask, 0)).toThrow(/count must be a positive integer, got 0/);
  });

  it("accepts images of the mask's size and rejects others with both shapes", () => {
    const mask = maskPreset("left-half");
    const fits = tf.zeros([2, 16, 16, 3]) as tf.Tensor4D;
    const small = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
    expect(() => checkMaskFits(mask, fits)).not.toThrow();
    expect(() => checkMaskFits(mask, small)).toThrow(/shape \[2,8,8,3\] but mask "left-half" is 16x16/);
    expect(() => checkMaskFits(maskPreset("left-half", { size: 8 }), small)).not.toThrow();
    const broken: InpaintMask = { name: "hand-made", height: 16, width: 16, known: new Float32Array(256).fill(0.5) };
    expect(() => checkMaskFits(broken, fits)).toThrow(/"hand-made" has 0.5 at row 0, column 0/);
    tf.dispose([fits, small]);
  });
});
