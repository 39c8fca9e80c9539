/**
 * The variational bound's pieces against float64 recomputations written here from the papers'
 * formulas (Ho et al. 2020 eqs. 5-7, 13; Nichol & Dhariwal 2021 eqs. 15-17), and the respaced
 * posterior against Bayes' rule.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  HALF_BIN,
  boundTerms,
  discretizedGaussianLogLikelihood,
  gaussianKl,
  priorTerm,
  stopGradient,
} from "../../src/lib/diffusion/boundTerms";
import { fullChainCoefficients, interpolatedLogVariance, reverseChainCoefficients } from "../../src/lib/diffusion/posterior";
import { cosineSchedule, courseSchedule, scheduleFromConfig } from "../../src/lib/diffusion/schedule";
import { Prng } from "../../src/lib/data/sprites/prng";
import { useTestBackend } from "../helpers/backends";
import { discretizedLogLikelihood64, erf64, gaussianKl64 } from "../helpers/float64Gaussian";
import { relativeError } from "../helpers/relativeError";

beforeAll(async () => {
  await useTestBackend();
});

/** Uniform numbers in [lo, hi) from a seeded stream. */
function uniforms(count: number, seed: number, lo: number, hi: number): number[] {
  const rng = new Prng(seed);
  return Array.from({ length: count }, () => lo + ((hi - lo) * rng.nextUint32()) / 2 ** 32);
}

