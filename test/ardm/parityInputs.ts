/**
 * What the ARDM networks' parity tests give their PyTorch twins: a tiny 4x4 RGB batch (D = 48,
 * K = 256) with masks at t = 1, 21 and 48, and weights whose PyTorch-default ones and zeros (norm
 * scales and shifts, biases) are moved, so that a mix-up among them shows.
 */
import * as tf from "@tensorflow/tfjs-core";
import { givenMask, randomOrder } from "../../src/lib/ardm/orders";
import { Prng } from "../../src/lib/data/sprites/prng";
import type { WeightMap } from "../../src/lib/model/parameters";
import type { ParameterizedNetwork } from "../../src/lib/model/parameterizedNetwork";

export const D = 48;
export const CATEGORIES = 256;
/** Given variables per datum: t = 1 (nothing given), 21 and 48 (one left to predict). */
export const GIVEN = [0, 20, 47];

/** What a twin's dump returns. */
export interface TwinIo {
  logits: number[];
  loss: number;
  params: number;
  grads: Record<string, number[]>;
}

/** Deterministic values in [-1, 1) (a linear congruential generator), for the parameters PyTorch starts at 0 or 1. */
export function uniforms(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

/** Seeded x [N, D] in 0..K-1 and the masks of GIVEN along seeded orders. */
export function tinyBatch(seed: number): { x: tf.Tensor2D; mask: tf.Tensor2D } {
  const rng = new Prng(seed);
  const values = Int32Array.from({ length: GIVEN.length * D }, () => rng.range(0, CATEGORIES - 1));
  const orders = GIVEN.map(() => randomOrder(D, rng));
  return { x: tf.tensor2d(values, [GIVEN.length, D], "int32"), mask: givenMask(orders, GIVEN, D) };
}

/** Sets `model`'s parameters that start at 1 or 0 (embeddings aside) to 1 or 0 plus 0.5 U[-1, 1), and returns the weights it set. */
export async function moveOnesAndZeros(model: ParameterizedNetwork): Promise<WeightMap> {
  const weights = await model.getWeights();
  Object.keys(weights).forEach((key, i) => {
    const kind = model.parameters.spec(key).kind;
    if (key.includes("embedding") || (kind !== "ones" && kind !== "zeros")) return;
    weights[key].data = uniforms(weights[key].data.length, 100 + i).map((u) => (kind === "ones" ? 1 : 0) + 0.5 * u);
  });
  model.setWeights(weights);
  return weights;
}
