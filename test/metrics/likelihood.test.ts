/**
 * The variational bound in bits/dim against its closed form: on Gaussian data x_0 ~ N(mu, s^2)
 * (i.i.d. per dimension) with the exact denoiser, every t's expected term is known in float64
 * (Ho et al. 2020, eqs. 5, 7, 13; Nichol & Dhariwal 2021, eqs. 4-6, 13, 15), written here from the
 * papers' formulas without the library's coefficients. Then the held-out sprites it is measured on,
 * and the record file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { epochOrder } from "../../src/lib/data/batches";
import { fingerprint, subsetDataset } from "../../src/lib/data/dataset";
import type { NoiseModel } from "../../src/lib/diffusion/sampling";
import { type Schedule, cosineSchedule, courseSchedule, linearSchedule } from "../../src/lib/diffusion/schedule";
import { boundNoise, unseenHeldOutSprites, variationalBound } from "../../src/lib/metrics/likelihood";
import { type LikelihoodRecord, readLikelihoods, recordLikelihood, summariseTerms } from "../../src/lib/metrics/likelihoodFile";
import { heldOutRealSprites, realSpriteSet } from "../../src/lib/metrics/realSprites";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import type { CheckpointManifest } from "../../src/lib/train/checkpoint";
import { useTestBackend } from "../helpers/backends";
import { discretizedLogLikelihood64, gaussianKl64 } from "../helpers/float64Gaussian";

const SHAPE: [number, number, number] = [16, 16, 3];
const D = 16 * 16 * 3;
const MU = 0.2;
const S = 0.15;

beforeAll(async () => {
  await useTestBackend();
});

/**
 * The exact eps for x_0 ~ N(mu, s^2) per dimension: with a = sqrt(alphaBar_t), b = sqrt(1 - alphaBar_t),
 * V = a^2 s^2 + b^2, E[x_0 | x_t] = mu + a s^2 (x_t - a mu) / V, so eps*(x_t) = b (x_t - a mu) / V.
 * With `v` it is a learned-variance model whose every v is that constant.
 */
class ShiftedGaussianOracle implements NoiseModel {
  readonly learnsVariance: boolean;
  readonly contexts: Array<number[][] | null> = [];
  constructor(
    private readonly schedule: Schedule,
    private readonly v: number | null = null,
  ) {
    this.learnsVariance = v !== null;
  }

  predictNoise(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null): tf.Tensor4D {
    this.contexts.push(context && (context.arraySync() as number[][]));
    const ab = this.schedule.alphaBar[Math.round(tFraction * this.schedule.T)];
    const a = Math.sqrt(ab);
    return tf.tidy(() => tf.mul(tf.sub(x, a * MU), Math.sqrt(1 - ab) / (ab * S * S + 1 - ab)));
  }

  predictNoiseAndVariance(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null) {
    return { noise: this.predictNoise(x, tFraction, context), v: tf.fill(x.shape, this.v ?? 0) as tf.Tensor4D };
  }
}

/** The step t -> t - 1 in float64 from alphaBar alone (Ho et al. 2020, eq. 7; Nichol & Dhariwal, eqs. 10-12, 15). */
function step64(schedule: Schedule, t: number, v: number | null) {
  const ab = schedule.alphaBar;
  const beta = 1 - ab[t] / ab[t - 1];
  const betaTilde = (u: number) => ((1 - ab[u - 1]) / (1 - ab[u])) * (1 - ab[u] / ab[u - 1]);
  // q's posterior variance is 0 into t = 0: the chain's next one stands in (their posterior_log_variance_clipped).
  const posteriorVariance = t === 1 ? betaTilde(2) : betaTilde(t);
  const fixed = t === 1 ? betaTilde(2) : beta; // "fixed large": beta_t, betaTilde_2 at the decoder
  const modelVariance = v === null ? fixed : Math.exp(v * Math.log(beta) + (1 - v) * Math.log(posteriorVariance)); // eq. 15
  return {
    a: Math.sqrt(ab[t]),
    b: Math.sqrt(1 - ab[t]),
    fromX0: (Math.sqrt(ab[t - 1]) * beta) / (1 - ab[t]),
    fromXt: (Math.sqrt(1 - beta) * (1 - ab[t - 1])) / (1 - ab[t]),
    posteriorVariance,
    modelVariance,
  };
}

