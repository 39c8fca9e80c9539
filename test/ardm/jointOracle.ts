/**
 * An exact oracle ARDM network for a small joint distribution p(x) over D variables with K values:
 * for every not-given variable k it returns log p(x_k = v | x_given), computed in float64 by summing
 * the joint table over the configurations that agree with what is given. Everything an ARDM claims
 * about a network with the true conditionals can be checked against it.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Prng } from "../../src/lib/data/sprites/prng";
import type { ArdmNetwork } from "../../src/lib/ardm/network";

/** A joint table: p[c] for configuration c = sum_k x_k K^k (variable 0 the fastest digit). */
export interface Joint {
  D: number;
  K: number;
  p: Float64Array;
}

/** The values of configuration c. */
export function configValues(c: number, D: number, K: number): number[] {
  return Array.from({ length: D }, (_, k) => Math.floor(c / K ** k) % K);
}

/** The configuration of values x. */
export function configIndex(x: ArrayLike<number>, K: number): number {
  let c = 0;
  for (let k = x.length - 1; k >= 0; k--) c = c * K + x[k];
  return c;
}

/**
 * A positive, clearly non-factorised joint: random weights in [1, 3), times 6 where x_0 = x_1 and
 * times 3 where x_1 + x_2 is even, so the variables depend on each other.
 */
export function makeJoint(D: number, K: number, seed: number): Joint {
  const rng = new Prng(seed);
  const weights = Float64Array.from({ length: K ** D }, (_, c) => {
    const x = configValues(c, D, K);
    return (1 + (2 * rng.nextUint32()) / 2 ** 32) * (x[0] === x[1] ? 6 : 1) * (D > 2 && (x[1] + x[2]) % 2 === 0 ? 3 : 1);
  });
  const total = weights.reduce((a, b) => a + b, 0);
  return { D, K, p: weights.map((w) => w / total) };
}

/** The product of the joint's marginals, as a table like the joint. */
export function productOfMarginals(joint: Joint): Float64Array {
  const { D, K, p } = joint;
  const marginals = Array.from({ length: D }, () => new Float64Array(K));
  p.forEach((pc, c) => configValues(c, D, K).forEach((v, k) => (marginals[k][v] += pc)));
  return Float64Array.from({ length: K ** D }, (_, c) => configValues(c, D, K).reduce((a, v, k) => a * marginals[k][v], 1));
}

/** The oracle network: exact conditionals for masked variables, zeros in the rows of given ones. */
export function jointOracle(joint: Joint): ArdmNetwork {
  const { D, K, p } = joint;
  const configs = Array.from({ length: K ** D }, (_, c) => configValues(c, D, K));
  return {
    dimensions: D,
    categories: K,
    logits(x: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor3D {
      const N = x.shape[0];
      const values = x.dataSync();
      const given = mask.dataSync();
      const out = new Float32Array(N * D * K);
      for (let n = 0; n < N; n++) {
        const weights = Array.from({ length: D }, () => new Float64Array(K));
        configs.forEach((config, c) => {
          for (let k = 0; k < D; k++) if (given[n * D + k] === 1 && config[k] !== values[n * D + k]) return;
          for (let k = 0; k < D; k++) weights[k][config[k]] += p[c];
        });
        for (let k = 0; k < D; k++) {
          if (given[n * D + k] === 1) continue;
          for (let v = 0; v < K; v++) out[(n * D + k) * K + v] = Math.log(weights[k][v]);
        }
      }
      return tf.tensor3d(out, [N, D, K]);
    },
  };
}

/** Every permutation of 0..D-1 (D! of them). */
export function permutations(D: number): number[][] {
  if (D === 0) return [[]];
  return permutations(D - 1).flatMap((rest) => Array.from({ length: D }, (_, at) => [...rest.slice(0, at), D - 1, ...rest.slice(at)]));
}
