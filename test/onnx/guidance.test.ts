/**
 * Guidance on an ONNX model: classifier-free guidance's wrapper offers predictNoiseAsync when the
 * model does (one ONNX Runtime run on the doubled batch, eq. 6 in TensorFlow.js), so guided DDIM
 * through ONNX ends where guided DDIM through the TensorFlow.js model ends (to 1e-3) and leaves no
 * tensor behind; w = 0 is the model itself; classifier guidance refuses an ONNX model, saying why.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, expect, it } from "vitest";
import { sample } from "../../src/lib/diffusion/samplers";
import type { NoiseModel } from "../../src/lib/diffusion/sampling";
import { courseSchedule } from "../../src/lib/diffusion/schedule";
import { withClassifierFreeGuidance } from "../../src/lib/guidance/classifierFreeGuidance";
import { withClassifierGuidance } from "../../src/lib/guidance/classifierGuidance";
import { NoisySpriteClassifier } from "../../src/lib/guidance/noisyClassifier";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { OnnxNoiseModel } from "../../src/lib/onnx/onnxNoiseModel";
import { useTestBackend } from "../helpers/backends";
import { TEST_ONNX_THREADS, TINY_CONTEXT_UNET, describeWithOnnxRuntime, randomizeNormsAndStatistics } from "./fixtures";

const maxAbsDifference = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const IMAGE_SHAPE: [number, number, number] = [TINY_CONTEXT_UNET.height, TINY_CONTEXT_UNET.height, 3];

describeWithOnnxRuntime("guidance on an ONNX model", () => {
  let contextUnet: ContextUnet;
  let onnx: OnnxNoiseModel;
  let context: tf.Tensor2D;

  beforeAll(async () => {
    await useTestBackend();
    contextUnet = new ContextUnet(TINY_CONTEXT_UNET, 21);
    await randomizeNormsAndStatistics(contextUnet, 700);
    onnx = await OnnxNoiseModel.fromNetwork(contextUnet, { threads: TEST_ONNX_THREADS });
    context = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), 5), "float32")) as tf.Tensor2D;
    return async () => {
      context.dispose();
      await onnx.dispose();
      contextUnet.dispose();
    };
  });

  const guidedDdim = (model: NoiseModel, w: number, seed = 3) =>
    sample(model, courseSchedule, { count: 4, seed, imageShape: IMAGE_SHAPE }, context, { sampler: "ddim", steps: 25, guidance: w, saveFrame: () => false });

  it("the guided wrapper of an ONNX model predicts asynchronously: one step's eps equals the TensorFlow.js wrapper's, to 1e-4", async () => {
    const guidedOnnx = withClassifierFreeGuidance(onnx, 2);
    const guidedOurs = withClassifierFreeGuidance(contextUnet, 2);
    expect(typeof guidedOnnx.predictNoiseAsync).toBe("function");
    expect(guidedOurs.predictNoiseAsync).toBeUndefined();
    const x = tf.randomNormal([4, ...IMAGE_SHAPE], 0, 1, "float32", 8) as tf.Tensor4D;
    const expected = guidedOurs.predictNoise(x, 0.6, context);
    const actual = await guidedOnnx.predictNoiseAsync!(x, 0.6, context);
    expect(actual.shape).toEqual([4, ...IMAGE_SHAPE]);
    expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-4);
    await expect(guidedOnnx.predictNoiseAsync!(x, 0.6, null)).rejects.toThrow("Classifier-free guidance (w = 2) needs a context to steer to, got null");
    tf.dispose([x, expected, actual]);
  });

  it("guided DDIM-25 (w = 2) through ONNX ends where it ends through the TensorFlow.js model, to 1e-3", async () => {
    const ours = await guidedDdim(contextUnet, 2);
    const theirs = await guidedDdim(onnx, 2);
    const unguided = await guidedDdim(onnx, 0);
    const error = maxAbsDifference(ours.samples, theirs.samples);
    console.info(`[onnx guidance] DDIM-25, CFG w = 2, ContextUnet: max abs ${error.toExponential(2)} at the end`);
    expect(error).toBeLessThan(1e-3);
    // The guidance did something the tolerance would notice: the unguided run ends further away (3.8e-3 here).
    expect(maxAbsDifference(unguided.samples, theirs.samples)).toBeGreaterThan(1e-3);
    tf.dispose([ours.samples, theirs.samples, unguided.samples]);
  });

  it("w = 0 is the ONNX model itself, and guided runs leave no tensor behind", async () => {
    expect(withClassifierFreeGuidance(onnx, 0)).toBe(onnx);
    const once = async () => {
      const { samples } = await sample(onnx, courseSchedule, { count: 4, seed: 5, imageShape: IMAGE_SHAPE }, context, { sampler: "ddim", steps: 5, guidance: 1.5, saveFrame: () => false });
      samples.dispose();
    };
    await once();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await once();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("classifier guidance refuses an ONNX model (plain or classifier-free-guided), saying to guide the TensorFlow.js network", async () => {
    const classifier = new NoisySpriteClassifier({ channels: [4, 4, 4], hiddenSize: 8, classes: 5 }, 0);
    const options = { classifier, labels: [0, 1, 2, 3], scale: 2, sampler: "ddim" as const };
    const message = /Classifier guidance runs on TensorFlow\.js .* this model predicts asynchronously \(ONNX Runtime's OnnxNoiseModel\): guide the TensorFlow\.js network itself/;
    expect(() => withClassifierGuidance(onnx, courseSchedule, options)).toThrow(message);
    expect(() => withClassifierGuidance(withClassifierFreeGuidance(onnx, 2), courseSchedule, options)).toThrow(message);
    expect(withClassifierGuidance(onnx, courseSchedule, { ...options, scale: 0 })).toBe(onnx);
    const before = tf.memory().numTensors;
    await expect(
      sample(onnx, courseSchedule, { count: 4, seed: 1, imageShape: IMAGE_SHAPE }, context, { sampler: "ddim", steps: 5, classifierGuidance: { classifier, labels: [0, 1, 2, 3], scale: 1 } }),
    ).rejects.toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
    classifier.dispose();
  });
});
