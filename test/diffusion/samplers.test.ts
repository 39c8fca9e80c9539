/**
 * Samplers driven by the exact optimal denoiser (test/helpers/oracle.ts): no training involved,
 * so any miss is the sampler's. A wrong coefficient (e.g. beta_t for sqrt(beta_t), or a missing
 * sqrt in 1 - alphaBar) moves the final mean and variance far outside these bounds.
 */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NoiseModel, ddimPlan, sampleDdim, sampleDdpm, sampleDdpmWithoutNoise, stepNoise } from "../../src/lib/diffusion/sampling";
import { ddimStep, ddpmStep } from "../../src/lib/diffusion/steps";
import { courseSchedule as schedule } from "../../src/lib/diffusion/schedule";
import { useTestBackend } from "../helpers/backends";
import { GaussianOracle, MixtureOracle, patternImage } from "../helpers/oracle";

const D = 16 * 16 * 3;

/**
 * With a single data point a, every DDPM step is linear: x_{t-1} = c_t x_t + d_t a + sqrt(beta_t) z,
 *   c_t = (1 - k_t / sqrt(1 - ab_t)) / sqrt(alpha_t),  d_t = k_t sqrt(ab_t) / (sqrt(1 - ab_t) sqrt(alpha_t)),
 *   k_t = beta_t / sqrt(1 - ab_t).
 * Starting from x_T ~ N(0, I), x_0 ~ N(m a, v I) with m, v from this recursion (no z at t = 1).
 */
function ddpmFinalMoments(): { m: number; v: number } {
  let m = 0;
  let v = 1;
  for (let t = schedule.T; t >= 1; t--) {
    const ab = schedule.alphaBar[t];
    const k = schedule.beta[t] / Math.sqrt(1 - ab);
    const c = (1 - k / Math.sqrt(1 - ab)) / Math.sqrt(schedule.alpha[t]);
    const d = (k * Math.sqrt(ab)) / (Math.sqrt(1 - ab) * Math.sqrt(schedule.alpha[t]));
    m = c * m + d;
    v = c * c * v + (t > 1 ? schedule.beta[t] : 0);
  }
  return { m, v };
}

/** Per-pixel mean and variance of samples around the data point, pooled over pixels. */
function pooledMoments(samples: Float32Array, point: Float32Array, n: number) {
  let scaleNumerator = 0;
  let scaleDenominator = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) {
    scaleNumerator += samples[i * D + j] * point[j];
    scaleDenominator += point[j] * point[j];
  }
  const m = scaleNumerator / scaleDenominator;
  let squares = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) squares += (samples[i * D + j] - m * point[j]) ** 2;
  return { m, v: squares / (n * D) };
}

/** For each sample, the index of the nearest point and the RMS distance to it. */
function nearest(samples: Float32Array, points: Float32Array[], n: number) {
  return Array.from({ length: n }, (_, i) => {
    const d = points.map((p) => {
      let s = 0;
      for (let j = 0; j < D; j++) s += (samples[i * D + j] - p[j]) ** 2;
      return Math.sqrt(s / D);
    });
    const k = d[0] <= d[1] ? 0 : 1;
    return { k, rms: d[k] };
  });
}

