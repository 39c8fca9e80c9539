/**
 * The weight average against a float64 recomputation of its recursion:
 *   shadow_{n+1} = d_n shadow_n + (1 - d_n) theta_{n+1},  d_n = min(decay, (1 + n) / (10 + n)).
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { WeightAverage } from "../../src/lib/train/ema";
import { useTestBackend } from "../helpers/backends";

describe("WeightAverage (EMA with diffusers' warm-up)", () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  it("uses d_n = min(decay, (1 + n) / (10 + n)): 0.1 at the first step, the decay itself from about n = 8990 on for 0.999", () => {
    const theta = tf.variable(tf.zeros([1]));
    const average = new WeightAverage(new Map([["w", theta]]), 0.999);
    expect(average.decayAt(0)).toBeCloseTo(0.1, 15);
    expect(average.decayAt(90)).toBeCloseTo(91 / 100, 15);
    expect(average.decayAt(8989)).toBeLessThan(0.999); // (1 + n) / (10 + n) = 0.999 at n = 8990
    expect(average.decayAt(8991)).toBe(0.999);
    average.dispose();
    theta.dispose();
  });

  it("follows the recursion computed in float64 over 300 steps, and forgets the initial weights", async () => {
    const theta = tf.variable(tf.tensor1d([5, -5]));
    const average = new WeightAverage(new Map([["w", theta]]), 0.99);
    const expected = [5, -5];
    let initialWeight = 1; // how much of the initial +-5 is left in the average: prod d_n
    for (let n = 0; n < 300; n++) {
      const next = [Math.sin(n / 7), Math.cos(n / 11)];
      const value = tf.tensor1d(next);
      theta.assign(value);
      value.dispose();
      average.update(n);
      const d = Math.min(0.99, (1 + n) / (10 + n));
      for (let i = 0; i < 2; i++) expected[i] = d * expected[i] + (1 - d) * next[i];
      initialWeight *= d;
    }
    const got = (await average.read()).w.data;
    for (let i = 0; i < 2; i++) expect(Math.abs(got[i] - expected[i])).toBeLessThan(1e-5);
    expect(initialWeight).toBeLessThan(1e-3); // without the warm-up it would be 0.99^300 = 0.049
    average.dispose();
    theta.dispose();
  });
});
