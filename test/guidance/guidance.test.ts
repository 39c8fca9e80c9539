/**
 * Classifier-free guidance and classifier guidance against two Gaussian classes whose conditional
 * and unconditional noise predictors and class posterior are exact (test/helpers/oracle.ts), so
 * every guided prediction can be recomputed here in float64 from the closed forms.
 */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SamplerName, sample } from "../../src/lib/diffusion/samplers";
import { type NoiseModel, type SampleResult } from "../../src/lib/diffusion/sampling";
import { linearSchedule } from "../../src/lib/diffusion/schedule";
import { ddpmStep } from "../../src/lib/diffusion/steps";
import { withClassifierFreeGuidance } from "../../src/lib/guidance/classifierFreeGuidance";
import { classifierGradient, guidanceCoefficient, withClassifierGuidance } from "../../src/lib/guidance/classifierGuidance";
import { useTestBackend } from "../helpers/backends";
import { TwoClassGaussianOracle, patternImage } from "../helpers/oracle";

// 100 steps up to beta = 0.1 end at alphaBar_T = 0.005, so x_T ~ N(0, I) holds as on the course's
// 500 (a schedule ending at 0.37 would keep class information out of the start and lower every
// share); 2 x 2 images keep thousands of guided samples within seconds.
const schedule = linearSchedule({ T: 100, betaStart: 1e-4, betaEnd: 0.1 });
const shape: [number, number, number] = [2, 2, 3];
const D = 12;
const S = 0.5; // per-class standard deviation s
/** Class means +-r u (u a unit pattern): r / s = 0.6 makes the classes overlap (nearest mean right 73 %). */
const R = 0.3;
const unit = (() => {
  const p = patternImage(0.4, 1, 2);
  const norm = Math.hypot(...p);
  return p.map((v) => v / norm);
})();
const means: [Float32Array, Float32Array] = [unit.map((v) => R * v), unit.map((v) => -R * v)];

/** The closed forms of the oracle's docs, in float64, for one image x (length D) at step t. */
function exact(x: ArrayLike<number>, t: number) {
  const ab = schedule.alphaBar[t];
  const v = ab * S ** 2 + 1 - ab;
  const offsets = means.map((m) => Array.from({ length: D }, (_, j) => x[j] - Math.sqrt(ab) * m[j]));
  const logits = offsets.map((o) => Math.log(0.5) - o.reduce((a, b) => a + b * b, 0) / (2 * v));
  const top = Math.max(...logits);
  const weights = logits.map((l) => Math.exp(l - top));
  const posterior = weights.map((w) => w / (weights[0] + weights[1]));
  const conditional = offsets.map((o) => o.map((value) => (Math.sqrt(1 - ab) * value) / v));
  const unconditional = conditional[0].map((_, j) => posterior[0] * conditional[0][j] + posterior[1] * conditional[1][j]);
  /** The oracle's eps for a context row c: sum_y c_y eps(x, y) + (1 - sum c) eps(x). */
  const eps = (c: number[]) => unconditional.map((u, j) => c[0] * conditional[0][j] + c[1] * conditional[1][j] + (1 - c[0] - c[1]) * u);
  /** grad_x log p(y | x) = (sum_k p(k|x)(x - sqrt(ab) m_k) - (x - sqrt(ab) m_y)) / v. */
  const gradLogPosterior = (y: number) => offsets[0].map((_, j) => (posterior[0] * offsets[0][j] + posterior[1] * offsets[1][j] - offsets[y][j]) / v);
  return { eps, gradLogPosterior };
}

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
const row = (values: Float32Array, i: number) => values.subarray(i * D, (i + 1) * D);
const release = (r: SampleResult) => tf.dispose([r.samples, ...(r.frames ? [r.frames] : [])]);

