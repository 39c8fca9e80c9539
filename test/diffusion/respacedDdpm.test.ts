/**
 * DDPM on a respaced chain and with a learned variance (Nichol & Dhariwal 2021, Sec. 4 and
 * eq. 15), driven by the exact denoiser of Gaussian data, whose every step is linear: the final
 * variance follows a recursion computed here in float64 from alphaBar alone (so x_0^ is left
 * unclipped: clipping would bend the linear steps).
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { fullChainCoefficients } from "../../src/lib/diffusion/posterior";
import { sample } from "../../src/lib/diffusion/samplers";
import { type NoiseModel, sampleDdpm, stepNoise } from "../../src/lib/diffusion/sampling";
import { type Schedule, cosineSchedule, courseSchedule } from "../../src/lib/diffusion/schedule";
import { ddpmStep, posteriorStep } from "../../src/lib/diffusion/steps";
import { useTestBackend } from "../helpers/backends";
import { GaussianOracle } from "../helpers/oracle";

beforeAll(async () => {
  await useTestBackend();
});

/** The Gaussian oracle with a learned variance that is the constant v everywhere. */
class ConstantVarianceOracle implements NoiseModel {
  readonly learnsVariance = true;
  readonly inner: GaussianOracle;
  constructor(sigma: number, schedule: Schedule, readonly v: number) {
    this.inner = new GaussianOracle(sigma, schedule);
  }
  predictNoise(x: tf.Tensor4D, tFraction: number): tf.Tensor4D {
    return this.inner.predictNoise(x, tFraction);
  }
  predictNoiseAndVariance(x: tf.Tensor4D, tFraction: number) {
    return { noise: this.inner.predictNoise(x, tFraction), v: tf.fill(x.shape, this.v) as tf.Tensor4D };
  }
}

/**
 * Float64: the variance of x_0 when x_T ~ N(0, 1) and each step from t to tPrev is
 * x_prev = c x + sigma z (no z into tPrev = 0), with, from alphaBar only,
 *   beta' = 1 - ab/abPrev, betaTilde = (1 - abPrev)/(1 - ab) beta',
 *   x0^ = (x - sqrt(1 - ab) g x)/sqrt(ab), mean = sqrt(abPrev) beta'/(1 - ab) x0^ + sqrt(1 - beta') (1 - abPrev)/(1 - ab) x,
 *   sigma^2 = exp(v log beta' + (1 - v) log betaTilde), betaTilde of the previous step where it is 0.
 */
function finalVariance(schedule: Schedule, oracle: GaussianOracle, steps: number, v: number): number {
  const stride = schedule.T / steps;
  let variance = 1;
  let betaTildeAbove = NaN;
  for (let t = schedule.T; t > 0; t -= stride) {
    const tPrev = t - stride;
    const ab = schedule.alphaBar[t];
    const abPrev = schedule.alphaBar[tPrev];
    const beta = 1 - ab / abPrev;
    const betaTilde = ((1 - abPrev) / (1 - ab)) * beta;
    const c = ((Math.sqrt(abPrev) * beta) / (1 - ab)) * ((1 - Math.sqrt(1 - ab) * oracle.gain(t)) / Math.sqrt(ab)) + (Math.sqrt(1 - beta) * (1 - abPrev)) / (1 - ab);
    const small = betaTilde > 0 ? betaTilde : betaTildeAbove;
    variance = c * c * variance + (tPrev > 0 ? Math.exp(v * Math.log(beta) + (1 - v) * Math.log(small)) : 0);
    betaTildeAbove = betaTilde;
  }
  return variance;
}

function sampleVariance(values: Float32Array | Int32Array | Uint8Array): number {
  let sum = 0;
  for (const value of values) sum += value * value;
  return sum / values.length;
}

