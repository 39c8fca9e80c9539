/**
 * The samplers on an ONNX model: runSampler awaits predictNoiseAsync, and a run with the same
 * seed ends where the TensorFlow.js model's run ends (to 1e-3, the per-step eps differences of
 * about 1e-6 carried through the chain), a learned variance's v included; no tensor is left
 * behind over repeated runs.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { type NoiseModel, sampleDdim, sampleDdpm } from "../../src/lib/diffusion/sampling";
import { courseSchedule, linearSchedule } from "../../src/lib/diffusion/schedule";
import { AttentionUnet } from "../../src/lib/model/attentionUnet";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { OnnxNoiseModel } from "../../src/lib/onnx/onnxNoiseModel";
import { useTestBackend } from "../helpers/backends";
import { TEST_ONNX_THREADS, TINY_ATTENTION_UNET, TINY_CONTEXT_UNET, describeWithOnnxRuntime, randomizeNormsAndStatistics } from "./fixtures";

const maxAbsDifference = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** A sampler's final images from both models, and their largest difference. */
async function endpoints(run: (model: NoiseModel) => Promise<{ samples: tf.Tensor4D; frames: tf.Tensor5D | null }>, ours: NoiseModel, onnx: NoiseModel) {
  const a = await run(ours);
  const b = await run(onnx);
  const error = maxAbsDifference(a.samples, b.samples);
  const scale = tf.tidy(() => tf.max(tf.abs(a.samples)).dataSync()[0]);
  tf.dispose([a.samples, b.samples, ...[a.frames, b.frames].filter((f): f is tf.Tensor5D => f !== null)]);
  return { error, scale };
}

describeWithOnnxRuntime("samplers on an ONNX model", () => {
  let contextUnet: ContextUnet;
  let onnxContextUnet: OnnxNoiseModel;

  beforeAll(async () => {
    await useTestBackend();
    contextUnet = new ContextUnet(TINY_CONTEXT_UNET, 11);
    await randomizeNormsAndStatistics(contextUnet, 500);
    onnxContextUnet = await OnnxNoiseModel.fromNetwork(contextUnet, { threads: TEST_ONNX_THREADS });
    return async () => {
      await onnxContextUnet.dispose();
      contextUnet.dispose();
    };
  });

  it("DDIM-25 of ContextUnet with context ends where the TensorFlow.js run ends, to 1e-3", async () => {
    const context = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), 5), "float32")) as tf.Tensor2D;
    const { error, scale } = await endpoints((m) => sampleDdim(m, courseSchedule, { count: 4, seed: 3 }, context, { steps: 25 }), contextUnet, onnxContextUnet);
    console.info(`[onnx sampling] DDIM-25 ContextUnet: max abs ${error.toExponential(2)} at the end (samples up to ${scale.toFixed(2)})`);
    expect(error).toBeLessThan(1e-3);
    context.dispose();
  });

  it("DDPM (its first 50 steps, step noise from the seed) ends where the TensorFlow.js run ends, to 1e-3", async () => {
    let taken = 0;
    const run = (m: NoiseModel) => {
      taken = 0;
      return sampleDdpm(m, courseSchedule, { count: 3, seed: 4 }, null, { onStep: () => void (taken += 1), shouldStop: () => taken >= 50 });
    };
    const { error } = await endpoints(run, contextUnet, onnxContextUnet);
    console.info(`[onnx sampling] DDPM, 50 steps, ContextUnet: max abs ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-3);
  });

  it("DDIM-20 of the attention UNet on a T = 1000 schedule, to 1e-3", async () => {
    const model = new AttentionUnet(TINY_ATTENTION_UNET, 12);
    await randomizeNormsAndStatistics(model, 600);
    const onnx = await OnnxNoiseModel.fromNetwork(model, { threads: TEST_ONNX_THREADS });
    const schedule = linearSchedule({ T: 1000, betaStart: 1e-4, betaEnd: 0.02 });
    const { error } = await endpoints((m) => sampleDdim(m, schedule, { count: 2, seed: 5 }, null, { steps: 20, clipDenoised: false }), model, onnx);
    console.info(`[onnx sampling] DDIM-20 AttentionUnet: max abs ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-3);
    await onnx.dispose();
    model.dispose();
  });

  it("DDPM-25 (respaced) of a learned-variance ContextUnet: eps and v from ONNX Runtime, ends where the TensorFlow.js run ends, to 1e-3, leaving no tensor", async () => {
    const model = new ContextUnet({ ...TINY_CONTEXT_UNET, outChannels: 6 }, 13);
    await randomizeNormsAndStatistics(model, 700);
    const onnx = await OnnxNoiseModel.fromNetwork(model, { threads: TEST_ONNX_THREADS });
    const run = (m: NoiseModel) => sampleDdpm(m, courseSchedule, { count: 2, seed: 7 }, null, { steps: 25, saveFrame: () => false });
    const { error, scale } = await endpoints(run, model, onnx);
    console.info(`[onnx sampling] DDPM-25 learned variance: max abs ${error.toExponential(2)} (samples up to ${scale.toFixed(2)})`);
    expect(error).toBeLessThan(1e-3);
    const before = tf.memory().numTensors;
    (await run(onnx)).samples.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await onnx.dispose();
    model.dispose();
  });

  it("leaves no tensor behind over repeated runs and predictions", async () => {
    const context = tf.zeros([2, 5]) as tf.Tensor2D;
    const once = async () => {
      const { samples, frames } = await sampleDdim(onnxContextUnet, courseSchedule, { count: 2, seed: 6 }, context, { steps: 10 });
      tf.dispose([samples, frames!]);
      const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
      (await onnxContextUnet.predictNoiseAsync(x, 0.5, context)).dispose();
      x.dispose();
    };
    await once();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await once();
    expect(tf.memory().numTensors).toBe(before);
    context.dispose();
  });
});

describe("the missing-runtime message", () => {
  it("names the package and says the TensorFlow.js models still work", async () => {
    const { onnxRuntimeLoadProblem } = await import("../../src/lib/onnx/runtime");
    const missing = Object.assign(new Error("Cannot find module 'onnxruntime-node'\nRequire stack:\n- x.js"), { code: "MODULE_NOT_FOUND" });
    expect(onnxRuntimeLoadProblem(missing)).toBe(
      "onnxruntime-node is not installed (an optional dependency: `npm install` puts it in; the TensorFlow.js models work without it)",
    );
    expect(onnxRuntimeLoadProblem(new Error("libonnxruntime.so.1: cannot open shared object file\nmore"))).toBe(
      "onnxruntime-node failed to load: libonnxruntime.so.1: cannot open shared object file",
    );
  });
});