describe("guidance against two exact Gaussian classes", () => {
  let oracle: TwoClassGaussianOracle;
  let x: tf.Tensor4D;
  const contexts = [[1, 0], [0, 1], [0.3, 0.5]];
  let context: tf.Tensor2D;

  beforeAll(async () => {
    await useTestBackend();
    oracle = new TwoClassGaussianOracle(means, S, schedule, shape);
    x = tf.randomNormal([3, ...shape], 0, 1, "float32", 21) as tf.Tensor4D;
    context = tf.tensor2d(contexts);
  });
  afterAll(() => {
    oracle.dispose();
    tf.dispose([x, context]);
  });

  it("(a) CFG predicts (1 + w) eps(x, c) - w eps(x, none), one-hot or mixed c, from one doubled-batch call", () => {
    const xs = x.dataSync() as Float32Array;
    for (const w of [0.5, 3]) {
      for (const t of [10, 60, 100]) {
        oracle.batchSizes.length = 0;
        const guided = withClassifierFreeGuidance(oracle, w).predictNoise(x, t / schedule.T, context);
        expect(oracle.batchSizes).toEqual([6]);
        const got = guided.dataSync();
        guided.dispose();
        contexts.forEach((c, i) => {
          const { eps } = exact(row(xs, i), t);
          const conditional = eps(c);
          const none = eps([0, 0]);
          // Ho & Salimans 2022, eq. 6, in float64.
          const want = conditional.map((e, j) => (1 + w) * e - w * none[j]);
          expect(maxDifference(row(got as Float32Array, i), want), `w ${w}, t ${t}, c ${c}`).toBeLessThan(1e-5);
        });
      }
    }
  });

  it("(a) a CFG-guided run calls the model once per step, on twice the batch", async () => {
    oracle.batchSizes.length = 0;
    const labels = tf.tensor2d([[1, 0], [0, 1], [1, 0], [0, 1]]);
    release(await sample(oracle, schedule, { count: 4, seed: 1, imageShape: shape }, labels, { sampler: "ddim", steps: 10, guidance: 2 }));
    expect(oracle.batchSizes).toEqual(new Array(10).fill(8));
    labels.dispose();
  });

  it("(b) classifier guidance shifts eps by k_t s grad log p(y | x_t), with DDIM's and DDPM's k_t", () => {
    const xs = x.dataSync() as Float32Array;
    const labels = [1, 0, 1];
    for (const t of [5, 50, 100]) {
      const gradient = classifierGradient(oracle, x, t / schedule.T, labels);
      const grads = gradient.dataSync() as Float32Array;
      gradient.dispose();
      labels.forEach((y, i) => expect(maxDifference(row(grads, i), exact(row(xs, i), t).gradLogPosterior(y))).toBeLessThan(1e-5));
      const [ab, alpha] = [schedule.alphaBar[t], schedule.alpha[t]];
      for (const [sampler, k] of [["ddim", Math.sqrt(1 - ab)], ["ddpm", Math.sqrt(alpha) * Math.sqrt(1 - ab)], ["ddpm-no-noise", Math.sqrt(alpha) * Math.sqrt(1 - ab)]] as const) {
        expect(guidanceCoefficient(schedule, t, sampler)).toBe(k);
        const scale = 3;
        const guided = withClassifierGuidance(oracle, schedule, { classifier: oracle, labels, scale, sampler }).predictNoise(x, t / schedule.T, null);
        const got = guided.dataSync() as Float32Array;
        guided.dispose();
        labels.forEach((y, i) => {
          const { eps, gradLogPosterior } = exact(row(xs, i), t);
          const g = gradLogPosterior(y);
          // Dhariwal & Nichol 2021, Algorithm 2 (DDIM) and Algorithm 1 in eps form (DDPM), in float64.
          const want = eps([0, 0]).map((e, j) => e - k * scale * g[j]);
          expect(maxDifference(row(got, i), want), `${sampler}, t ${t}`).toBeLessThan(1e-5);
        });
      }
    }
  });

  it("(b) one DDPM step with the guided eps lands on mu + s beta_t g (Dhariwal & Nichol 2021, Algorithm 1)", () => {
    const xs = x.dataSync() as Float32Array;
    const labels = [0, 0, 1];
    const scale = 2;
    for (const t of [3, 40, 90]) {
      const [ab, alpha, beta] = [schedule.alphaBar[t], schedule.alpha[t], schedule.beta[t]];
      const guided = withClassifierGuidance(oracle, schedule, { classifier: oracle, labels, scale, sampler: "ddpm" });
      const step = tf.tidy(() => ddpmStep(x, guided.predictNoise(x, t / schedule.T, null), t, schedule, null));
      const got = step.dataSync() as Float32Array;
      step.dispose();
      labels.forEach((y, i) => {
        const xi = row(xs, i);
        const { eps, gradLogPosterior } = exact(xi, t);
        const [e, g] = [eps([0, 0]), gradLogPosterior(y)];
        // Ho et al. 2020, Algorithm 2's mean (no noise), then Algorithm 1's shift s Sigma_t g with Sigma_t = beta_t.
        const want = Array.from(xi, (xj, j) => (xj - (beta / Math.sqrt(1 - ab)) * e[j]) / Math.sqrt(alpha) + scale * beta * g[j]);
        expect(maxDifference(row(got, i), want), `t ${t}`).toBeLessThan(2e-5);
      });
    }
  });

  it("(b) combined, classifier guidance wraps the CFG-guided prediction", () => {
    const xs = x.dataSync() as Float32Array;
    const [w, scale, t, labels] = [2, 1.5, 30, [0, 1, 0]];
    const cfg = withClassifierFreeGuidance(oracle, w);
    const both = withClassifierGuidance(cfg, schedule, { classifier: oracle, labels, scale, sampler: "ddim" }).predictNoise(x, t / schedule.T, context);
    const got = both.dataSync() as Float32Array;
    both.dispose();
    contexts.forEach((c, i) => {
      const { eps, gradLogPosterior } = exact(row(xs, i), t);
      const [conditional, none, g] = [eps(c), eps([0, 0]), gradLogPosterior(labels[i])];
      const want = conditional.map((e, j) => (1 + w) * e - w * none[j] - schedule.sqrtOneMinusAlphaBar[t] * scale * g[j]);
      expect(maxDifference(row(got, i), want)).toBeLessThan(1e-5);
    });
  });

  it("(c) w = 0 and s = 0 give the unguided samplers' samples and frames bit for bit", async () => {
    expect(withClassifierFreeGuidance(oracle, 0)).toBe(oracle);
    expect(withClassifierGuidance(oracle, schedule, { classifier: oracle, labels: [0], scale: 0, sampler: "ddpm" })).toBe(oracle);
    const start = { count: 3, seed: 5, imageShape: shape };
    const values = async (r: SampleResult) => {
      const out = [Array.from(await r.samples.data()), r.frames ? Array.from(await r.frames.data()) : null];
      release(r);
      return out;
    };
    for (const sampler of ["ddpm", "ddim", "ddpm-no-noise"] as const) {
      const plain = await values(await sample(oracle, schedule, start, context, { sampler }));
      const zero = await values(await sample(oracle, schedule, start, context, { sampler, guidance: 0, classifierGuidance: { classifier: oracle, labels: [0, 1, 1], scale: 0 } }));
      expect(zero, sampler).toEqual(plain);
      const guided = await values(await sample(oracle, schedule, start, context, { sampler, guidance: 1 }));
      expect(guided[0], `${sampler}: w = 1 changes the samples`).not.toEqual(plain[0]);
    }
  });

  /** Share of n samples whose nearest class mean is the one asked for (labels alternate 0, 1). */
  async function shareInAskedClass(model: NoiseModel, sampler: SamplerName, n: number, steer: { guidance?: number; scale?: number; context: boolean }): Promise<number> {
    const labels = Array.from({ length: n }, (_, i) => i % 2);
    const context = steer.context ? (tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, "int32"), 2), "float32")) as tf.Tensor2D) : null;
    const result = await sample(model, schedule, { count: n, seed: 17, imageShape: shape }, context, {
      sampler,
      guidance: steer.guidance,
      ...(steer.scale !== undefined ? { classifierGuidance: { classifier: oracle, labels, scale: steer.scale } } : {}),
      saveFrame: () => false,
    });
    const values = result.samples.dataSync() as Float32Array;
    tf.dispose([result.samples, ...(context ? [context] : [])]);
    // Nearest of +-R u: the sign of the projection on u.
    const hits = labels.filter((y, i) => (row(values, i).reduce((a, v, j) => a + v * unit[j], 0) > 0 ? 0 : 1) === y).length;
    return hits / n;
  }

  const n = 600;
  const standardError = (p: number) => Math.sqrt((p * (1 - p)) / n);
  /** Normal CDF (Abramowitz & Stegun 7.1.26, error < 1.5e-7). */
  const phi = (z: number) => {
    const k = 1 / (1 + (0.3275911 * Math.abs(z)) / Math.SQRT2);
    const erf = 1 - k * (0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429)))) * Math.exp(-(z * z) / 2);
    return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
  };
  /** Unguided conditional draws land nearest their own mean with probability Phi(r / s). */
  const conditionalShare = phi(R / S);

  const expectRising = (shares: number[], what: string) => {
    for (let i = 1; i < shares.length; i++) {
      const bound = 3 * Math.hypot(standardError(shares[i]), standardError(shares[i - 1]));
      expect(shares[i] - shares[i - 1], `${what}: ${shares.map((s) => s.toFixed(3)).join(" -> ")}`).toBeGreaterThan(bound);
    }
  };

  it("(d) CFG: the share in the asked-for class rises with w (0, 1, 3), from the conditional Phi(r / s)", async () => {
    const shares: number[] = [];
    for (const w of [0, 1, 3]) shares.push(await shareInAskedClass(oracle, "ddim", n, { guidance: w, context: true }));
    expect(Math.abs(shares[0] - conditionalShare)).toBeLessThan(4 * standardError(conditionalShare));
    expectRising(shares, "CFG, DDIM-25");
  });

  for (const sampler of ["ddim", "ddpm"] as const) {
    it(`(d) classifier guidance on the unconditional model (${sampler}): the share rises with s (0, 1, 3), from 1/2`, async () => {
      const shares: number[] = [];
      for (const scale of [0, 1, 3]) shares.push(await shareInAskedClass(oracle, sampler, n, { scale, context: false }));
      // s = 0 draws from the mixture (half land in the asked-for class); s = 1 with the exact
      // classifier draws from p(x | y) itself, up to the sampler's discretisation.
      expect(Math.abs(shares[0] - 0.5)).toBeLessThan(4 * standardError(0.5));
      expect(Math.abs(shares[1] - conditionalShare)).toBeLessThan(4 * standardError(conditionalShare));
      expectRising(shares, `classifier, ${sampler}`);
    });
  }

  it("(e) repeated guided sampling and guided steps leave no tensor behind", async () => {
    const guidedRun = async () =>
      release(await sample(oracle, schedule, { count: 3, seed: 2, imageShape: shape }, context, { sampler: "ddpm", guidance: 2, classifierGuidance: { classifier: oracle, labels: [0, 1, 0], scale: 3 } }));
    await guidedRun();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await guidedRun();
    expect(tf.memory().numTensors).toBe(before);
    const both = withClassifierGuidance(withClassifierFreeGuidance(oracle, 2), schedule, { classifier: oracle, labels: [1, 1, 0], scale: 2, sampler: "ddim" });
    for (let i = 0; i < 5; i++) {
      const eps = both.predictNoise(x, (100 - 20 * i) / schedule.T, context);
      expect(tf.memory().numTensors).toBe(before + 1);
      eps.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("(f) bad guidance fails with what to do, before sample makes a tensor", async () => {
    const options = { classifier: oracle, labels: [0, 1, 0], scale: 1, sampler: "ddim" as const };
    expect(() => withClassifierFreeGuidance(oracle, -1)).toThrow("Classifier-free guidance: the weight w must be a finite number >= 0 (0 = no guidance; 1 to 4 sharpens the classes), got -1.");
    expect(() => withClassifierFreeGuidance(oracle, NaN)).toThrow(/w must be a finite number >= 0.*got NaN/);
    expect(() => withClassifierFreeGuidance(oracle, Infinity)).toThrow(/got Infinity/);
    expect(() => withClassifierFreeGuidance(oracle, 2).predictNoise(x, 0.5, null)).toThrow(/needs a context to steer to, got null: pass one context vector per sample/);
    expect(() => withClassifierGuidance(oracle, schedule, { ...options, scale: -0.5 })).toThrow(/the scale s must be a finite number >= 0 .*got -0.5/);
    expect(() => withClassifierGuidance(oracle, schedule, { ...options, labels: [0, 2, 1] })).toThrow("Classifier guidance: label 2 at position 1 is not a class of the classifier (0..1); pass one class index per sample.");
    expect(() => withClassifierGuidance(oracle, schedule, { ...options, labels: [0.5] })).toThrow(/label 0.5 at position 0/);
    expect(() => withClassifierGuidance(oracle, schedule, { ...options, sampler: "plms" as "ddim" })).toThrow(/unknown sampler "plms"/);
    expect(() => withClassifierGuidance(oracle, schedule, { ...options, labels: [0, 1] }).predictNoise(x, 0.5, null)).toThrow("Classifier guidance: 2 labels for a batch of 3; pass one label (the class to steer to) per sample.");

    const start = { count: 3, seed: 1, imageShape: shape };
    const before = tf.memory().numTensors;
    await expect(sample(oracle, schedule, start, null, { sampler: "ddim", guidance: 2 })).rejects.toThrow(/w = 2\) needs a context to steer to, got null.*use classifierGuidance for an unconditional model/);
    await expect(sample(oracle, schedule, start, context, { sampler: "ddim", guidance: -2 })).rejects.toThrow(/w must be a finite number >= 0/);
    await expect(sample(oracle, schedule, start, null, { sampler: "ddpm", classifierGuidance: { classifier: oracle, labels: [0, 1], scale: 1 } })).rejects.toThrow("Classifier guidance: 2 labels for 3 samples; pass one label (the class to steer to) per sample.");
    await expect(sample(oracle, schedule, start, null, { sampler: "ddpm", classifierGuidance: { classifier: oracle, labels: [0, 1, 5], scale: 1 } })).rejects.toThrow(/label 5 at position 2/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
