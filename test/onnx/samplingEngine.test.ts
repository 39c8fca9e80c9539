/**
 * The engine choice the commands and lessons make (src/lib/onnx/samplingEngine.ts): "auto" takes
 * ONNX Runtime for a network with a graph when nothing needs TensorFlow.js, and TensorFlow.js
 * otherwise, saying why; "onnx" insists or fails saying why; "tfjs" keeps the network. The ONNX
 * twin it hands out is the network's (same eps), and dispose() frees it but never the network.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, expect, it } from "vitest";
import { ArdmTransformer } from "../../src/lib/ardm/transformer";
import type { NoiseModel } from "../../src/lib/diffusion/sampling";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { OnnxArdmNetwork } from "../../src/lib/onnx/ardmOnnxNetwork";
import { OnnxNoiseModel } from "../../src/lib/onnx/onnxNoiseModel";
import { ardmNetworkEngine, noiseModelEngine } from "../../src/lib/onnx/samplingEngine";
import { useTestBackend } from "../helpers/backends";
import { TEST_ONNX_THREADS, TINY_CONTEXT_UNET, describeWithOnnxRuntime } from "./fixtures";

/** A noise model with no ONNX graph: eps = x / 2. */
const halfOfX: NoiseModel = { predictNoise: (x) => tf.mul(x, 0.5) as tf.Tensor4D };

describeWithOnnxRuntime("the sampling engine", () => {
  let model: ContextUnet;

  beforeAll(async () => {
    await useTestBackend();
    model = new ContextUnet(TINY_CONTEXT_UNET, 21);
    return () => model.dispose();
  });

  it("auto takes ONNX Runtime for a ContextUnet: its twin, with the same eps; dispose frees the twin, not the network", async () => {
    const chosen = await noiseModelEngine(model, "auto", { what: "the tiny model", threads: TEST_ONNX_THREADS });
    expect(chosen.engine).toBe("onnx");
    expect(chosen.model).toBeInstanceOf(OnnxNoiseModel);
    expect(chosen.reason).toMatch(/^ONNX Runtime .*chosen by auto; --engine tfjs for TensorFlow\.js\)$/);
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 1) as tf.Tensor4D;
    const expected = model.predictNoise(x, 0.3, null);
    const actual = await chosen.model.predictNoiseAsync!(x, 0.3, null);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(expected, actual))).dataSync()[0])).toBeLessThan(1e-4);
    tf.dispose([x, expected, actual]);
    await chosen.dispose();
    await expect((chosen.model as OnnxNoiseModel).predictNoiseAsync(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D, 0.3, null)).rejects.toThrow();
    tf.dispose(model.predictNoise(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D, 0.3, null)); // the network still works
  });

  it("tfjs keeps the network; a run that needs TensorFlow.js (classifier guidance) gets it from auto and an error from onnx", async () => {
    const asked = await noiseModelEngine(model, "tfjs");
    expect(asked).toMatchObject({ model, engine: "tfjs", reason: "TensorFlow.js (asked for)" });
    const needsTensorFlow = "classifier guidance takes the noisy classifier's gradient on TensorFlow.js at every step";
    const guided = await noiseModelEngine(model, "auto", { needsTensorFlow });
    expect(guided).toMatchObject({ model, engine: "tfjs", reason: `TensorFlow.js (ONNX Runtime, the faster engine, is out: ${needsTensorFlow})` });
    await expect(noiseModelEngine(model, "onnx", { what: "models/unconditional", needsTensorFlow })).rejects.toThrow(
      `ONNX Runtime cannot sample models/unconditional: ${needsTensorFlow}. Use the TensorFlow.js engine instead (--engine tfjs, or auto).`,
    );
  });

  it("a model without a graph samples on TensorFlow.js under auto, and onnx says which networks have one", async () => {
    const chosen = await noiseModelEngine(halfOfX as NoiseModel & object, "auto", { what: "the oracle" });
    expect(chosen.engine).toBe("tfjs");
    expect(chosen.model).toBe(halfOfX);
    expect(chosen.reason).toBe("TensorFlow.js (ONNX Runtime, the faster engine, is out: the oracle is a Object, which has no ONNX graph (ContextUnet, AttentionUnet and TextContextUnet have))");
    await expect(noiseModelEngine(halfOfX as NoiseModel & object, "onnx", { what: "the oracle" })).rejects.toThrow(/cannot sample the oracle: the oracle is a Object, which has no ONNX graph/);
  });

  it("an ARDM transformer gets its ONNX twin under auto", async () => {
    const network = new ArdmTransformer({ height: 2, width: 2, channels: 3, categories: 4, modelWidth: 8, layers: 1, heads: 2, mlpRatio: 2 }, 1);
    const chosen = await ardmNetworkEngine(network, "auto", { threads: TEST_ONNX_THREADS });
    expect(chosen.engine).toBe("onnx");
    expect(chosen.model).toBeInstanceOf(OnnxArdmNetwork);
    await chosen.dispose();
    expect((await ardmNetworkEngine(network, "tfjs")).model).toBe(network);
    network.dispose();
  });
});
