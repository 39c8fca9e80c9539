/**
 * Sampling (Hoogeboom et al. 2022, Algorithm 2) from the exact oracle of a non-factorised joint over
 * D = 3 variables with K = 3 values (27 cells): one variable per call must reproduce the joint,
 * all D at once must give the product of the marginals instead (Sec. 4: parallel decoding trades
 * likelihood for calls). Pearson's chi-squared on n = 6000 samples against the 0.999 quantile of
 * chi-squared with 26 degrees of freedom, 54.05 (tabulated): a 0.1 % false-alarm level, and the
 * seeds are fixed, so each outcome is deterministic.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { budgetSchedule } from "../../src/lib/ardm/budget";
import { ardmTrainingLoss } from "../../src/lib/ardm/loss";
import type { ArdmNetwork } from "../../src/lib/ardm/network";
import { sampleArdm } from "../../src/lib/ardm/sampling";
import { useTestBackend } from "../helpers/backends";
import { configIndex, jointOracle, makeJoint, productOfMarginals } from "./jointOracle";

beforeAll(async () => {
  await useTestBackend();
});

const D = 3;
const K = 3;
const n = 6000;
const CHI2_0999_DF26 = 54.05;
const joint = makeJoint(D, K, 21);
const oracle = jointOracle(joint);

/** Pearson's statistic of the samples' cell counts against the table `expected` (probabilities). */
async function chiSquared(samples: tf.Tensor2D, expected: Float64Array): Promise<number> {
  const values = await samples.data();
  const counts = new Float64Array(K ** D);
  for (let i = 0; i < samples.shape[0]; i++) counts[configIndex(values.subarray(i * D, (i + 1) * D), K)] += 1;
  return expected.reduce((sum, p, c) => sum + (counts[c] - n * p) ** 2 / (n * p), 0);
}

describe("ARDM sampling from the exact oracle", () => {
  it("one variable per call (D calls, random orders) reproduces the joint", async () => {
    const result = await sampleArdm(oracle, { count: n, seed: 1 });
    expect(result.groups).toEqual([1, 1, 1]);
    expect(result.completed).toBe(true);
    const againstJoint = await chiSquared(result.samples, joint.p);
    const againstProduct = await chiSquared(result.samples, productOfMarginals(joint));
    result.samples.dispose();
    expect(againstJoint).toBeLessThan(CHI2_0999_DF26);
    expect(againstProduct).toBeGreaterThan(10 * CHI2_0999_DF26);
  });

  it("all D at once (one call) gives the product of the marginals, not the joint", async () => {
    const result = await sampleArdm(oracle, { count: n, seed: 2, perCall: D });
    expect(result.stepsTaken).toBe(1);
    const againstProduct = await chiSquared(result.samples, productOfMarginals(joint));
    const againstJoint = await chiSquared(result.samples, joint.p);
    result.samples.dispose();
    expect(againstProduct).toBeLessThan(CHI2_0999_DF26);
    expect(againstJoint).toBeGreaterThan(10 * CHI2_0999_DF26);
  });

  it("makes ceil(D / k) calls for k per call, or one per listed group", async () => {
    const calls: number[] = [];
    const counting = { ...oracle, logits: (x: tf.Tensor2D, m: tf.Tensor2D) => (calls.push(tf.sum(m).dataSync()[0]), oracle.logits(x, m)) };
    const byTwo = await sampleArdm(counting, { count: 4, seed: 3, perCall: 2 });
    expect(byTwo.groups).toEqual([2, 1]);
    expect(calls).toEqual([0, 8]); // 4 samples: none given, then 2 each
    calls.length = 0;
    const listed = await sampleArdm(counting, { count: 4, seed: 3, groups: [1, 2] });
    expect(calls).toEqual([0, 4]);
    tf.dispose([byTwo.samples, listed.samples]);
  });

  it("is reproducible from its seed, and records frames of the partly decoded state", async () => {
    const saveFrame = (step: number) => step !== 2;
    const a = await sampleArdm(oracle, { count: 8, seed: 5, saveFrame });
    const b = await sampleArdm(oracle, { count: 8, seed: 5, saveFrame });
    const c = await sampleArdm(oracle, { count: 8, seed: 6 });
    expect(a.samples.arraySync()).toEqual(b.samples.arraySync());
    expect(a.samples.arraySync()).not.toEqual(c.samples.arraySync());
    expect(a.frames.map((f) => f.step)).toEqual([1, 3]);
    expect(a.frames).toEqual(b.frames);
    const first = a.frames[0];
    for (let i = 0; i < 8; i++) {
      const decoded = a.orders[i][0];
      for (let k = 0; k < D; k++) expect(first.mask[i * D + k]).toBe(k === decoded ? 1 : 0);
    }
    expect(Array.from(a.frames[1].values)).toEqual(Array.from(a.samples.dataSync()));
    expect(Array.from(a.frames[1].mask)).toEqual(new Array(8 * D).fill(1));
    expect(c.frames).toEqual([]);
    tf.dispose([a.samples, b.samples, c.samples]);
  });

  it("stops early when asked, leaving the rest undecoded", async () => {
    let steps = 0;
    const result = await sampleArdm(oracle, { count: 2, seed: 1, onStep: () => void (steps += 1), shouldStop: () => steps >= 2 });
    expect(result.completed).toBe(false);
    expect(result.stepsTaken).toBe(2);
    result.samples.dispose();
  });

  it("runs at the sprites' size (D = 768, K = 256) with a budgeted schedule of 24 calls", async () => {
    // A network that prefers value 7 for every variable: uniform but for a +4 logit.
    const spriteSize: ArdmNetwork = {
      dimensions: 768,
      categories: 256,
      logits: (x) =>
        tf.tidy(() => {
          const row = tf.cast(tf.oneHot(tf.tensor1d([7], "int32"), 256, 4, 0), "float32");
          return tf.tile(tf.reshape(row, [1, 1, 256]), [x.shape[0], 768, 1]) as tf.Tensor3D;
        }),
    };
    const losses = Array.from({ length: 768 }, (_, t) => 5 / Math.sqrt(t + 1));
    const { groups } = budgetSchedule(losses, 24);
    const result = await sampleArdm(spriteSize, { count: 2, seed: 4, groups });
    expect(result.stepsTaken).toBe(24);
    expect(result.samples.shape).toEqual([2, 768]);
    const values = result.samples.dataSync();
    const sevens = values.filter((v) => v === 7).length / values.length;
    expect(sevens).toBeGreaterThan(0.1); // e^4 / (e^4 + 255) = 0.176
    expect(sevens).toBeLessThan(0.25);
    const loss = ardmTrainingLoss(spriteSize, result.samples, 0);
    expect(loss.perDatum.shape).toEqual([2]);
    expect(Number.isFinite(loss.bitsPerDim.dataSync()[0])).toBe(true);
    tf.dispose([result.samples, loss.perDatum, loss.mean, loss.bitsPerDim]);
  });
});
