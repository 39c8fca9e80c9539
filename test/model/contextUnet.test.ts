/** ContextUnet's contract: shapes, parameter count, gradients, conditioning, errors, hygiene. */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { COURSE_UNET_CONFIG, ContextUnet } from "../../src/lib/model/contextUnet";
import { commitStatUpdates, discardStatUpdates } from "../../src/lib/model/layers";
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
    const training = (x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null) => {
      const { predNoise, statUpdates } = model.forwardTraining(x, tFraction, context);
      discardStatUpdates(statUpdates);
      return predNoise;
    };
    tf.tidy(() => {
      const x = tf.randomNormal([3, 16, 16, 3], 0, 1, "float32", 2) as tf.Tensor4D;
      const base = training(x, 0.5, null);
      expect(base.shape).toEqual([3, 16, 16, 3]);
      const otherTime = training(x, 0.9, null);
      const hero = tf.cast(tf.oneHot(tf.tensor1d([0, 0, 0], "int32"), 5), "float32") as tf.Tensor2D;
      const withContext = training(x, 0.5, hero);
      const zeros = training(x, 0.5, tf.zeros([3, 5]) as tf.Tensor2D);
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
      const { grads } = tf.variableGrads(() => {
        const { predNoise, statUpdates } = model.forwardTraining(x, t, c);
        discardStatUpdates(statUpdates);
        return tf.mean(tf.square(predNoise)) as tf.Scalar;
      }, model.trainableVariables());
      for (const key of model.parameters.keys().filter((k) => model.parameters.spec(k).trainable)) {
        const g = grads[model.parameters.get(key).name];
        expect(g, key).toBeDefined();
        expect(tf.max(tf.abs(g)).dataSync()[0], key).toBeGreaterThan(0);
      }
    });
    model.dispose();
  });

  it("returns BatchNorm's new running statistics in training mode and assigns them only when committed", () => {
    const model = new ContextUnet({}, 3);
    const key = "down1.b1.conv1.1.running_mean";
    const mean = model.parameters.get(key);
    const maxAbs = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]);
    const x = tf.randomNormal([4, 16, 16, 3], 0, 1, "float32", 4) as tf.Tensor4D;
    tf.dispose(model.predictNoise(x, 0.5, null));
    const before = tf.memory().numTensors;
    // Kept: they outlive the tidy (and would outlive tf.variableGrads) until committed or discarded.
    const { predNoise, statUpdates } = tf.tidy(() => model.forwardTraining(x, 0.5, null));
    predNoise.dispose();
    expect(maxAbs(mean)).toBe(0);
    // Two statistics for each of the 18 BatchNorms, in forward order, the first init_conv's.
    expect(statUpdates).toHaveLength(36);
    expect(statUpdates[0].variable.name).toBe(model.parameters.get("init_conv.conv1.1.running_mean").name);
    const update = statUpdates.find((u) => u.variable === mean)!;
    const expected = maxAbs(update.value);
    expect(expected).toBeGreaterThan(0);
    commitStatUpdates(statUpdates);
    expect(maxAbs(mean)).toBe(expected);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  it("traces each top-level module's output by the course's names, in forward order", () => {
    const model = new ContextUnet({}, 4);
    const names: string[] = [];
    const shapes: Record<string, number[]> = {};
    tf.tidy(() => void model.predictNoise(tf.zeros([2, 16, 16, 3]) as tf.Tensor4D, 0.3, null)); // warm-up
    const before = tf.memory().numTensors;
    const [outEqualsPrediction, outIsPrediction] = tf.tidy(() => {
      const x = tf.randomNormal([2, 16, 16, 3], 0, 1, "float32", 5) as tf.Tensor4D;
      const c = tf.cast(tf.oneHot(tf.tensor1d([1, 3], "int32"), 5), "float32") as tf.Tensor2D;
      const traced: Record<string, tf.Tensor> = {};
      const prediction = model.predictNoise(x, 0.3, c, {
        trace: (name, activation) => {
          names.push(name);
          shapes[name] = activation.shape;
          traced[name] = activation;
        },
      });
      const untraced = model.predictNoise(x, 0.3, c);
      const same = tf.max(tf.abs(tf.sub(traced.out, untraced))).dataSync()[0] === 0;
      return [same, traced.out === prediction];
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(names).toEqual([
      "init_conv", "down1", "down2", "to_vec", "contextembed1", "timeembed1",
      "contextembed2", "timeembed2", "up0", "up1", "up2", "out",
    ]);
    expect(shapes).toEqual({
      init_conv: [2, 16, 16, 64], down1: [2, 8, 8, 64], down2: [2, 4, 4, 128], to_vec: [2, 1, 1, 128],
      contextembed1: [2, 1, 1, 128], timeembed1: [2, 1, 1, 128], contextembed2: [2, 1, 1, 64], timeembed2: [2, 1, 1, 64],
      up0: [2, 4, 4, 128], up1: [2, 8, 8, 64], up2: [2, 16, 16, 64], out: [2, 16, 16, 3],
    });
    expect(outEqualsPrediction).toBe(true);
    expect(outIsPrediction).toBe(true);
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

  it("with a learned variance has 6 outputs: eps first, then the interpolation v = (r + 1) / 2 (Nichol & Dhariwal eq. 15)", () => {
    const model = new ContextUnet({ outChannels: 6 }, 2);
    const before = tf.memory().numTensors;
    // Only the last conv grows: 64 x 3 x 3 x 3 more weights and 3 more biases.
    expect(model.parameterCount).toBe(1_480_771 + 256 + 64 * 9 * 3 + 3);
    expect(model.parameterCount).toBe(1_482_758);
    expect(model.learnsVariance).toBe(true);
    tf.tidy(() => {
      const x = tf.randomNormal([2, 16, 16, 3], 0, 1, "float32", 4) as tf.Tensor4D;
      const raw: tf.Tensor[] = [];
      const eps = model.predictNoise(x, 0.3, null, { trace: (name, y) => name === "out" && raw.push(y) });
      expect(raw[0].shape).toEqual([2, 16, 16, 6]);
      expect(eps.shape).toEqual([2, 16, 16, 3]);
      const { noise, v } = model.predictNoiseAndVariance(x, 0.3, null);
      expect(Array.from(noise.dataSync())).toEqual(Array.from(eps.dataSync()));
      const rawV = tf.slice(raw[0], [0, 0, 0, 3], [2, 16, 16, 3]);
      expect(tf.max(tf.abs(tf.sub(v, tf.div(tf.add(rawV, 1), 2)))).dataSync()[0]).toBeLessThan(1e-7);
      const training = model.forwardTraining(x, 0.3, null);
      expect(training.v!.shape).toEqual([2, 16, 16, 3]);
      training.statUpdates.forEach((u) => u.value.dispose());
    });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    const plain = new ContextUnet({ nFeat: 8 }, 1);
    expect(plain.learnsVariance).toBe(false);
    expect(() => plain.predictNoiseAndVariance(tf.zeros([1, 16, 16, 3]) as tf.Tensor4D, 0.5, null)).toThrow(/variance is fixed/);
    plain.dispose();
  });
});
