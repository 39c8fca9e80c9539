/**
 * The ONNX graphs against the networks they were written from: on the same weights, ONNX Runtime's
 * eps equals the TensorFlow.js predictNoise to 1e-4 (max abs) for ContextUnet (with and without
 * context, batch 1 and 5, tiny and the course's size) and the attention UNet (a tiny config with
 * attention at both resolutions, and configs/mnist.json's) and a text-conditioned model (its UNet's
 * graph, its caption encoder on TensorFlow.js: captions, the empty caption and a null context). Every weight is random first, the norms' scales and shifts,
 * BatchNorm's running statistics and attention's biases too (their initial 1s and 0s would hide a
 * wrong layout), so each parameter's place in the graph is checked.
 */
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { attentionUnetConfigOf } from "../../src/lib/config/ddpmConfig";
import { loadDdpmConfig } from "../../src/lib/config/ddpmConfigFile";
import { AttentionUnet } from "../../src/lib/model/attentionUnet";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { OnnxNoiseModel } from "../../src/lib/onnx/onnxNoiseModel";
import { TextContextUnet } from "../../src/lib/text/textContextUnet";
import { useTestBackend } from "../helpers/backends";
import { TEST_ONNX_THREADS, TINY_ATTENTION_UNET, TINY_CONTEXT_UNET, describeWithOnnxRuntime, randomizeNormsAndStatistics } from "./fixtures";

const maxAbsDifference = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** eps from both, max abs difference, and the eps scale (so a zero output cannot pass). */
async function compare(model: ContextUnet | AttentionUnet | TextContextUnet, onnx: OnnxNoiseModel, x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null) {
  const expected = model.predictNoise(x, tFraction, context);
  const actual = await onnx.predictNoiseAsync(x, tFraction, context);
  expect(actual.shape).toEqual(expected.shape);
  const result = { error: maxAbsDifference(expected, actual), scale: tf.tidy(() => tf.max(tf.abs(expected)).dataSync()[0]) };
  tf.dispose([expected, actual]);
  return result;
}

