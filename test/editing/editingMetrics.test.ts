import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { maskedInput, meanColourFill, overlayMask, seamScore, unknownPixelRmse } from "../../src/lib/editing/editingMetrics";
import { maskFromArray, maskPreset, type InpaintMask } from "../../src/lib/editing/masks";
import { useTestBackend } from "../helpers/backends";

beforeAll(async () => {
  await useTestBackend();
});

const N = 3;
const S = 16;
const random = (seed: number): tf.Tensor4D => tf.randomUniform([N, S, S, 3], -1, 1, "float32", seed) as tf.Tensor4D;
/** Index of channel c of pixel (x, y) of image n in NHWC data. */
const at = (n: number, x: number, y: number, c: number): number => ((n * S + y) * S + x) * 3 + c;
const isKnown = (mask: InpaintMask, x: number, y: number): boolean => mask.known[y * S + x] === 1;

describe("unknownPixelRmse", () => {
  it("matches a plain loop over the unknown pixels, in [0, 1] units", async () => {
    const mask = maskPreset("random-half", { seed: 5 });
    const [a, b] = [random(1), random(2)];
    const [av, bv] = [await a.data(), await b.data()];
    let sum = 0;
    let count = 0;
    for (let n = 0; n < N; n++) {
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          if (isKnown(mask, x, y)) continue;
          for (let c = 0; c < 3; c++) sum += ((av[at(n, x, y, c)] - bv[at(n, x, y, c)]) / 2) ** 2;
          count += 3;
        }
      }
    }
    expect(await unknownPixelRmse(a, b, mask)).toBeCloseTo(Math.sqrt(sum / count), 5);
    tf.dispose([a, b]);
  });

  it("is 0 for identical images and ignores the known pixels, even NaN ones", async () => {
    const mask = maskPreset("left-half");
    const truth = random(3);
    expect(await unknownPixelRmse(truth, truth, mask)).toBe(0);
    const knownChanged = tf.tidy(() => tf.where(tf.cast(tf.tensor4d(mask.known, [1, S, S, 1]), "bool"), tf.fill([N, S, S, 3], NaN), truth) as tf.Tensor4D);
    expect(await unknownPixelRmse(knownChanged, truth, mask)).toBe(0);
    const black = tf.fill([N, S, S, 3], -1) as tf.Tensor4D;
    const white = tf.fill([N, S, S, 3], 1) as tf.Tensor4D;
    expect(await unknownPixelRmse(black, white, mask)).toBeCloseTo(1, 6);
    tf.dispose([truth, knownChanged, black, white]);
  });

  it("rejects mismatched shapes and a mask that hides nothing", async () => {
    const truth = random(4);
    const other = tf.zeros([N, 8, 8, 3]) as tf.Tensor4D;
    await expect(unknownPixelRmse(other, truth, maskPreset("left-half"))).rejects.toThrow(/completed has shape \[3,8,8,3\] but truth has \[3,16,16,3\]/);
    await expect(unknownPixelRmse(truth, truth, maskFromArray(new Array(256).fill(1)))).rejects.toThrow(/hides no pixel/);
    tf.dispose([truth, other]);
  });
});

describe("seamScore", () => {
  it("matches a plain loop over known/unknown 4-neighbour pairs", async () => {
    for (const mask of [maskPreset("centre-square"), maskPreset("random-half", { seed: 1 }), maskPreset("stripes")]) {
      const images = random(6);
      const v = await images.data();
      let sum = 0;
      let pairs = 0;
      for (let n = 0; n < N; n++) {
        for (let y = 0; y < S; y++) {
          for (let x = 0; x < S; x++) {
            for (const [x2, y2] of [[x + 1, y], [x, y + 1]]) {
              if (x2 >= S || y2 >= S || isKnown(mask, x, y) === isKnown(mask, x2, y2)) continue;
              let channels = 0;
              for (let c = 0; c < 3; c++) channels += Math.abs(v[at(n, x, y, c)] - v[at(n, x2, y2, c)]) / 2;
              sum += channels / 3;
              pairs++;
            }
          }
        }
      }
      expect(await seamScore(images, mask), mask.name).toBeCloseTo(sum / pairs, 5);
      images.dispose();
    }
  });

  it("is 0 on a constant image and 1 where black meets white across the seam", async () => {
    const mask = maskPreset("left-half");
    const constant = tf.fill([2, S, S, 3], 0.37) as tf.Tensor4D;
    expect(await seamScore(constant, mask)).toBeCloseTo(0, 7);
    const split = tf.tidy(() => tf.where(tf.cast(tf.tensor4d(mask.known, [1, S, S, 1]), "bool"), tf.fill([1, S, S, 3], 1), tf.fill([1, S, S, 3], -1)) as tf.Tensor4D);
    expect(await seamScore(split, mask)).toBeCloseTo(1, 6);
    tf.dispose([constant, split]);
  });

  it("throws when the mask has no seam", async () => {
    const images = random(7);
    await expect(seamScore(images, maskFromArray(new Array(256).fill(1), { name: "all-known" }))).rejects.toThrow(/"all-known" has no pixel known next to one unknown/);
    images.dispose();
  });
});

