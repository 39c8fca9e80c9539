/**
 * The ARDM's sampler and likelihood on an ONNX network: sampleArdm awaits logitsAsync, decodes
 * every variable, and with the same seed draws the same samples as the TensorFlow.js network (the
 * logits differ by about 1e-6, so a draw differs only if its uniform falls within about 1e-6 of a
 * category's cumulative edge: on these few hundred draws, not at all); orderNll and
 * estimateArdmNll agree to 1e-4; no tensor is left behind over repeated runs.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, expect, it, vi } from "vitest";
import { estimateArdmNll, orderNll } from "../../src/lib/ardm/likelihood";
import type { ArdmNetwork } from "../../src/lib/ardm/network";
import { drawOrders } from "../../src/lib/ardm/orders";
import { sampleArdm } from "../../src/lib/ardm/sampling";
import type { ArdmTrainableNetwork } from "../../src/lib/ardm/architectures";
import { OnnxArdmNetwork } from "../../src/lib/onnx/ardmOnnxNetwork";
import { useTestBackend } from "../helpers/backends";
import { TINY_ARDM_CONV_UNET, TINY_ARDM_TRANSFORMER, randomArdmNetwork, randomDataAndMask } from "./ardmFixtures";
import { TEST_ONNX_THREADS, describeWithOnnxRuntime } from "./fixtures";

/** Samples of both networks with the same options, as arrays, and the ONNX run's result. */
async function samplesOfBoth(tfjs: ArdmNetwork, onnx: ArdmNetwork, options: Parameters<typeof sampleArdm>[1]) {
  const expected = await sampleArdm(tfjs, options);
  const actual = await sampleArdm(onnx, { ...options, saveFrame: (step, steps) => step === steps });
  const values = { expected: Array.from(await expected.samples.data()), actual: Array.from(await actual.samples.data()) };
  tf.dispose([expected.samples, actual.samples]);
  return { ...values, result: actual };
}

describeWithOnnxRuntime("sampleArdm and the likelihood on an ONNX network", () => {
  const networks: Record<string, { tfjs: ArdmTrainableNetwork; onnx: OnnxArdmNetwork }> = {};

  beforeAll(async () => {
    await useTestBackend();
    for (const [kind, config, seed] of [["transformer", TINY_ARDM_TRANSFORMER, 21], ["conv", TINY_ARDM_CONV_UNET, 22]] as const) {
      const tfjs = await randomArdmNetwork(kind, config, seed);
      networks[kind] = { tfjs, onnx: await OnnxArdmNetwork.fromNetwork(tfjs, { threads: TEST_ONNX_THREADS }) };
    }
    return async () => {
      for (const { tfjs, onnx } of Object.values(networks)) {
        await onnx.dispose();
        tfjs.dispose();
      }
    };
  });

  for (const kind of ["transformer", "conv"]) {
    it(`${kind}: one variable per call (48 calls) and groups of 5 draw the same samples as TensorFlow.js, every variable decoded`, async () => {
      const { tfjs, onnx } = networks[kind];
      for (const perCall of [1, 5]) {
        const { expected, actual, result } = await samplesOfBoth(tfjs, onnx, { count: 4, seed: 3 + perCall, perCall });
        expect(result.completed).toBe(true);
        expect(result.stepsTaken).toBe(Math.ceil(48 / perCall));
        expect(result.frames.at(-1)!.mask.every((m) => m === 1)).toBe(true);
        expect(actual.every((v) => Number.isInteger(v) && v >= 0 && v < 8)).toBe(true);
        const differing = actual.reduce((count, v, i) => count + (v === expected[i] ? 0 : 1), 0);
        console.info(`[onnx ardm sampling] ${kind}, ${perCall} per call: ${differing} of ${actual.length} values differ from TensorFlow.js's`);
        expect(differing).toBe(0);
      }
    });
  }

  it("orderNll and estimateArdmNll agree with TensorFlow.js's to 1e-4", async () => {
    const { tfjs, onnx } = networks.transformer;
    const { x, mask } = randomDataAndMask(3, 48, 8, 50);
    const orders = drawOrders(3, 48, 51).map((draw) => draw.sigma);
    const [expected, actual] = [await orderNll(tfjs, x, orders), await orderNll(onnx, x, orders)];
    const nllError = Math.max(...expected.nll.map((v, i) => Math.abs(v - actual.nll[i])));
    const calls = vi.spyOn(onnx, "logitsAsync");
    const [estimated, estimatedOnnx] = [await estimateArdmNll(tfjs, x, { draws: 3, seed: 52 }), await estimateArdmNll(onnx, x, { draws: 3, seed: 52 })];
    expect(calls).toHaveBeenCalledTimes(3);
    calls.mockRestore();
    console.info(`[onnx ardm likelihood] orderNll max abs ${nllError.toExponential(2)} nats (of ${expected.nll[0].toFixed(2)}); estimate ${Math.abs(estimated.nats - estimatedOnnx.nats).toExponential(2)}`);
    expect(nllError).toBeLessThan(1e-4);
    expect(Math.abs(estimated.nats - estimatedOnnx.nats)).toBeLessThan(1e-4);
    expect(estimatedOnnx.count).toBe(9);
    tf.dispose([x, mask]);
  });

  it("leaves no tensor behind over repeated sampling runs, logits and likelihoods", async () => {
    const { onnx } = networks.conv;
    const { x, mask } = randomDataAndMask(2, 48, 8, 60);
    const orders = drawOrders(2, 48, 61).map((draw) => draw.sigma);
    const once = async () => {
      (await sampleArdm(onnx, { count: 2, seed: 7, perCall: 4 })).samples.dispose();
      (await onnx.logitsAsync(x, mask)).dispose();
      await orderNll(onnx, x, orders);
      await estimateArdmNll(onnx, x, { draws: 2, seed: 8 });
    };
    await once();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await once();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, mask]);
  });
});