describeWithOnnxRuntime("ONNX graphs against the TensorFlow.js networks", () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  it("ContextUnet (tiny): batch 1 and 5, with and without context, to 1e-4", async () => {
    const model = new ContextUnet(TINY_CONTEXT_UNET, 3);
    await randomizeNormsAndStatistics(model, 100);
    const onnx = await OnnxNoiseModel.fromNetwork(model, { threads: TEST_ONNX_THREADS });
    for (const n of [1, 5]) {
      const x = tf.randomNormal([n, 8, 8, 3], 0, 1, "float32", n) as tf.Tensor4D;
      const context = tf.randomUniform([n, 5], 0, 1, "float32", 10 + n) as tf.Tensor2D;
      for (const [ctx, tFraction] of [[context, 0.37], [null, 0.9]] as const) {
        const { error, scale } = await compare(model, onnx, x, tFraction, ctx);
        console.info(`[onnx parity] ContextUnet tiny, batch ${n}, ${ctx ? "context" : "no context"}: max abs ${error.toExponential(2)} (eps up to ${scale.toFixed(2)})`);
        expect(error).toBeLessThan(1e-4);
        expect(scale).toBeGreaterThan(0.1);
      }
      tf.dispose([x, context]);
    }
    await onnx.dispose();
    model.dispose();
  });

  it("ContextUnet with a learned variance (improved DDPM, 2C outputs): eps and v = (r + 1) / 2 both to 1e-4", async () => {
    const model = new ContextUnet({ ...TINY_CONTEXT_UNET, outChannels: 6 }, 5);
    await randomizeNormsAndStatistics(model, 300);
    const onnx = await OnnxNoiseModel.fromNetwork(model, { threads: TEST_ONNX_THREADS });
    expect(onnx.learnsVariance).toBe(true);
    const x = tf.randomNormal([3, 8, 8, 3], 0, 1, "float32", 31) as tf.Tensor4D;
    const context = tf.randomUniform([3, 5], 0, 1, "float32", 32) as tf.Tensor2D;
    const expected = model.predictNoiseAndVariance(x, 0.61, context);
    const actual = await onnx.predictNoiseAndVarianceAsync(x, 0.61, context);
    const epsOnly = await onnx.predictNoiseAsync(x, 0.61, context);
    const errors = [maxAbsDifference(expected.noise, actual.noise), maxAbsDifference(expected.v, actual.v), maxAbsDifference(expected.noise, epsOnly)];
    const vSpread = tf.tidy(() => tf.sub(tf.max(expected.v), tf.min(expected.v)).dataSync()[0]);
    console.info(`[onnx parity] ContextUnet tiny, learned variance: eps ${errors[0].toExponential(2)}, v ${errors[1].toExponential(2)} (v spread ${vSpread.toFixed(3)})`);
    expect(actual.v.shape).toEqual([3, 8, 8, 3]);
    for (const error of errors) expect(error).toBeLessThan(1e-4);
    expect(vSpread).toBeGreaterThan(0.01); // v varies, so a constant could not pass
    tf.dispose([x, context, expected.noise, expected.v, actual.noise, actual.v, epsOnly]);
    await onnx.dispose();
    model.dispose();
  });

  it("ContextUnet (the course's size, 16x16x3, 1.48 M parameters): batch 2 with context, to 1e-4", async () => {
    const model = new ContextUnet({}, 4);
    await randomizeNormsAndStatistics(model, 200);
    const onnx = await OnnxNoiseModel.fromNetwork(model, { threads: TEST_ONNX_THREADS });
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, "float32", 7) as tf.Tensor4D;
    const context = tf.oneHot(tf.tensor1d([1, 4], "int32"), 5) as tf.Tensor2D; // int32, as a caller may pass it
    const { error, scale } = await compare(model, onnx, x, 0.5, context);
    console.info(`[onnx parity] ContextUnet course size, batch 2: max abs ${error.toExponential(2)} (eps up to ${scale.toFixed(2)})`);
    expect(error).toBeLessThan(1e-4);
    tf.dispose([x, context]);
    await onnx.dispose();
    model.dispose();
  });

  it("TextContextUnet (tiny): captions, the empty caption and null, batch 3, to 1e-4; later weight changes do not reach it", async () => {
    const { nContext: _, ...unet } = TINY_CONTEXT_UNET;
    const model = new TextContextUnet({ vocabulary: ["a", "red", "green", "slime", "potion"], encoder: { embeddingWidth: 8, hiddenWidth: 16, contextSize: 6, maxTokens: 4 }, unet }, 5);
    await randomizeNormsAndStatistics(model, 300);
    const onnx = await OnnxNoiseModel.fromNetwork(model, { threads: TEST_ONNX_THREADS });
    expect(onnx.contextSize).toBe(4);
    const x = tf.randomNormal([3, 8, 8, 3], 0, 1, "float32", 9) as tf.Tensor4D;
    const captions = model.captionContexts(["a red slime", "green potion", ""]);
    for (const [context, tFraction] of [[captions, 0.3], [null, 0.8]] as const) {
      const { error, scale } = await compare(model, onnx, x, tFraction, context);
      console.info(`[onnx parity] TextContextUnet tiny, batch 3, ${context ? "captions" : "null context"}: max abs ${error.toExponential(2)} (eps up to ${scale.toFixed(2)})`);
      expect(error).toBeLessThan(1e-4);
      expect(scale).toBeGreaterThan(0.1);
    }
    const before = await onnx.predictNoiseAsync(x, 0.3, captions);
    const embedding = model.encoder.trainableParameters().get(model.encoder.embeddingKey)!;
    embedding.assign(tf.mul(embedding, 2));
    const sameCaptions = model.captionContexts(["a red slime", "green potion", ""]); // a new tensor: encoded again
    const after = await onnx.predictNoiseAsync(x, 0.3, sameCaptions);
    expect(maxAbsDifference(before, after)).toBe(0);
    tf.dispose([x, captions, sameCaptions, before, after]);
    await onnx.dispose();
    model.dispose();
  });

  it("AttentionUnet (tiny, attention at 8x8 and 4x4): batch 1 and 5, to 1e-4", async () => {
    const model = new AttentionUnet(TINY_ATTENTION_UNET, 5);
    await randomizeNormsAndStatistics(model, 300);
    const onnx = await OnnxNoiseModel.fromNetwork(model, { threads: TEST_ONNX_THREADS });
    for (const [n, tFraction] of [[1, 0.02], [5, 0.61]]) {
      const x = tf.randomNormal([n, 8, 8, 3], 0, 1, "float32", 20 + n) as tf.Tensor4D;
      const { error, scale } = await compare(model, onnx, x, tFraction, null);
      console.info(`[onnx parity] AttentionUnet tiny, batch ${n}: max abs ${error.toExponential(2)} (eps up to ${scale.toFixed(2)})`);
      expect(error).toBeLessThan(1e-4);
      expect(scale).toBeGreaterThan(0.1);
      x.dispose();
    }
    await onnx.dispose();
    model.dispose();
  });

  it("AttentionUnet of configs/mnist.json (28x28x1, attention at 14x14 and 7x7, 1.12 M parameters): batch 2, to 1e-4", async () => {
    const model = new AttentionUnet(attentionUnetConfigOf(loadDdpmConfig(join(resolve(__dirname, "../../configs"), "mnist.json"))), 6);
    await randomizeNormsAndStatistics(model, 400);
    const onnx = await OnnxNoiseModel.fromNetwork(model, { threads: TEST_ONNX_THREADS });
    const x = tf.randomNormal([2, 28, 28, 1], 0, 1, "float32", 8) as tf.Tensor4D;
    const { error, scale } = await compare(model, onnx, x, 0.5, null);
    console.info(`[onnx parity] AttentionUnet configs/mnist.json, batch 2: max abs ${error.toExponential(2)} (eps up to ${scale.toFixed(2)})`);
    expect(error).toBeLessThan(1e-4);
    x.dispose();
    await onnx.dispose();
    model.dispose();
  });
});

describeWithOnnxRuntime("OnnxNoiseModel's contract", () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  it("says what is wrong: the synchronous call, a wrong image shape, a wrong context, v from an eps-only graph", async () => {
    const model = new ContextUnet(TINY_CONTEXT_UNET, 1);
    const onnx = await OnnxNoiseModel.fromNetwork(model, { threads: TEST_ONNX_THREADS });
    const x = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
    expect(() => onnx.predictNoise()).toThrow(/runs asynchronously; call predictNoiseAsync/);
    const wrong = tf.zeros([2, 16, 16, 3]) as tf.Tensor4D;
    await expect(onnx.predictNoiseAsync(wrong, 0.5, null)).rejects.toThrow("OnnxNoiseModel: x has shape [2,16,16,3], expected [N, 8, 8, 3].");
    const context = tf.zeros([2, 4]) as tf.Tensor2D;
    await expect(onnx.predictNoiseAsync(x, 0.5, context)).rejects.toThrow("OnnxNoiseModel: context has shape [2,4], expected [2, 5] or null.");
    await expect(onnx.predictNoiseAndVarianceAsync(x, 0.5, null)).rejects.toThrow(/predicts eps only; its variance is fixed/);
    tf.dispose([x, wrong, context]);
    await onnx.dispose();
    model.dispose();
  });
});