describe("the float64 references themselves", () => {
  it("erf matches tabulated values (Abramowitz & Stegun, table 7.1)", () => {
    expect(erf64(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf64(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf64(2.5)).toBeCloseTo(0.9995930479825550, 14);
    expect(erf64(-1.5)).toBeCloseTo(-0.9661051464753108, 14);
  });
});

describe("the cosine schedule (Nichol & Dhariwal 2021, eq. 17)", () => {
  const T = 500;
  const s = 0.008;
  const f = (t: number) => Math.cos((((t / T + s) / (1 + s)) * Math.PI) / 2) ** 2;
  const schedule = cosineSchedule({ T });

  it("has alphaBar_t = f(t) / f(0) wherever beta is not clipped", () => {
    for (const t of [0, 1, 10, 100, 250, 400, 490]) expect(schedule.alphaBar[t], `t=${t}`).toBeCloseTo(f(t) / f(0), 12);
    expect(schedule.beta[0]).toBe(0);
    expect(schedule.alphaBar[0]).toBe(1);
  });

  it("clips beta at 0.999 at t = T, where 1 - f(T)/f(T-1) = 1, and stays a product of (1 - beta)", () => {
    expect(1 - f(T) / f(T - 1)).toBeGreaterThan(0.999);
    expect(schedule.beta[T]).toBe(0.999);
    expect(schedule.alphaBar[T]).toBeCloseTo(schedule.alphaBar[T - 1] * 0.001, 15);
    for (const t of [1, 250, T]) expect(schedule.alpha[t]).toBe(1 - schedule.beta[t]);
  });

  it("destroys the image more slowly than the linear schedule at 16x16 (alphaBar higher through t = 400)", () => {
    for (const t of [50, 100, 200, 300, 400]) expect(schedule.alphaBar[t]).toBeGreaterThan(courseSchedule.alphaBar[t]);
  });

  it("is rebuilt from its recorded config as the same object", () => {
    expect(scheduleFromConfig(schedule.config)).toBe(schedule);
    expect(scheduleFromConfig(courseSchedule.config)).toBe(courseSchedule);
    expect(() => cosineSchedule({ T, maxBeta: 1 })).toThrow(/maxBeta/);
  });
});

describe("the reverse step's posterior (Ho et al. 2020, eq. 7; respaced as Nichol & Dhariwal Sec. 4)", () => {
  it("betaTilde and the mean's coefficients agree with Bayes' rule for a step of any size", () => {
    for (const schedule of [courseSchedule, cosineSchedule({ T: 500 })]) {
      const chain = reverseChainCoefficients(schedule, [[500, 480], [480, 20], [20, 19], [19, 0]]);
      for (const step of chain.slice(0, 3)) {
        const ab = schedule.alphaBar[step.t];
        const abPrev = schedule.alphaBar[step.tPrev];
        // x_tPrev ~ N(sqrt(abPrev) x0, 1 - abPrev); x_t | x_tPrev ~ N(sqrt(ab/abPrev) x_tPrev, 1 - ab/abPrev).
        const gain = Math.sqrt(ab / abPrev);
        const precision = 1 / (1 - abPrev) + (gain * gain) / (1 - ab / abPrev);
        const variance = 1 / precision;
        expect(step.posteriorVariance).toBeCloseTo(variance, 14);
        expect(step.meanFromX0).toBeCloseTo((variance * Math.sqrt(abPrev)) / (1 - abPrev), 12);
        expect(step.meanFromXt).toBeCloseTo((variance * gain) / (1 - ab / abPrev), 12);
        expect(step.beta).toBeCloseTo(1 - ab / abPrev, 15);
      }
      // Into t = 0 the posterior is a point (betaTilde = 0); its clipped log takes the step above's.
      const last = chain[3];
      expect(last.posteriorVariance).toBe(0);
      expect(last.logPosteriorVarianceClipped).toBe(Math.log(chain[2].posteriorVariance));
    }
  });

  it("is beta_t itself on the course's schedule for t >= 2 (the one-step chain)", () => {
    const chain = fullChainCoefficients(courseSchedule);
    for (const t of [2, 100, 500]) expect(chain[t].beta).toBeCloseTo(courseSchedule.beta[t], 14);
    expect(chain[1].logPosteriorVarianceClipped).toBe(Math.log(chain[2].posteriorVariance));
  });

  it("interpolates the learned log-variance between log betaTilde (v = 0) and log beta (v = 1), eq. 15", () => {
    const step = fullChainCoefficients(courseSchedule)[300];
    expect(interpolatedLogVariance(step, 0)).toBe(step.logPosteriorVarianceClipped);
    expect(interpolatedLogVariance(step, 1)).toBe(step.logBeta);
    expect(Math.exp(interpolatedLogVariance(step, 0.5))).toBeCloseTo(Math.sqrt(step.beta * step.posteriorVariance), 15);
  });

  it("rejects a chain with a gap", () => {
    expect(() => reverseChainCoefficients(courseSchedule, [[500, 400], [300, 0]])).toThrow(/connected/);
  });
});

describe("the Gaussian KL and the discretized decoder", () => {
  it("KL per element matches float64, for tensor and number log-variances", () => {
    const m1 = uniforms(64, 1, -2, 2);
    const m2 = uniforms(64, 2, -2, 2);
    const lv1 = uniforms(64, 3, -8, 1);
    const lv2 = uniforms(64, 4, -8, 1);
    const ours = tf.tidy(() => gaussianKl(tf.tensor1d(m1), tf.tensor1d(lv1), tf.tensor1d(m2), tf.tensor1d(lv2)).dataSync());
    const reference = m1.map((_, i) => gaussianKl64(m1[i], Math.exp(lv1[i]), m2[i], Math.exp(lv2[i])));
    expect(relativeError(ours, reference)).toBeLessThan(1e-5);
    const withNumbers = tf.tidy(() => gaussianKl(tf.tensor1d(m1), -3, tf.tensor1d(m2), -1).dataSync());
    expect(relativeError(withNumbers, m1.map((_, i) => gaussianKl64(m1[i], Math.exp(-3), m2[i], Math.exp(-1))))).toBeLessThan(1e-5);
    expect(tf.tidy(() => tf.max(gaussianKl(tf.tensor1d(m1), tf.tensor1d(lv1), tf.tensor1d(m1), tf.tensor1d(lv1))).dataSync()[0])).toBeLessThan(1e-6);
  });

  it("the decoder's log-likelihood matches float64 on the pixel grid, edges included", () => {
    const rng = new Prng(5);
    const xs = Array.from({ length: 200 }, (_, i) => (i < 4 ? [-1, 1, -1, 1][i] : rng.int(256) / 127.5 - 1));
    const means = xs.map((x, i) => x + uniforms(1, 100 + i, -0.06, 0.06)[0]);
    const logVariances = uniforms(200, 6, Math.log(1e-4), Math.log(0.05));
    const ours = tf.tidy(() => discretizedGaussianLogLikelihood(tf.tensor1d(xs), tf.tensor1d(means), tf.tensor1d(logVariances)).dataSync());
    const reference = xs.map((x, i) => discretizedLogLikelihood64(x, means[i], Math.exp(logVariances[i])));
    // Compare where the bin holds at least 1e-4 of the mass (float32 CDFs carry ~1e-7 absolutely).
    for (let i = 0; i < xs.length; i++) {
      if (reference[i] > Math.log(1e-4)) expect(Math.abs(ours[i] - reference[i]), `x=${xs[i]} mean=${means[i]}`).toBeLessThan(2e-3);
    }
    expect(reference.filter((r) => r > Math.log(1e-4)).length).toBeGreaterThan(100);
  });

  it("puts total mass 1 on the 256 values, for any mean and variance (the bins tile the line)", () => {
    const grid = Array.from({ length: 256 }, (_, k) => k / 127.5 - 1);
    for (const [mean, logVariance] of [[0.3, Math.log(0.04)], [-0.95, Math.log(1e-3)], [1.4, Math.log(0.3)]]) {
      const total = tf.tidy(() => tf.sum(tf.exp(discretizedGaussianLogLikelihood(tf.tensor1d(grid), tf.fill([256], mean), logVariance))).dataSync()[0]);
      expect(total, `mean ${mean}`).toBeCloseTo(1, 4);
    }
    expect(HALF_BIN * 255).toBeCloseTo(1, 15);
  });

  it("floors a vanishing bin at log 1e-12", () => {
    const far = tf.tidy(() => discretizedGaussianLogLikelihood(tf.tensor1d([0]), tf.tensor1d([0.9]), Math.log(1e-4)).dataSync()[0]);
    expect(far).toBeCloseTo(Math.log(1e-12), 4);
  });
});

describe("the bound's terms per image", () => {
  const n = 6;
  const shape: [number, number, number, number] = [n, 2, 2, 3];
  const ts = [1, 2, 37, 250, 499, 500];

  function batch(schedule: typeof courseSchedule, seed: number) {
    const size = n * 12;
    const rng = new Prng(seed);
    const x0 = Array.from({ length: size }, () => rng.int(256) / 127.5 - 1);
    const eps = uniforms(size, seed + 1, -2, 2);
    const predEps = eps.map((e, i) => e + uniforms(1, seed + 10 + i, -0.3, 0.3)[0]);
    const xt = x0.map((x, i) => schedule.sqrtAlphaBar[ts[Math.floor(i / 12)]] * x + schedule.sqrtOneMinusAlphaBar[ts[Math.floor(i / 12)]] * eps[i]);
    const v = uniforms(size, seed + 2, -0.2, 1.2);
    return { x0, xt, predEps, v };
  }

  /** Float64: KL of the posterior from the model (t >= 2) or the decoder's NLL (t = 1), mean per image, in bits. */
  function reference(schedule: typeof courseSchedule, b: ReturnType<typeof batch>, learned: boolean, clip: boolean): number[] {
    const chain = fullChainCoefficients(schedule);
    return ts.map((t, image) => {
      let sum = 0;
      for (let k = image * 12; k < image * 12 + 12; k++) {
        const ab = schedule.alphaBar[t];
        const abPrev = schedule.alphaBar[t - 1];
        const beta = 1 - ab / abPrev;
        const betaTilde = ((1 - abPrev) / (1 - ab)) * beta;
        const betaTildeClipped = t === 1 ? ((1 - schedule.alphaBar[1]) / (1 - schedule.alphaBar[2])) * (1 - schedule.alphaBar[2] / schedule.alphaBar[1]) : betaTilde;
        const rawX0 = (b.xt[k] - Math.sqrt(1 - ab) * b.predEps[k]) / Math.sqrt(ab);
        const predX0 = clip ? Math.min(1, Math.max(-1, rawX0)) : rawX0;
        const meanOf = (x0: number) => (Math.sqrt(abPrev) * beta * x0 + Math.sqrt(1 - beta) * (1 - abPrev) * b.xt[k]) / (1 - ab);
        const modelVariance = learned
          ? Math.exp(b.v[k] * Math.log(beta) + (1 - b.v[k]) * Math.log(betaTildeClipped))
          : t === 1 ? betaTildeClipped : beta;
        expect(chain[t].beta).toBeCloseTo(beta, 14);
        sum += t === 1 ? -discretizedLogLikelihood64(b.x0[k], meanOf(predX0), modelVariance) : gaussianKl64(meanOf(b.x0[k]), betaTilde, meanOf(predX0), modelVariance);
      }
      return sum / 12 / Math.LN2;
    });
  }

  for (const [name, schedule] of [["linear", courseSchedule], ["cosine", cosineSchedule({ T: 500 })]] as const) {
    it(`match float64 with fixed and learned variances (${name} schedule)`, () => {
      const b = batch(schedule, name === "linear" ? 11 : 12);
      for (const [learned, clip] of [[false, false], [true, false], [false, true], [true, true]]) {
        const ours = tf.tidy(() => {
          const variance = learned ? { kind: "learned" as const, v: tf.tensor4d(b.v, shape) } : { kind: "fixed" as const };
          return boundTerms(schedule, tf.tensor4d(b.x0, shape), tf.tensor4d(b.xt, shape), ts, tf.tensor4d(b.predEps, shape), variance, { clipDenoised: clip }).dataSync();
        });
        const expected = reference(schedule, b, learned, clip);
        const what = `${learned ? "learned" : "fixed"}${clip ? ", clipped" : ""}`;
        for (let i = 0; i < n; i++) expect(Math.abs(ours[i] - expected[i]), `${what} t=${ts[i]}`).toBeLessThan(2e-3 * Math.max(1, Math.abs(expected[i])));
      }
      // Clipping x0^ matters where 1 / sqrt(alphaBar_t) is large (cosine near t = T): there the
      // comparison above tells clipped from raw by far more than its tolerance.
      const [raw, clipped] = [reference(schedule, b, true, false), reference(schedule, b, true, true)];
      if (name === "cosine") expect(Math.abs(raw[n - 1] - clipped[n - 1])).toBeGreaterThan(0.1 * Math.abs(raw[n - 1]));
    });
  }

  it("the prior term is KL(N(sqrt(ab_T) x0, 1 - ab_T) || N(0, 1)) in bits per dimension", () => {
    const x0 = [-1, -0.5, 0, 0.25, 1, 0.75];
    const ours = tf.tidy(() => priorTerm(courseSchedule, tf.tensor4d(x0, [2, 1, 1, 3])).dataSync());
    const ab = courseSchedule.alphaBar[500];
    const kl = (x: number) => gaussianKl64(Math.sqrt(ab) * x, 1 - ab, 0, 1);
    expect(ours[0]).toBeCloseTo((kl(-1) + kl(-0.5) + kl(0)) / 3 / Math.LN2, 6);
    expect(ours[1]).toBeCloseTo((kl(0.25) + kl(1) + kl(0.75)) / 3 / Math.LN2, 6);
  });

  it("rejects t = 0 and a count that does not match the batch, and leaks nothing", () => {
    const z = tf.zeros(shape) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    expect(() => boundTerms(courseSchedule, z, z, [0, 1, 2, 3, 4, 5], z, { kind: "fixed" })).toThrow(/1\.\.500/);
    expect(() => boundTerms(courseSchedule, z, z, [1, 2], z, { kind: "fixed" })).toThrow(/one t per image/);
    tf.dispose(boundTerms(courseSchedule, z, z, ts, z, { kind: "fixed" }));
    expect(tf.memory().numTensors).toBe(before);
    z.dispose();
  });
});

describe("stopGradient", () => {
  it("passes the value and blocks the gradient", () => {
    // d/dx [stop(x) x + x] = stop(x) + 1; the stopped factor contributes nothing.
    const v = tf.variable(tf.tensor1d([1, 2, 3]), true, "sg-v");
    const g = tf.variableGrads(() => tf.sum(tf.add(tf.mul(stopGradient(v), v), v)) as tf.Scalar, [v]);
    expect(g.value.dataSync()[0]).toBe(1 + 4 + 9 + 6);
    expect(Array.from(g.grads["sg-v"].dataSync())).toEqual([2, 3, 4]);
    tf.dispose([g.value, ...Object.values(g.grads), v]);
  });
});