/** E[x_0 | x_t] for the Gaussian data, in float64. */
const denoised = (a: number, b: number, xt: number) => MU + (a * S * S * (xt - a * MU)) / (a * a * S * S + b * b);

/** E over x_0 and x_t of L_{t-1} in bits/dim (t >= 2: closed form; t = 1: the decoder by quadrature). */
function expectedTerm(schedule: Schedule, t: number, v: number | null): number {
  const k = step64(schedule, t, v);
  if (t >= 2) {
    // KL of two Gaussians whose means differ by fromX0 (x_0 - E[x_0 | x_t]): its square's mean is Var(x_0 | x_t).
    const varianceGivenXt = (S * S * k.b * k.b) / (k.a * k.a * S * S + k.b * k.b);
    return (gaussianKl64(0, k.posteriorVariance, 0, k.modelVariance) + (0.5 * k.fromX0 ** 2 * varianceGivenXt) / k.modelVariance) / Math.LN2;
  }
  // -log p(x_0 | x_1) of the discretized decoder (Ho et al. 2020, eq. 13), x_0 = mu + s u, x_1 = a x_0 + b w.
  const h = 0.05;
  const phi = (z: number) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
  let sum = 0;
  for (let u = -9; u <= 9; u += h) {
    for (let w = -9; w <= 9; w += h) {
      const x0 = MU + S * u;
      const x1 = k.a * x0 + k.b * w;
      const mean = k.fromX0 * denoised(k.a, k.b, x1) + k.fromXt * x1;
      sum -= discretizedLogLikelihood64(x0, mean, k.modelVariance) * phi(u) * phi(w) * h * h;
    }
  }
  return sum / Math.LN2;
}

/** L_T's mean, KL(N(a x_0, 1 - alphaBar_T) || N(0, 1)), over images whose x_0^2 averages meanSquare (mu^2 + s^2 in expectation; Ho et al. 2020, eq. 5). */
function expectedPrior(schedule: Schedule, meanSquare: number): number {
  const abT = schedule.alphaBar[schedule.T];
  return (gaussianKl64(0, 1 - abT, 0, 1) + 0.5 * abT * meanSquare) / Math.LN2;
}

/** n images of Gaussian data N(mu, s^2), seeded; small ones where only the count of dimensions matters. */
const gaussianImages = (n: number, seed: number, shape = SHAPE) => tf.tidy(() => tf.add(MU, tf.mul(S, tf.randomNormal([n, ...shape], 0, 1, "float32", seed))) as tf.Tensor4D);

describe("variationalBound on Gaussian data with the exact denoiser", () => {
  const cases = [
    ["the course's linear schedule, fixed variance", () => courseSchedule, null],
    ["the cosine schedule, a learned variance (v = 0.3)", () => cosineSchedule({ T: 500 }), 0.3],
  ] as const;

  it.each(cases)("over 250 images is within 4 standard errors of the closed form: %s", async (_, makeSchedule, v) => {
    const schedule = makeSchedule();
    // 4x4 images: the terms are means over i.i.d. dimensions, and the cpu backend's broadcasts are slow.
    const x0 = gaussianImages(250, v === null ? 11 : 12, [4, 4, 3]);
    const meanSquare = Array.from(await x0.data()).reduce((sum, x) => sum + x * x, 0) / x0.size;
    const bound = await variationalBound(new ShiftedGaussianOracle(schedule, v), schedule, x0, { seed: v === null ? 5 : 6, clipDenoised: false });
    x0.dispose();
    const terms = Array.from({ length: schedule.T }, (_, i) => expectedTerm(schedule, i + 1, v));
    const expected = expectedPrior(schedule, MU * MU + S * S) + terms.reduce((a, b) => a + b, 0);
    expect(bound.standardError!).toBeGreaterThan(0);
    expect(Math.abs(bound.bitsPerDim - expected) / bound.standardError!).toBeLessThan(4);
    // L_T has no draw of x_t: given these images it is exact, but for float32's cancellation in the KL (-1 + ... + ratio).
    expect(Math.abs(bound.prior / expectedPrior(schedule, meanSquare) - 1)).toBeLessThan(5e-4);
    // The decoder's mean term alone: its Monte Carlo error over 250 x 48 dimensions is about 0.65 %; 4 of them.
    expect(Math.abs(bound.terms[0].bitsPerDim / terms[0] - 1)).toBeLessThan(0.026);
    expect(bound.terms.map((s) => s.t)).toEqual(Array.from({ length: schedule.T }, (_, i) => i + 1));
  }, 120_000);

  it.each(cases)("gives one image's every term as a float64 recomputation from the same draws does: %s", async (_, makeSchedule, v) => {
    const schedule = makeSchedule();
    const x0 = gaussianImages(1, 3);
    const pixels = Array.from(await x0.data());
    const bound = await variationalBound(new ShiftedGaussianOracle(schedule, v), schedule, x0, { seed: 9, clipDenoised: false });
    x0.dispose();
    let worst = 0;
    for (let t = 1; t <= schedule.T; t++) {
      const eps = boundNoise([1, ...SHAPE], 9, t);
      const noise = Array.from(eps.dataSync());
      eps.dispose();
      const k = step64(schedule, t, v);
      let nats = 0;
      pixels.forEach((x, i) => {
        const xt = k.a * x + k.b * noise[i]; // Ho et al. 2020, eq. 4
        const modelMean = k.fromX0 * denoised(k.a, k.b, xt) + k.fromXt * xt; // eq. 7 at the x_0 estimate
        nats += t === 1 ? -discretizedLogLikelihood64(x, modelMean, k.modelVariance) : gaussianKl64(k.fromX0 * x + k.fromXt * xt, k.posteriorVariance, modelMean, k.modelVariance);
      });
      const reference = nats / D / Math.LN2;
      // float32 leaves ~1e-7 relative error in the large terms and ~1e-8 absolute in the KL's cancellation near t = T.
      worst = Math.max(worst, Math.abs(bound.terms[t - 1].bitsPerDim - reference) / (1e-4 * Math.abs(reference) + 1e-7));
    }
    expect(worst).toBeLessThan(1);
    const total = bound.prior + bound.terms.reduce((sum, s) => sum + s.bitsPerDim, 0);
    expect(bound.perImage[0]).toBeCloseTo(total, 9);
    expect(bound.bitsPerDim).toBe(bound.perImage[0]);
    expect(bound.standardError).toBeNull();
  }, 120_000);
});

