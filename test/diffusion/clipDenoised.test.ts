/**
 * Clipping the x_0 estimate to [-1, 1] (improved DDPM's clip_denoised): the DDIM and posterior
 * steps against a float64 recomputation, the samplers' defaults per schedule, and what clipping
 * buys where 1 / sqrt(alphaBar_T) is huge (the cosine schedule at T = 500).
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { fullChainCoefficients } from "../../src/lib/diffusion/posterior";
import { checkSamplerChoice, sample, samplerLabel } from "../../src/lib/diffusion/samplers";
import { type NoiseModel, clipsDenoisedByDefault, x0ErrorGain, sampleDdim, sampleDdpm, stepNoise } from "../../src/lib/diffusion/sampling";
import { cosineSchedule, courseSchedule, linearSchedule } from "../../src/lib/diffusion/schedule";
import { ddimStep, posteriorStep } from "../../src/lib/diffusion/steps";
import { useTestBackend } from "../helpers/backends";
import { GaussianOracle } from "../helpers/oracle";

beforeAll(async () => {
  await useTestBackend();
});

const cosine = cosineSchedule({ T: 500 });
const clip = (v: number) => Math.min(1, Math.max(-1, v));

/** A model that always says "no noise": its x_0 estimate is x_t / sqrt(alphaBar_t), far outside [-1, 1] near t = T. */
const saysNoNoise: NoiseModel = { predictNoise: (x) => tf.zerosLike(x) };

