/**
 * The attention UNet trains with the library's pieces as the trainer composes them: x_t from
 * addNoise on the T = 1000 linear schedule, L_simple on forwardTraining's prediction,
 * tf.variableGrads and Adam. On one fixed batch the loss must fall and every weight move.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { addNoise } from "../../src/lib/diffusion/forward";
import { linearSchedule } from "../../src/lib/diffusion/schedule";
import { type AttentionUnetConfig, AttentionUnet } from "../../src/lib/model/attentionUnet";
import { Adam } from "../../src/lib/train/adam";
import { useFastestBackend } from "../helpers/backends";

const CONFIG: AttentionUnetConfig = {
  imageSize: 8, imageChannels: 1, downChannels: [8, 16], midChannels: [16, 8], downsample: [true], attention: [true],
  timeEmbeddingSize: 16, downLayers: 1, midLayers: 1, upLayers: 1, attentionHeads: 2, normGroups: 4, finalChannels: 8,
};

describe("AttentionUnet training", () => {
  beforeAll(async () => {
    await useFastestBackend();
  });

  it("lowers L_simple on a fixed batch with Adam, moving every weight, and leaks nothing per step", async () => {
    const model = new AttentionUnet(CONFIG, 1);
    const schedule = linearSchedule({ T: 1000, betaStart: 1e-4, betaEnd: 0.02 });
    const adam = new Adam(model.trainableParameters());
    // A blob image per sample and fixed draws of t and eps: the loss can only fall by learning.
    const x0 = tf.tidy(() => tf.sub(tf.mul(tf.cast(tf.greater(tf.randomUniform([8, 8, 8, 1], 0, 1, "float32", 2), 0.5), "float32"), 2), 1) as tf.Tensor4D);
    const noise = tf.randomNormal([8, 8, 8, 1], 0, 1, "float32", 3) as tf.Tensor4D;
    const t = [1, 50, 150, 300, 500, 700, 850, 1000];
    const xt = addNoise(schedule, x0, t, noise);
    const tFraction = tf.tensor1d(t.map((step) => step / schedule.T));
    const before = await model.getWeights();
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(model.forwardTraining(xt, tFraction, null).predNoise, noise)) as tf.Scalar, model.trainableVariables());
      adam.apply(grads, 3e-3);
      const loss = value.dataSync()[0];
      tf.dispose([value, ...Object.values(grads)]);
      return loss;
    };
    const first = step();
    const tensors = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 20; i++) last = step();
    expect(tf.memory().numTensors).toBe(tensors);
    console.info(`[attention-unet training] L_simple ${first.toFixed(4)} -> ${last.toFixed(4)} after 21 Adam steps`);
    expect(last).toBeLessThan(0.7 * first);
    const after = await model.getWeights();
    for (const key of Object.keys(before)) expect(after[key].data.some((v, i) => v !== before[key].data[i]), key).toBe(true);
    adam.dispose();
    model.dispose();
    tf.dispose([x0, noise, xt, tFraction]);
  });
});
