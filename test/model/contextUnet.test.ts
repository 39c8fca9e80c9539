/** ContextUnet's contract: shapes, parameter count, gradients, conditioning, errors, hygiene. */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { COURSE_UNET_CONFIG, ContextUnet } from "../../src/lib/model/contextUnet";
import { useFastestBackend } from "../helpers/backends";

describe("ContextUnet", () => {
  beforeAll(async () => {
    await useFastestBackend();
  });

  it("has the course's 1,480,771 parameters plus 256 for the learned 1x1 shortcut", () => {
    const model = new ContextUnet();
    expect(model.config).toEqual(COURSE_UNET_CONFIG);
    expect(model.parameterCount).toBe(1_480_771 + 256);
    expect(model.parameters.get("init_conv.shortcut.weight").shape).toEqual([1, 1, 3, 64]);
    model.dispose();
  });

  it("maps [N, 16, 16, 3] to [N, 16, 16, 3]; time and context change the output", () => {
    const model = new ContextUnet({}, 1);
    // Training mode (batch statistics): at initialisation the running statistics (0, 1) leave
    // activations unnormalised and the embeddings' share of the output tiny.
    const training = { training: true };
    tf.tidy(() => {
      const x = tf.randomNormal([3, 16, 16, 3], 0, 1, "float32", 2) as tf.Tensor4D;
      const base = model.predictNoise(x, 0.5, null, training);
      expect(base.shape).toEqual([3, 16, 16, 3]);
      const otherTime = model.predictNoise(x, 0.9, null, training);
      const hero = tf.cast(tf.oneHot(tf.tensor1d([0, 0, 0], "int32"), 5), "float32") as tf.Tensor2D;
      const withContext = model.predictNoise(x, 0.5, hero, training);
      const zeros = model.predictNoise(x, 0.5, tf.zeros([3, 5]) as tf.Tensor2D, training);
      const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
      expect(maxDiff(base, otherTime)).toBeGreaterThan(1e-2);
      expect(maxDiff(base, withContext)).toBeGreaterThan(1e-2);
      // No context means zeros: null and an all-zero context are the same input.
      expect(maxDiff(base, zeros)).toBe(0);
    });
    model.dispose();
  });

  it("sends a gradient to every trainable variable", () => {
    const model = new ContextUnet({}, 2);
    tf.tidy(() => {
      const x = tf.randomNormal([4, 16, 16, 3], 0, 1, "float32", 3) as tf.Tensor4D;
      const c = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 4], "int32"), 5), "float32") as tf.Tensor2D;
      const t = tf.tensor1d([0.1, 0.4, 0.7, 1]);
      const { grads } = tf.variableGrads(
        () => tf.mean(tf.square(model.predictNoise(x, t, c, { training: true }))) as tf.Scalar,
        model.trainableVariables(),
      );
      for (const key of model.parameters.keys().filter((k) => model.parameters.spec(k).trainable)) {
        const g = grads[model.parameters.get(key).name];
        expect(g, key).toBeDefined();
        expect(tf.max(tf.abs(g)).dataSync()[0], key).toBeGreaterThan(0);
      }
    });
    model.dispose();
  });

  it("updates BatchNorm running statistics only in training mode", () => {
    const model = new ContextUnet({}, 3);
    const mean = model.parameters.get("down1.b1.conv1.1.running_mean");
    tf.tidy(() => {
      const x = tf.randomNormal([4, 16, 16, 3], 0, 1, "float32", 4) as tf.Tensor4D;
      model.predictNoise(x, 0.5, null, { training: false });
      expect(tf.max(tf.abs(mean)).dataSync()[0]).toBe(0);
      model.predictNoise(x, 0.5, null, { training: true });
      expect(tf.max(tf.abs(mean)).dataSync()[0]).toBeGreaterThan(0);
    });
    model.dispose();
  });

  it("explains bad input: wrong shape, NCHW, channel count, context length, t count", () => {
    const model = new ContextUnet();
    tf.tidy(() => {
      const x = tf.zeros([2, 16, 16, 3]) as tf.Tensor4D;
      expect(() => model.predictNoise(tf.zeros([2, 3, 16, 16]) as tf.Tensor4D, 0.5, null)).toThrow(/\[2,3,16,16\].*NHWC.*looks NCHW/);
      expect(() => model.predictNoise(tf.zeros([2, 16, 16, 4]) as tf.Tensor4D, 0.5, null)).toThrow(/expected \[N, 16, 16, 3\]/);
      expect(() => model.predictNoise(x, 0.5, tf.zeros([2, 4]) as tf.Tensor2D)).toThrow(/context has shape \[2,4\], expected \[2, 5\]/);
      expect(() => model.predictNoise(x, tf.tensor1d([0.5]), null)).toThrow(/1 values for a batch of 2/);
      expect(() => model.setWeights({})).toThrow(/missing weight "init_conv.conv1.0.weight"/);
    });
    model.dispose();
  });

  it("builds a second model in the same process (a re-run cell) and leaks nothing on dispose", () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const model = new ContextUnet({}, i);
      tf.tidy(() => {
        model.predictNoise(tf.zeros([1, 16, 16, 3]) as tf.Tensor4D, 0.5, null);
      });
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