describe("meanColourFill", () => {
  it("copies known pixels bit for bit and fills the rest with each sprite's known mean", async () => {
    const mask = maskPreset("random-half", { seed: 2 });
    const images = random(8);
    const filled = meanColourFill(images, mask);
    expect(filled.shape).toEqual([N, S, S, 3]);
    const [v, f] = [await images.data(), await filled.data()];
    for (let n = 0; n < N; n++) {
      const mean = [0, 0, 0];
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if (isKnown(mask, x, y)) for (let c = 0; c < 3; c++) mean[c] += v[at(n, x, y, c)] / 128;
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          for (let c = 0; c < 3; c++) {
            if (isKnown(mask, x, y)) expect(f[at(n, x, y, c)]).toBe(v[at(n, x, y, c)]);
            else expect(f[at(n, x, y, c)]).toBeCloseTo(mean[c], 5);
          }
        }
      }
    }
    expect(() => meanColourFill(images, maskFromArray(new Array(256).fill(0)))).toThrow(/keeps no pixel/);
    tf.dispose([images, filled]);
  });
});

describe("display helpers", () => {
  it("maskedInput draws a 0.1 / -0.1 checkerboard over unknown pixels and keeps the rest", async () => {
    const mask = maskPreset("centre-square");
    const images = random(10);
    const shown = maskedInput(images, mask);
    const [v, s] = [await images.data(), await shown.data()];
    expect(s[at(1, 4, 4, 0)]).toBeCloseTo(0.1, 6);
    expect(s[at(1, 5, 4, 2)]).toBeCloseTo(-0.1, 6);
    expect(s[at(2, 0, 0, 1)]).toBe(v[at(2, 0, 0, 1)]);
    tf.dispose([images, shown]);
  });

  it("overlayMask blends unknown pixels 30 % towards magenta and keeps the rest", async () => {
    const mask = maskPreset("right-half");
    const grey = tf.fill([1, S, S, 3], 0) as tf.Tensor4D;
    const shown = overlayMask(grey, mask);
    const s = await shown.data();
    expect([s[at(0, 12, 3, 0)], s[at(0, 12, 3, 1)], s[at(0, 12, 3, 2)]].map((u) => Number(u.toFixed(6)))).toEqual([0.3, -0.3, 0.3]);
    expect([s[at(0, 2, 3, 0)], s[at(0, 2, 3, 1)], s[at(0, 2, 3, 2)]]).toEqual([0, 0, 0]);
    const oneChannel = tf.zeros([1, S, S, 1]) as tf.Tensor4D;
    expect(() => overlayMask(oneChannel, mask)).toThrow(/expected \[N, 16, 16, 3\] RGB/);
    tf.dispose([grey, shown, oneChannel]);
  });
});

describe("tensor hygiene", () => {
  it("leaks no tensors", async () => {
    const mask = maskPreset("border");
    const [a, b] = [random(11), random(12)];
    const run = async (): Promise<void> => {
      await unknownPixelRmse(a, b, mask);
      await seamScore(a, mask);
      tf.dispose([meanColourFill(a, mask), maskedInput(a, mask), overlayMask(a, mask)]);
    };
    await run();
    const before = tf.memory().numTensors;
    await run();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });
});
