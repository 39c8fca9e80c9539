/** Samplers' contracts: reproducibility, early stop, progress, errors and tensor hygiene. */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NoiseModel, ddimPlan, sampleDdim, sampleDdpm, sampleDdpmWithoutNoise } from "../../src/lib/diffusion/sampling";
import { courseSchedule as schedule } from "../../src/lib/diffusion/schedule";
import { useTestBackend } from "../helpers/backends";
import { MixtureOracle, patternImage } from "../helpers/oracle";

describe("sampler contracts", () => {
  let oracle: MixtureOracle;
  beforeAll(async () => {
    await useTestBackend();
    oracle = new MixtureOracle([patternImage(0), patternImage(1.5)], [0.5, 0.5], schedule);
  });
  afterAll(() => oracle.dispose());

  it("DDIM with eta = 0 is deterministic given x_T; DDPM is reproducible given a seed", async () => {
    const noise = tf.randomNormal([4, 16, 16, 3], 0, 1, "float32", 11) as tf.Tensor4D;
    const d1 = await sampleDdim(oracle, schedule, noise, null, { steps: 20, seed: 1 });
    const d2 = await sampleDdim(oracle, schedule, noise, null, { steps: 20, seed: 2 });
    expect(Array.from(d1.samples.dataSync())).toEqual(Array.from(d2.samples.dataSync()));
    const p1 = await sampleDdpm(oracle, schedule, { count: 4, seed: 5 }, null);
    const p2 = await sampleDdpm(oracle, schedule, { count: 4, seed: 5 }, null);
    const p3 = await sampleDdpm(oracle, schedule, { count: 4, seed: 6 }, null);
    expect(Array.from(p1.samples.dataSync())).toEqual(Array.from(p2.samples.dataSync()));
    expect(Array.from(p1.samples.dataSync())).not.toEqual(Array.from(p3.samples.dataSync()));
    tf.dispose([noise, ...[d1, d2, p1, p2, p3].flatMap((r) => [r.samples, r.frames!])]);
  });

  it("refuses a tensor x_T without a seed when the sampler draws step noise; needs none otherwise", async () => {
    const noise = tf.randomNormal([2, 16, 16, 3], 0, 1, "float32", 12) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const pass = /x_T was given as a tensor without options\.seed.*pass \{ seed: S \}/;
    await expect(sampleDdpm(oracle, schedule, noise, null)).rejects.toThrow(pass);
    await expect(sampleDdim(oracle, schedule, noise, null, { steps: 5, eta: 0.5 })).rejects.toThrow(pass);
    expect(tf.memory().numTensors).toBe(before);
    // Deterministic samplers draw no step noise: no seed needed, and the result is repeatable.
    const d1 = await sampleDdim(oracle, schedule, noise, null, { steps: 5 });
    const d2 = await sampleDdim(oracle, schedule, noise, null, { steps: 5 });
    const q = await sampleDdpmWithoutNoise(oracle, schedule, noise, null, { saveFrame: (t) => t > 495 });
    expect(Array.from(d1.samples.dataSync())).toEqual(Array.from(d2.samples.dataSync()));
    expect(q.completed).toBe(true);
    // With a seed, DDPM from a tensor repeats itself.
    const p1 = await sampleDdpm(oracle, schedule, noise, null, { seed: 3, saveFrame: () => false });
    const p2 = await sampleDdpm(oracle, schedule, noise, null, { seed: 3, saveFrame: () => false });
    expect(Array.from(p1.samples.dataSync())).toEqual(Array.from(p2.samples.dataSync()));
    tf.dispose([noise, d1.samples, d1.frames!, d2.samples, d2.frames!, q.samples, q.frames!, p1.samples, p2.samples]);
  });

  it("reports progress every step and stops early when asked", async () => {
    const seen: number[] = [];
    const result = await sampleDdim(oracle, schedule, { count: 2, seed: 1 }, null, {
      steps: 25,
      onStep: ({ step, steps, t }) => {
        expect(steps).toBe(25);
        expect(t).toBe(500 - 20 * (step - 1));
        seen.push(step);
      },
      shouldStop: () => seen.length >= 10,
    });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(result.completed).toBe(false);
    expect(result.stepsTaken).toBe(10);
    expect(result.frames!.shape[0]).toBe(10);
    tf.dispose([result.samples, result.frames!]);
  });

  it("leaks no tensors: the count after 5 runs equals the count after 1", async () => {
    const run = async () => {
      const r = await sampleDdim(oracle, schedule, { count: 2, seed: 3 }, null, { steps: 10 });
      tf.dispose([r.samples, r.frames!]);
      const q = await sampleDdpm(oracle, schedule, { count: 2, seed: 3 }, null, { saveFrame: () => false });
      expect(q.frames).toBeNull();
      q.samples.dispose();
    };
    await run();
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) await run();
    expect(tf.memory().numTensors).toBe(after1);
  });

  it("explains bad input: DDIM steps that do not divide T, wrong context, non-finite samples", async () => {
    expect(() => ddimPlan(schedule, 30)).toThrow(/DDIM steps must divide T = 500, got 30\. Try one of .*25/);
    const before = tf.memory().numTensors;
    const context = tf.zeros([3, 5]) as tf.Tensor2D;
    await expect(sampleDdim(oracle, schedule, { count: 2, seed: 1 }, context, { steps: 5 })).rejects.toThrow(
      /context has shape \[3,5\], expected \[2, K\]/,
    );
    const broken: NoiseModel = { predictNoise: (x) => tf.mul(x, NaN) };
    await expect(sampleDdim(broken, schedule, { count: 2, seed: 1 }, null, { steps: 5 })).rejects.toThrow(/non-finite value \(NaN/);
    context.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