describe("respaced DDPM and learned variances on Gaussian data", () => {
  const sigma = 0.5;

  for (const schedule of [courseSchedule, cosineSchedule({ T: 500 })]) {
    const name = schedule.config.kind;
    it(`DDPM-25/50 with sigma^2 = beta' keep the data's variance to the closed form's (${name})`, async () => {
      const oracle = new GaussianOracle(sigma, schedule);
      for (const steps of [25, 50]) {
        const want = finalVariance(schedule, oracle, steps, 1);
        const { samples } = await sampleDdpm(oracle, schedule, { count: 32, seed: 4 }, null, { steps, saveFrame: () => false, clipDenoised: false });
        const got = sampleVariance(samples.dataSync() as Float32Array);
        samples.dispose();
        // 32 x 768 draws of a Gaussian: the variance's standard error is sqrt(2 / 24576) = 0.9 %; allow 5 %.
        expect(Math.abs(got / want - 1), `${steps} steps: ${got} vs ${want}`).toBeLessThan(0.05);
        // The exact denoiser's ancestral chain ends near the data's variance either way.
        expect(Math.abs(want / sigma ** 2 - 1)).toBeLessThan(0.15);
      }
    });

    it(`a learned v interpolates the step's variance in log space (${name}, v = 0 and 0.5)`, async () => {
      for (const v of [0, 0.5]) {
        const model = new ConstantVarianceOracle(sigma, schedule, v);
        const want = finalVariance(schedule, model.inner, 50, v);
        const { samples } = await sampleDdpm(model, schedule, { count: 32, seed: 5 }, null, { steps: 50, saveFrame: () => false, clipDenoised: false });
        const got = sampleVariance(samples.dataSync() as Float32Array);
        samples.dispose();
        expect(Math.abs(got / want - 1), `v = ${v}: ${got} vs ${want}`).toBeLessThan(0.05);
      }
      // The small variance (v = 0) loses more of the data's spread than the large one (v = 1), at 50 steps.
      const inner = new GaussianOracle(sigma, schedule);
      expect(finalVariance(schedule, inner, 50, 0)).toBeLessThan(finalVariance(schedule, inner, 50, 1));
    });
  }

  it("a learned v = 1 is the fixed sigma^2 = beta' chain, step for step (same seed)", async () => {
    const schedule = cosineSchedule({ T: 500 });
    const fixed = new GaussianOracle(sigma, schedule);
    const learned = new ConstantVarianceOracle(sigma, schedule, 1);
    const a = await sampleDdpm(fixed, schedule, { count: 4, seed: 6 }, null, { steps: 20, saveFrame: () => false, clipDenoised: false });
    const b = await sampleDdpm(learned, schedule, { count: 4, seed: 6 }, null, { steps: 20, saveFrame: () => false, clipDenoised: false });
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a.samples, b.samples))).dataSync()[0]);
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([a.samples, b.samples]);
  });

  it("the posterior step's mean is the course's DDPM step on its schedule for t >= 2", () => {
    const chain = fullChainCoefficients(courseSchedule);
    const oracle = new GaussianOracle(sigma, courseSchedule);
    for (const t of [2, 100, 499]) {
      const diff = tf.tidy(() => {
        const x = stepNoise([2, 4, 4, 3], 7, t);
        const eps = oracle.predictNoise(x, t / 500);
        const z = stepNoise([2, 4, 4, 3], 8, t);
        const ours = posteriorStep(x, eps, chain[t], courseSchedule, Math.log(courseSchedule.beta[t]), z);
        return tf.max(tf.abs(tf.sub(ours, ddpmStep(x, eps, t, courseSchedule, z)))).dataSync()[0];
      });
      expect(diff, `t=${t}`).toBeLessThan(1e-5);
    }
  });

  it("all T steps of a fixed-variance model take the course's loop; steps must divide T", async () => {
    const oracle = new GaussianOracle(sigma, courseSchedule);
    const a = await sampleDdpm(oracle, courseSchedule, { count: 2, seed: 9 }, null, { saveFrame: () => false });
    const b = await sampleDdpm(oracle, courseSchedule, { count: 2, seed: 9 }, null, { steps: 500, saveFrame: () => false });
    expect(Array.from(b.samples.dataSync())).toEqual(Array.from(a.samples.dataSync()));
    tf.dispose([a.samples, b.samples]);
    expect(() => sampleDdpm(oracle, courseSchedule, { count: 2, seed: 9 }, null, { steps: 30 })).toThrow(/DDPM steps must divide T = 500/);
  });

  it("refuses guidance on a learned-variance model (it would drop the variance), and leaks nothing", async () => {
    const model = new ConstantVarianceOracle(sigma, courseSchedule, 0.5);
    const before = tf.memory().numTensors;
    const context = tf.zeros([2, 5]) as tf.Tensor2D;
    await expect(sample(model, courseSchedule, { count: 2, seed: 1 }, context, { sampler: "ddpm", steps: 25, guidance: 1 })).rejects.toThrow(/fixed variance/);
    const { samples, frames } = await sample(model, courseSchedule, { count: 2, seed: 1 }, null, { sampler: "ddpm", steps: 25 });
    tf.dispose([samples, frames ?? [], context]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
