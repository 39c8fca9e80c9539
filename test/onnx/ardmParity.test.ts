/**
 * The ARDM networks' ONNX graphs against the networks they were written from: on the same random
 * weights, ONNX Runtime's logits equal the TensorFlow.js logits to 1e-4 (max abs) for the
 * transformer and the conv UNet, tiny and at the sprites' size (ARDM_SPRITE_TRANSFORMER,
 * ARDM_SPRITE_CONV_UNET), under masks from none given to all given; and OnnxArdmNetwork's contract.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, expect, it } from "vitest";
import { ARDM_SPRITE_CONV_UNET } from "../../src/lib/ardm/convNetwork";
import { ARDM_SPRITE_TRANSFORMER } from "../../src/lib/ardm/transformer";
import { OnnxArdmNetwork } from "../../src/lib/onnx/ardmOnnxNetwork";
import { useTestBackend } from "../helpers/backends";
import { TINY_ARDM_CONV_UNET, TINY_ARDM_TRANSFORMER, maxAbs, maxAbsDifference, randomArdmNetwork, randomDataAndMask } from "./ardmFixtures";
import { TEST_ONNX_THREADS, describeWithOnnxRuntime } from "./fixtures";

const CASES = [
  { kind: "transformer", size: "tiny", config: TINY_ARDM_TRANSFORMER, batch: 5 },
  { kind: "conv", size: "tiny", config: TINY_ARDM_CONV_UNET, batch: 5 },
  { kind: "transformer", size: "sprite", config: ARDM_SPRITE_TRANSFORMER, batch: 3 },
  { kind: "conv", size: "sprite", config: ARDM_SPRITE_CONV_UNET, batch: 3 },
] as const;

describeWithOnnxRuntime("ARDM ONNX graphs against the TensorFlow.js networks", () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  CASES.forEach(({ kind, size, config, batch }, i) => {
    it(`${kind} (${size}): batch ${batch}, masks from none to all given, to 1e-4`, async () => {
      const network = await randomArdmNetwork(kind, config, i + 1);
      const onnx = await OnnxArdmNetwork.fromNetwork(network, { threads: TEST_ONNX_THREADS });
      expect([onnx.dimensions, onnx.categories]).toEqual([network.dimensions, network.categories]);
      const { x, mask } = randomDataAndMask(batch, network.dimensions, network.categories, 10 + i);
      const expected = network.logits(x, mask);
      const actual = await onnx.logitsAsync(x, mask);
      expect(actual.shape).toEqual(expected.shape);
      const error = maxAbsDifference(expected, actual);
      const scale = maxAbs(expected);
      console.info(`[onnx ardm parity] ${kind} ${size}, batch ${batch}: max abs ${error.toExponential(2)} (logits up to ${scale.toFixed(2)})`);
      expect(error).toBeLessThan(1e-4);
      expect(scale).toBeGreaterThan(0.1);
      tf.dispose([x, mask, expected, actual]);
      await onnx.dispose();
      network.dispose();
    });
  });

  it("reads x as int32 or float32 alike, and a value under mask 0 not at all", async () => {
    const network = await randomArdmNetwork("transformer", TINY_ARDM_TRANSFORMER, 7);
    const onnx = await OnnxArdmNetwork.fromNetwork(network, { threads: TEST_ONNX_THREADS });
    const { x, mask } = randomDataAndMask(4, network.dimensions, network.categories, 30);
    // Hidden values changed (shifted by 3 mod K) wherever the mask is 0.
    const hiddenChanged = tf.tidy(() => tf.where(tf.equal(mask, 1), x, tf.mod(tf.add(x, 3), network.categories))) as tf.Tensor2D;
    const asFloat = tf.cast(x, "float32") as tf.Tensor2D;
    const reference = await onnx.logitsAsync(x, mask);
    const fromFloat = await onnx.logitsAsync(asFloat, mask);
    const fromChanged = await onnx.logitsAsync(hiddenChanged, mask);
    expect(maxAbsDifference(reference, fromFloat)).toBe(0);
    expect(maxAbsDifference(reference, fromChanged)).toBe(0);
    tf.dispose([x, mask, hiddenChanged, asFloat, reference, fromFloat, fromChanged]);
    await onnx.dispose();
    network.dispose();
  });
});

describeWithOnnxRuntime("OnnxArdmNetwork's contract", () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  it("says what is wrong: the synchronous call, a wrong shape, a network it cannot export; later weight changes do not reach it", async () => {
    const network = await randomArdmNetwork("conv", TINY_ARDM_CONV_UNET, 3);
    const onnx = await OnnxArdmNetwork.fromNetwork(network, { threads: TEST_ONNX_THREADS });
    expect(() => onnx.logits()).toThrow(/runs asynchronously; call logitsAsync/);
    const wrong = tf.zeros([2, 47]) as tf.Tensor2D;
    await expect(onnx.logitsAsync(wrong, wrong)).rejects.toThrow("OnnxArdmNetwork.logitsAsync: x has shape [2,47] and mask [2,47], but both must be [N, 48] (N data of D = 48 variables).");
    const oracle = { dimensions: 3, categories: 3, logits: () => tf.zeros([1, 3, 3]) as tf.Tensor3D };
    await expect(OnnxArdmNetwork.fromNetwork(oracle)).rejects.toThrow(/exports ArdmTransformer and ArdmConvUnet; got Object/);
    const { x, mask } = randomDataAndMask(2, 48, 8, 40);
    const before = await onnx.logitsAsync(x, mask);
    const weights = await network.getWeights();
    weights["conv_out.bias"].data = weights["conv_out.bias"].data.map((v) => v + 1);
    network.setWeights(weights);
    const after = await onnx.logitsAsync(x, mask);
    expect(maxAbsDifference(before, after)).toBe(0);
    tf.dispose([wrong, x, mask, before, after]);
    await onnx.dispose();
    network.dispose();
  });
});
