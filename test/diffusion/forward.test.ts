import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { addNoise } from "../../src/lib/diffusion/forward";
import { courseSchedule } from "../../src/lib/diffusion/schedule";
import { useTestBackend } from "../helpers/backends";
import { patternImage } from "../helpers/oracle";

describe("forward process x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps", () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  it("has mean sqrt(ab_t) x0 and variance 1 - ab_t per pixel over many draws", () => {
    const draws = 4000;
    const image = patternImage(0.3);
    for (const t of [1, 100, 250, 500]) {
      const [mean, variance] = tf.tidy(() => {
        const x0 = tf.tile(tf.tensor4d(image, [1, 16, 16, 3]), [draws, 1, 1, 1]) as tf.Tensor4D;
        const noise = tf.randomNormal([draws, 16, 16, 3], 0, 1, "float32", 7 + t) as tf.Tensor4D;
        const xt = addNoise(courseSchedule, x0, new Array(draws).fill(t), noise);
        const m = tf.moments(xt, 0);
        return [m.mean.dataSync(), m.variance.dataSync()];
      });
      const ab = courseSchedule.alphaBar[t];
      // Standard errors over 4000 draws: mean sd/sqrt(n) <= 0.016, variance ~ v sqrt(2/n) <= 0.023 v.
      for (let i = 0; i < image.length; i += 37) {
        expect(Math.abs(mean[i] - Math.sqrt(ab) * image[i]), `mean t=${t} i=${i}`).toBeLessThan(5 * Math.sqrt((1 - ab) / draws) + 1e-6);
        expect(Math.abs(variance[i] / (1 - ab) - 1), `var t=${t} i=${i}`).toBeLessThan(5 * Math.sqrt(2 / draws));
      }
    }
  });

  it("noises each sample to its own t", () => {
    const out = tf.tidy(() => {
      const x0 = tf.ones([2, 16, 16, 3]) as tf.Tensor4D;
      const noise = tf.zeros([2, 16, 16, 3]) as tf.Tensor4D;
      return addNoise(courseSchedule, x0, tf.tensor1d([0, 500], "int32"), noise).dataSync();
    });
    expect(out[0]).toBeCloseTo(1, 6);
    expect(out[16 * 16 * 3]).toBeCloseTo(Math.sqrt(courseSchedule.alphaBar[500]), 6);
  });

  it("rejects mismatched inputs with a message", () => {
    tf.tidy(() => {
      const x0 = tf.zeros([2, 16, 16, 3]) as tf.Tensor4D;
      expect(() => addNoise(courseSchedule, x0, [1], x0)).toThrow(/1 steps t for a batch of 2/);
      expect(() => addNoise(courseSchedule, x0, [1, 501], x0)).toThrow(/0\.\.500, got 501/);
      expect(() => addNoise(courseSchedule, x0, [1, 2], tf.zeros([2, 8, 8, 3]) as tf.Tensor4D)).toThrow(/must match/);
    });
  });
});
