/**
 * Without onnxruntime-node (hidden here from Node's module resolution, in this test file's own
 * process) the library says so when an ONNX model or an ARDM's ONNX twin is asked for, the engine
 * choice "auto" falls back to TensorFlow.js, and the TensorFlow.js path samples as before.
 */
import Module from "node:module";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { useTestBackend } from "../helpers/backends";

type Resolver = (request: string, ...rest: unknown[]) => string;
const modules = Module as unknown as { _resolveFilename: Resolver };

describe("without onnxruntime-node", () => {
  beforeAll(async () => {
    await useTestBackend();
    const resolve = modules._resolveFilename;
    modules._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
      if (request === "onnxruntime-node") throw Object.assign(new Error(`Cannot find module '${request}'`), { code: "MODULE_NOT_FOUND" });
      return resolve.call(this, request, ...rest);
    };
    return () => {
      modules._resolveFilename = resolve;
    };
  });

  it("an ONNX model fails naming the package; the TensorFlow.js model still samples", async () => {
    const { tryLoadOnnxRuntime, onnxRuntimeAvailable, OnnxNoiseModel, ContextUnet, sampleDdim, courseSchedule, noiseModelEngine } = await import("../../src/lib/index");
    expect(onnxRuntimeAvailable()).toBe(false);
    expect(tryLoadOnnxRuntime()).toEqual({ error: expect.stringMatching(/^onnxruntime-node is not installed/) });
    // Not ./fixtures: it loads the runtime when imported, before the resolver is patched.
    const model = new ContextUnet({ nFeat: 8, height: 8, nContext: 5 }, 1);
    await expect(OnnxNoiseModel.fromNetwork(model)).rejects.toThrow(
      "ONNX backend unavailable: onnxruntime-node is not installed (an optional dependency: `npm install` puts it in; the TensorFlow.js models work without it). " +
        "Sample with the model itself (TensorFlow.js) instead.",
    );
    const { samples, frames } = await sampleDdim(model, courseSchedule, { count: 2, seed: 1 }, null, { steps: 5 });
    expect(samples.shape).toEqual([2, 8, 8, 3]);
    tf.dispose([samples, frames!]);
    // The commands' engine choice: auto falls back to TensorFlow.js saying why; onnx fails saying why.
    const chosen = await noiseModelEngine(model, "auto", { what: "models/context" });
    expect(chosen).toMatchObject({ model, engine: "tfjs" });
    expect(chosen.reason).toMatch(/^TensorFlow\.js \(ONNX Runtime, the faster engine, is out: onnxruntime-node is not installed/);
    await expect(noiseModelEngine(model, "onnx", { what: "models/context" })).rejects.toThrow(/^ONNX Runtime cannot sample models\/context: onnxruntime-node is not installed/);
    model.dispose();
  });

  it("an ARDM's ONNX twin fails naming the package; the TensorFlow.js network still samples", async () => {
    const { OnnxArdmNetwork, ArdmTransformer, sampleArdm } = await import("../../src/lib/index");
    // Not ./ardmFixtures, for the same reason.
    const network = new ArdmTransformer({ height: 2, width: 2, channels: 3, categories: 4, modelWidth: 8, layers: 1, heads: 2, mlpRatio: 2 }, 1);
    await expect(OnnxArdmNetwork.fromNetwork(network)).rejects.toThrow(
      "ONNX backend unavailable: onnxruntime-node is not installed (an optional dependency: `npm install` puts it in; the TensorFlow.js models work without it). " +
        "Sample with the model itself (TensorFlow.js) instead.",
    );
    const { samples, completed } = await sampleArdm(network, { count: 2, seed: 1, perCall: 4 });
    expect(completed).toBe(true);
    expect(samples.shape).toEqual([2, 12]);
    tf.dispose(samples);
    network.dispose();
  });
});