describe("variationalBound's batching, context, tensors and input checks", () => {
  const schedule = linearSchedule({ T: 20, betaStart: 1e-4, betaEnd: 0.2 });

  it("gives the same numbers in any batch size, hands each batch its rows of the context, and leaks nothing across two calls", async () => {
    const x0 = gaussianImages(5, 2);
    const context = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4], "int32"), 5), "float32") as tf.Tensor2D);
    const oracle = new ShiftedGaussianOracle(schedule);
    await variationalBound(oracle, schedule, x0, { seed: 1 }); // warm-up: kernels keep constants
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const whole = await variationalBound(oracle, schedule, x0, { seed: 1, batchSize: 5, onProgress: (p) => void progress.push(p.t) });
    oracle.contexts.length = 0;
    const split = await variationalBound(oracle, schedule, x0, { seed: 1, batchSize: 2, context });
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(split.perImage)).toEqual(Array.from(whole.perImage));
    expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
    expect(oracle.contexts.slice(0, 3)).toEqual([[[1, 0, 0, 0, 0], [0, 1, 0, 0, 0]], [[0, 0, 1, 0, 0], [0, 0, 0, 1, 0]], [[0, 0, 0, 0, 1]]]);
    const otherSeed = await variationalBound(oracle, schedule, x0, { seed: 2 });
    expect(otherSeed.bitsPerDim).not.toBe(whole.bitsPerDim);
    tf.dispose([x0, context]);
  });

  it("refuses an empty batch, a wrong shape, pixels outside [-1, 1], a model's wrong image size and a NaN, leaking nothing", async () => {
    const oracle = new ShiftedGaussianOracle(schedule);
    const unet = new ContextUnet({ nFeat: 8 });
    const empty = tf.zeros([0, 16, 16, 3]) as tf.Tensor4D;
    const flat = tf.zeros([2, 16, 16]) as unknown as tf.Tensor4D;
    const bytes = tf.fill([2, 16, 16, 3], 255) as tf.Tensor4D;
    const fourChannels = tf.zeros([2, 16, 16, 4]) as tf.Tensor4D;
    const ones = tf.ones([2, 16, 16, 3]) as tf.Tensor4D;
    await variationalBound(oracle, schedule, ones, { seed: 0 }); // warm-up: the schedule's cached tensors
    const before = tf.memory().numTensors;
    await expect(variationalBound(oracle, schedule, empty, { seed: 0 })).rejects.toThrow("x0 has shape [0,16,16,3], expected [N, H, W, C] with N >= 1");
    await expect(variationalBound(oracle, schedule, flat, { seed: 0 })).rejects.toThrow("x0 has shape [2,16,16], expected [N, H, W, C]");
    await expect(variationalBound(oracle, schedule, bytes, { seed: 0 })).rejects.toThrow("x0's values span [255, 255], outside [-1, 1]");
    await expect(variationalBound(oracle, schedule, fourChannels, { seed: 0, batchSize: 0 })).rejects.toThrow("batchSize must be a positive integer, got 0");
    await expect(variationalBound(unet, schedule, fourChannels, { seed: 0 })).rejects.toThrow("ContextUnet: x has shape [2,16,16,4], expected [N, 16, 16, 3]");
    const broken: NoiseModel = { predictNoise: (x) => tf.fill(x.shape, NaN) as tf.Tensor4D };
    await expect(variationalBound(broken, schedule, ones, { seed: 0 })).rejects.toThrow("the term at t = 20 of image 0 is NaN");
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([empty, flat, bytes, fourChannels, ones]);
    unet.dispose();
  });
});