describe("samplers against the exact denoiser of known data", () => {
  const a = patternImage(0, 0.6);
  const b = patternImage(2.2, 0.6);
  let single: MixtureOracle;
  let mixture: MixtureOracle;

  beforeAll(async () => {
    await useTestBackend();
    single = new MixtureOracle([a], [1], schedule);
    mixture = new MixtureOracle([a, b], [0.3, 0.7], schedule);
  });
  afterAll(() => {
    single.dispose();
    mixture.dispose();
  });

  it("DDPM-500 lands on a single data point with the closed-form mean and variance", async () => {
    const n = 64;
    const { samples, frames, frameSteps } = await sampleDdpm(single, schedule, { count: n, seed: 1 }, null);
    const got = pooledMoments(samples.dataSync() as Float32Array, a, n);
    const want = ddpmFinalMoments();
    // Pooled over 64 x 768 pixels the estimates' relative errors are ~1 %; allow 5 %.
    expect(Math.abs(got.m - want.m)).toBeLessThan(0.01);
    expect(Math.abs(got.v / want.v - 1)).toBeLessThan(0.05);
    // The course's schedule leaves a little noise (alphaBar_1 includes alpha_0): rms ~ 0.0065.
    expect(Math.sqrt(want.v)).toBeLessThan(0.01);
    expect(frames!.shape).toEqual([32, n, 16, 16, 3]);
    // Frames are kept after evaluating t where t % 20 == 0 || t == T || t < 8; they hold x_{t-1}.
    expect(frameSteps.slice(0, 2)).toEqual([499, 479]);
    expect(frameSteps.slice(-7)).toEqual([6, 5, 4, 3, 2, 1, 0]);
    tf.dispose([samples, frames!]);
  });

  it("DDIM-25 (eta = 0) lands exactly on a single data point, ending on alphaBar[0] = 1", async () => {
    const { samples, frames, frameSteps } = await sampleDdim(single, schedule, { count: 16, seed: 2 }, null, { steps: 25 });
    const values = samples.dataSync();
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - a[i % D]));
    expect(worst).toBeLessThan(1e-4);
    expect(frames!.shape[0]).toBe(25);
    expect(frameSteps[0]).toBe(480);
    expect(frameSteps[24]).toBe(0);
    tf.dispose([samples, frames!]);
  });

  for (const [name, run, tolerance] of [
    ["DDPM-500", (m: NoiseModel, n: number) => sampleDdpm(m, schedule, { count: n, seed: 3 }, null), 0.03],
    ["DDIM-25", (m: NoiseModel, n: number) => sampleDdim(m, schedule, { count: n, seed: 3 }, null, { steps: 25 }), 1e-3],
  ] as const) {
    it(`${name} reproduces a two-point mixture's weights (0.3 / 0.7) within a binomial bound`, async () => {
      const n = 400;
      const { samples, frames } = await run(mixture, n);
      const assigned = nearest(samples.dataSync() as Float32Array, [a, b], n);
      const share = assigned.filter((s) => s.k === 0).length / n;
      // 4 standard errors of a binomial share: 4 sqrt(0.3 * 0.7 / 400) = 0.092.
      expect(Math.abs(share - 0.3)).toBeLessThan(4 * Math.sqrt((0.3 * 0.7) / n));
      // Every sample lands on a data point: DDPM within its closed-form residual noise
      // (rms ~ 0.0065, bound 0.03), DDIM exactly (the last step returns predX0).
      expect(Math.max(...assigned.map((s) => s.rms))).toBeLessThan(tolerance);
      tf.dispose([samples, frames!]);
    }, 300_000); // 400 x 500 oracle steps: well under the default 120 s on an idle machine, not always on a busy one
  }

  it("on Gaussian data DDPM keeps the data's variance; without the extra noise it collapses", async () => {
    // Both samplers are linear maps for this oracle: x_{t-1} = c_t x_t (+ sqrt(beta_t) z), with
    // c_t = (1 - beta_t g_t / sqrt(1 - ab_t)) / sqrt(alpha_t); their final variances follow.
    const sigma = 0.5;
    const oracle = new GaussianOracle(sigma, schedule);
    let withNoise = 1;
    let withoutNoise = 1;
    for (let t = schedule.T; t >= 1; t--) {
      const c = (1 - (schedule.beta[t] * oracle.gain(t)) / schedule.sqrtOneMinusAlphaBar[t]) / Math.sqrt(schedule.alpha[t]);
      withNoise = c * c * withNoise + (t > 1 ? schedule.beta[t] : 0);
      withoutNoise = c * c * withoutNoise;
    }
    expect(Math.abs(withNoise / sigma ** 2 - 1)).toBeLessThan(0.05);
    expect(withoutNoise / sigma ** 2).toBeLessThan(0.01);
    const n = 32;
    const variance = (x: tf.Tensor4D) => tf.tidy(() => tf.moments(x).variance.dataSync()[0]);
    const correct = await sampleDdpm(oracle, schedule, { count: n, seed: 4 }, null);
    const collapsed = await sampleDdpmWithoutNoise(oracle, schedule, { count: n, seed: 4 }, null);
    // 32 x 768 values: the variance estimate's relative error is ~1 %.
    expect(Math.abs(variance(correct.samples) / withNoise - 1)).toBeLessThan(0.05);
    expect(Math.abs(variance(collapsed.samples) / withoutNoise - 1)).toBeLessThan(0.05);
    tf.dispose([correct.samples, correct.frames!, collapsed.samples, collapsed.frames!]);
  });

  it("DDIM-25 (eta = 0) on Gaussian data keeps the data's variance along its deterministic path", async () => {
    // For this oracle a DDIM step is x_prev = c x with
    // c = sqrt(ab_prev) (1 - sqrt(1 - ab) g) / sqrt(ab) + sqrt(1 - ab_prev) g.
    const sigma = 0.5;
    const oracle = new GaussianOracle(sigma, schedule);
    let expected = 1;
    for (let t = schedule.T; t > 0; t -= 20) {
      const [ab, abPrev, g] = [schedule.alphaBar[t], schedule.alphaBar[t - 20], oracle.gain(t)];
      const c = (Math.sqrt(abPrev) * (1 - Math.sqrt(1 - ab) * g)) / Math.sqrt(ab) + Math.sqrt(1 - abPrev) * g;
      expected *= c * c;
    }
    // 25 coarse steps of the probability-flow ODE keep sigma^2 to ~15 % (discretisation error).
    expect(Math.abs(expected / sigma ** 2 - 1)).toBeLessThan(0.2);
    const { samples, frames } = await sampleDdim(oracle, schedule, { count: 32, seed: 8 }, null, { steps: 25 });
    const variance = tf.tidy(() => tf.moments(samples).variance.dataSync()[0]);
    expect(Math.abs(variance / expected - 1)).toBeLessThan(0.05);
    tf.dispose([samples, frames!]);
  });

  it("DDIM's noise level sigma is the posterior's: eta = 1 gives q(x_prev | x_t, x_0)'s variance at every stride", () => {
    // The strided DDPM posterior (Ho et al. 2020, eq. 7, with alpha = alphaBar_t / alphaBar_prev for
    // the whole stride) has variance (1 - ab_prev) / (1 - ab_t) (1 - ab_t / ab_prev); Song et al.'s
    // eq. 16 scales its standard deviation by eta. The step is x_prev = (terms without z) + sigma z,
    // so feeding z = 1 and z = 0 isolates sigma. A missing sqrt on the first factor is off by
    // sqrt((1 - ab_prev) / (1 - ab_t)), e.g. 0.55x from t = 40 to 20.
    const x = tf.fill([1, 16, 16, 3], 0.3) as tf.Tensor4D;
    const eps = tf.fill([1, 16, 16, 3], -0.2) as tf.Tensor4D;
    const ones = tf.onesLike(x);
    const zeros = tf.zerosLike(x);
    for (const steps of [25, 5]) {
      for (const [t, tPrev] of ddimPlan(schedule, steps)) {
        const [ab, abPrev] = [schedule.alphaBar[t], schedule.alphaBar[tPrev]];
        const posteriorVariance = ((1 - abPrev) / (1 - ab)) * (1 - ab / abPrev);
        for (const eta of [0.5, 1]) {
          const withNoise = ddimStep(x, eps, t, tPrev, schedule, eta, ones).dataSync()[0];
          const without = ddimStep(x, eps, t, tPrev, schedule, eta, zeros).dataSync()[0];
          expect(withNoise - without).toBeCloseTo(eta * Math.sqrt(posteriorVariance), 5);
        }
      }
    }
    tf.dispose([x, eps, ones, zeros]);
  });

  it("on Gaussian data every DDIM (eta = 0, 0.5, 1) keeps the data's variance, as its closed form says", async () => {
    // With the exact denoiser eps* = g_t x a DDIM step is x_prev = c x + sigma z with
    //   c = sqrt(ab_prev) (1 - sqrt(1 - ab) g) / sqrt(ab) + sqrt(1 - ab_prev - sigma^2) g,
    //   sigma from Song et al. eq. 16 (written here as the strided DDPM posterior, eq. 7),
    // so the variance follows v' = c^2 v + sigma^2 from v_T = 1, in float64.
    const sigmaData = 0.5;
    const oracle = new GaussianOracle(sigmaData, schedule);
    const closedForm = (steps: number, eta: number) => {
      let v = 1;
      for (const [t, tPrev] of ddimPlan(schedule, steps)) {
        const [ab, abPrev, g] = [schedule.alphaBar[t], schedule.alphaBar[tPrev], oracle.gain(t)];
        const sigmaSquared = eta ** 2 * ((1 - abPrev) / (1 - ab)) * (1 - ab / abPrev);
        const c = (Math.sqrt(abPrev) * (1 - Math.sqrt(1 - ab) * g)) / Math.sqrt(ab) + Math.sqrt(Math.max(0, 1 - abPrev - sigmaSquared)) * g;
        v = c * c * v + sigmaSquared;
      }
      return v;
    };
    const n = 128; // 128 x 768 values: the variance estimate's relative standard error is ~0.5 %.
    for (const eta of [0, 0.5, 1]) {
      // At stride 1 the family's marginal variance is the data's (0.98-1.00 sigma^2 here) ...
      expect(Math.abs(closedForm(schedule.T, eta) / sigmaData ** 2 - 1)).toBeLessThan(0.03);
      // ... and the sampler follows its closed form at strides 10 and 50, where a missing sqrt in
      // sigma's first factor would land 15 % high for eta = 1 (0.61 instead of 0.53 sigma^2 at 50).
      for (const steps of [50, 10]) {
        const { samples, frames } = await sampleDdim(oracle, schedule, { count: n, seed: 11 }, null, { steps, eta, saveFrame: () => false });
        const variance = tf.tidy(() => tf.moments(samples).variance.dataSync()[0]);
        expect(Math.abs(variance / closedForm(steps, eta) - 1), `eta ${eta}, ${steps} steps`).toBeLessThan(0.03);
        tf.dispose([samples, ...(frames ? [frames] : [])]);
      }
    }
  });

  it("DDIM with eta = 1 is stochastic yet still ends on the data point", async () => {
    const run = (seed: number) => sampleDdim(single, schedule, { count: 4, seed }, null, { steps: 50, eta: 1 });
    const r1 = await run(5);
    const r2 = await run(6);
    const f1 = r1.frames!.dataSync();
    const f2 = r2.frames!.dataSync();
    expect(f1.some((v, i) => v !== f2[i])).toBe(true);
    const values = r1.samples.dataSync();
    for (let i = 0; i < values.length; i += 97) expect(Math.abs(values[i] - a[i % D])).toBeLessThan(1e-4);
    tf.dispose([r1.samples, r1.frames!, r2.samples, r2.frames!]);
  });

  it("the DDPM loop written by hand on ddpmStep and stepNoise gives sampleDdpm's samples bit for bit", async () => {
    const xT = tf.randomNormal([3, 16, 16, 3], 0, 1, "float32", 9) as tf.Tensor4D;
    let x = xT.clone();
    for (let t = schedule.T; t >= 1; t--) {
      const next = tf.tidy(() => ddpmStep(x, mixture.predictNoise(x, t / schedule.T), t, schedule, t > 1 ? stepNoise(x.shape, 4, t) : null));
      x.dispose();
      x = next;
    }
    const library = await sampleDdpm(mixture, schedule, xT, null, { seed: 4, saveFrame: () => false });
    const other = await sampleDdpm(mixture, schedule, xT, null, { seed: 5, saveFrame: () => false });
    expect(Array.from(x.dataSync())).toEqual(Array.from(library.samples.dataSync()));
    expect(Array.from(x.dataSync())).not.toEqual(Array.from(other.samples.dataSync())); // the seed matters
    tf.dispose([xT, x, library.samples, other.samples]);
  });
});