describe("clipping the x_0 estimate", () => {
  it("the DDIM step clips x0^ and re-derives eps from it, as float64 says (eta = 0 and 1)", () => {
    const [t, tPrev] = [480, 460];
    const x = stepNoise([1, 4, 4, 3], 1, t);
    const eps = tf.mul(stepNoise([1, 4, 4, 3], 2, t), 0.3) as tf.Tensor4D;
    const z = stepNoise([1, 4, 4, 3], 3, t);
    const [xs, es, zs] = [x, eps, z].map((a) => Array.from(a.dataSync()));
    const ab = cosine.alphaBar[t];
    const abPrev = cosine.alphaBar[tPrev];
    for (const eta of [0, 1]) {
      const sigma = eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(1 - ab / abPrev);
      const want = xs.map((xv, i) => {
        const x0 = clip((xv - Math.sqrt(1 - ab) * es[i]) / Math.sqrt(ab));
        const e = (xv - Math.sqrt(ab) * x0) / Math.sqrt(1 - ab);
        return Math.sqrt(abPrev) * x0 + Math.sqrt(1 - abPrev - sigma * sigma) * e + sigma * zs[i];
      });
      const got = ddimStep(x, eps, t, tPrev, cosine, eta, z, { clipDenoised: true });
      const diff = Math.max(...Array.from(got.dataSync()).map((g, i) => Math.abs(g - want[i])));
      got.dispose();
      expect(diff, `eta ${eta}`).toBeLessThan(1e-5);
      // Some x0^ here really lie outside [-1, 1], so the clip was exercised.
      expect(xs.some((xv, i) => Math.abs((xv - Math.sqrt(1 - ab) * es[i]) / Math.sqrt(ab)) > 1)).toBe(true);
    }
    tf.dispose([x, eps, z]);
  });

  it("the posterior step takes the clipped x0^ into its mean (float64)", () => {
    const chain = fullChainCoefficients(cosine);
    const t = 300;
    const x = stepNoise([1, 4, 4, 3], 4, t);
    const eps = tf.mul(stepNoise([1, 4, 4, 3], 5, t), 0.5) as tf.Tensor4D;
    const [xs, es] = [x, eps].map((a) => Array.from(a.dataSync()));
    const ab = cosine.alphaBar[t];
    const want = xs.map((xv, i) => chain[t].meanFromX0 * clip((xv - Math.sqrt(1 - ab) * es[i]) / Math.sqrt(ab)) + chain[t].meanFromXt * xv);
    const got = posteriorStep(x, eps, chain[t], cosine, 0, null, { clipDenoised: true });
    const diff = Math.max(...Array.from(got.dataSync()).map((g, i) => Math.abs(g - want[i])));
    tf.dispose([x, eps, got]);
    expect(diff).toBeLessThan(1e-5);
  });

  it("defaults: on where x0^ magnifies eps^'s error more than on the course's schedule (cosine, T = 1000), off on the course's; labelled and refused where meaningless", () => {
    const hoEtAl = linearSchedule({ T: 1000, betaStart: 1e-4, betaEnd: 0.02 });
    // sqrt((1 - alphaBar_T) / alphaBar_T), alphaBar_T recomputed here as the course's prod_{t=0..T} (1 - beta_t).
    const gain = (T: number) => {
      let alphaBar = 1;
      for (let t = 0; t <= T; t++) alphaBar *= 1 - (1e-4 + ((0.02 - 1e-4) * t) / T);
      return Math.sqrt((1 - alphaBar) / alphaBar);
    };
    expect(x0ErrorGain(courseSchedule)).toBeCloseTo(gain(500), 10);
    expect(x0ErrorGain(courseSchedule)).toBeCloseTo(12.6, 1);
    expect(x0ErrorGain(hoEtAl)).toBeCloseTo(gain(1000), 8);
    expect(x0ErrorGain(hoEtAl)).toBeCloseTo(158.2, 0);
    expect(clipsDenoisedByDefault(cosine)).toBe(true);
    expect(clipsDenoisedByDefault(hoEtAl)).toBe(true);
    expect(clipsDenoisedByDefault(courseSchedule)).toBe(false);
    expect(clipsDenoisedByDefault(linearSchedule({ T: 40, betaStart: 1e-4, betaEnd: 0.02 }))).toBe(false);
    expect(checkSamplerChoice({ sampler: "ddpm", steps: 50 }, cosine).clipDenoised).toBe(true);
    expect(checkSamplerChoice({ sampler: "ddim", clipDenoised: false }, cosine).clipDenoised).toBe(false);
    expect(checkSamplerChoice({ sampler: "ddim" }, courseSchedule).clipDenoised).toBe(false);
    expect(samplerLabel({ sampler: "ddpm", steps: 50 }, cosine)).toBe("DDPM-50, x0 clipped");
    expect(samplerLabel({ sampler: "ddim", clipDenoised: true, guidance: 2 }, courseSchedule)).toBe("DDIM-25, x0 clipped, CFG w = 2");
    expect(samplerLabel({ sampler: "ddim" }, courseSchedule)).toBe("DDIM-25");
    expect(() => checkSamplerChoice({ sampler: "ddpm-no-noise", clipDenoised: true }, courseSchedule)).toThrow(/clipDenoised belongs to DDPM and DDIM/);
  });

  it("on the course's schedule the default is the unclipped course loop, bit for bit; clipping there takes the posterior step", async () => {
    const oracle = new GaussianOracle(0.5, courseSchedule);
    const course = await sampleDdpm(oracle, courseSchedule, { count: 2, seed: 3 }, null, { saveFrame: () => false });
    const unclipped = await sample(oracle, courseSchedule, { count: 2, seed: 3 }, null, { sampler: "ddpm", clipDenoised: false, saveFrame: () => false });
    const clipped = await sample(oracle, courseSchedule, { count: 2, seed: 3 }, null, { sampler: "ddpm", clipDenoised: true, saveFrame: () => false });
    expect(Array.from(unclipped.samples.dataSync())).toEqual(Array.from(course.samples.dataSync()));
    // Gaussian data of sigma 0.5 puts some x0^ beyond 1, so the clipped chain ends elsewhere.
    const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(clipped.samples, course.samples))).dataSync()[0]);
    expect(moved).toBeGreaterThan(1e-3);
    tf.dispose([course.samples, unclipped.samples, clipped.samples]);
  });

  it("where 1 / sqrt(alphaBar_T) is 1e4, a bad eps^ blows DDIM up unclipped and stays in range clipped, without leaks", async () => {
    expect(1 / cosine.sqrtAlphaBar[500]).toBeGreaterThan(1e3);
    const before = tf.memory().numTensors;
    const raw = await sampleDdim(saysNoNoise, cosine, { count: 2, seed: 7 }, null, { steps: 25, clipDenoised: false, saveFrame: () => false });
    const byDefault = await sampleDdim(saysNoNoise, cosine, { count: 2, seed: 7 }, null, { steps: 25, saveFrame: () => false });
    const rawMax = tf.tidy(() => tf.max(tf.abs(raw.samples)).dataSync()[0]);
    const clippedMax = tf.tidy(() => tf.max(tf.abs(byDefault.samples)).dataSync()[0]);
    expect(rawMax).toBeGreaterThan(100);
    expect(clippedMax).toBeLessThanOrEqual(1);
    const ddpm = await sampleDdpm(saysNoNoise, cosine, { count: 2, seed: 7 }, null, { steps: 25, saveFrame: () => false });
    // DDPM's last step is the posterior mean at t = 1 from a clipped x0^: a hair beyond [-1, 1] at most.
    expect(tf.tidy(() => tf.max(tf.abs(ddpm.samples)).dataSync()[0])).toBeLessThan(1.1);
    tf.dispose([raw.samples, byDefault.samples, ddpm.samples]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
