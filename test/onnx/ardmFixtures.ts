/**
 * What the ARDM ONNX tests share: tiny configs of both networks (K = 8, D = 48), the networks
 * with every weight random (norm scales and shifts and attention biases too, so a wrong place in
 * the graph shows), random data and masks, and the largest logit difference.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type ArdmConvUnetConfig, ArdmConvUnet } from "../../src/lib/ardm/convNetwork";
import { type ArdmTransformerConfig, ArdmTransformer } from "../../src/lib/ardm/transformer";
import { randomizeNormsAndStatistics } from "./fixtures";

/** 4x4x3, K = 8: two blocks of two heads. */
export const TINY_ARDM_TRANSFORMER: ArdmTransformerConfig = { height: 4, width: 4, channels: 3, categories: 8, modelWidth: 16, layers: 2, heads: 2, mlpRatio: 2 };
/** 4x4x3, K = 8: two levels (a down and an up sample), two blocks each, width-changing shortcuts. */
export const TINY_ARDM_CONV_UNET: ArdmConvUnetConfig = { height: 4, width: 4, channels: 3, categories: 8, levelWidths: [8, 16], blocksPerLevel: 2, groups: 4 };

/** A network of either kind with every weight random (see the module comment); the caller disposes it. */
export async function randomArdmNetwork(kind: "transformer" | "conv", config: ArdmTransformerConfig | ArdmConvUnetConfig, seed: number) {
  const network = kind === "transformer" ? new ArdmTransformer(config as ArdmTransformerConfig, seed) : new ArdmConvUnet(config as ArdmConvUnetConfig, seed);
  await randomizeNormsAndStatistics(network, 100 * seed);
  return network;
}

/**
 * x [N, D] int32 in 0..K-1 and a mask [N, D] whose datum i gives each variable with probability
 * i / (N - 1): none given for the first datum, all for the last, and mixes between.
 */
export function randomDataAndMask(N: number, D: number, K: number, seed: number): { x: tf.Tensor2D; mask: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomUniform([N, D], 0, K, "int32", seed) as tf.Tensor2D;
    const share = tf.reshape(tf.linspace(0, 1, N), [N, 1]);
    const mask = tf.cast(tf.less(tf.randomUniform([N, D], 0, 1, "float32", seed + 1), share), "float32") as tf.Tensor2D;
    return { x, mask };
  });
}

export const maxAbsDifference = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
export const maxAbs = (a: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]);