describe("the sprites a likelihood is measured on, and its record", () => {
  const dir = mkdtempSync(join(tmpdir(), "likelihood-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** A manifest as `npm run train -- --subset count` writes it: its data is the seeded subset. */
  const subsetManifest = (count: number) => {
    const real = realSpriteSet();
    const subset = epochOrder(real.dataset.count, 0, 0x5b5e7).slice(0, count).sort();
    const source = "data/sprites/sprites_16x16.npy + data/sprites/sprite_labels_16x16.npy";
    const manifest = { data: { fingerprint: fingerprint(subsetDataset(real.dataset, subset)), count, source }, training: { config: { seed: 0 } } } as unknown as CheckpointManifest;
    return { manifest, subset: new Set(subset) };
  };

  it("draws held-out sprites in evaluate's order, skipping those the model trained on", () => {
    const { manifest, subset } = subsetManifest(20_000);
    const chosen = unseenHeldOutSprites(50, 4, manifest);
    tf.dispose([chosen.images, chosen.labels]);
    const order = heldOutRealSprites(200, 4);
    tf.dispose([order.images, order.labels]);
    expect(Array.from(chosen.indices)).toEqual(Array.from(order.indices).filter((i) => !subset.has(i)).slice(0, 50));
    expect(Array.from(order.indices.slice(0, 50)).some((i) => subset.has(i))).toBe(true); // evaluate's draw would include trained sprites
    expect(chosen.note).toMatch(/^held-out sprites not in the model's training set \(\d+ of 8950 held out/);
    const all = subsetManifest(realSpriteSet().dataset.count).manifest;
    expect(() => unseenHeldOutSprites(1, 0, all)).toThrow("only 0 are held out and unseen by the model");
    expect(() => unseenHeldOutSprites(0, 0, manifest)).toThrow("n must be a positive integer, got 0");
  });

  it("appends rows to the record, replacing the same measurement", () => {
    const file = join(dir, "likelihood.json");
    const bound = { perImage: new Float64Array([1, 2]), bitsPerDim: 1.5, standardError: 0.5, prior: 0.001, terms: Array.from({ length: 120 }, (_, i) => ({ t: i + 1, bitsPerDim: 1 / (i + 1) })) };
    const terms = summariseTerms(bound);
    expect(terms.bands.map((b) => [b.from, b.to])).toEqual([[2, 9], [10, 99], [100, 120]]);
    expect(terms.bands[0].bitsPerDim).toBeCloseTo([2, 3, 4, 5, 6, 7, 8, 9].reduce((s, t) => s + 1 / t, 0), 12);
    const row = { model: "models/x", epoch: 3, variance: "fixed", schedule: "linear", context: "none", clipDenoised: true, n: 2, seed: 0, bitsPerDim: 1.5, standardError: 0.5, terms, seconds: 1, backend: "cpu", sprites: "", realSet: { dir: "", generator: "", fingerprint: "" } } as LikelihoodRecord;
    recordLikelihood(file, row);
    recordLikelihood(file, { ...row, seed: 1 });
    recordLikelihood(file, { ...row, bitsPerDim: 1.25 });
    expect(readLikelihoods(file).results.map((r) => [r.seed, r.bitsPerDim])).toEqual([[1, 1.5], [0, 1.25]]);
  });
});
