/**
 * The per-step noise-prediction error against models whose error is known: the exact denoiser of
 * a single data point predicts the noise exactly (error 0 up to float32), and predicting zero noise
 * scores E[eps^2] = 1 within its sampling error.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { courseSchedule as schedule } from "../../src/lib/diffusion/schedule";
import { noisePredictionErrorByStep } from "../../src/lib/metrics/noisePredictionError";
import { useTestBackend } from "../helpers/backends";
import { MixtureOracle, patternImage } from "../helpers/oracle";

describe("noise-prediction error by step", () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  it("is 0 for the exact denoiser of the data, 1 for predicting no noise, and leaks nothing", async () => {
    const point = patternImage(0.4);
    const oracle = new MixtureOracle([point], [1], schedule);
    const images = tf.tidy(() => tf.tile(tf.tensor4d(point, [1, 16, 16, 3]), [10, 1, 1, 1])) as tf.Tensor4D;
    const steps = [1, 50, 250, 500];
    const exact = await noisePredictionErrorByStep(oracle, schedule, images, null, steps, { seed: 0, batchSize: 4 });
    const before = tf.memory().numTensors; // after the schedule's cached device copies exist
    expect(exact.map((e) => e.t)).toEqual(steps);
    for (const { mse } of exact) expect(mse).toBeLessThan(1e-6);
    const zero = { predictNoise: (x: tf.Tensor4D) => tf.zerosLike(x) };
    const blind = await noisePredictionErrorByStep(zero, schedule, images, null, steps, { seed: 0 });
    // 7,680 squared standard normals: mean 1, standard error sqrt(2 / 7680) = 0.016.
    for (const { mse } of blind) expect(Math.abs(mse - 1)).toBeLessThan(4 * Math.sqrt(2 / images.size));
    expect(tf.memory().numTensors).toBe(before);
    await expect(noisePredictionErrorByStep(zero, schedule, images, null, [501], { seed: 0 })).rejects.toThrow(/501/);
    tf.dispose(images);
    oracle.dispose();
  });
});
