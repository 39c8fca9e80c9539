/**
 * Orders and masks of an order-agnostic ARDM (Hoogeboom et al. 2022, Sec. 3, Algorithm 1).
 *
 * A generation order is a permutation sigma of the D variables, drawn uniformly; the step t is drawn
 * uniformly in 1..D; what the network sees at step t is the variables that come before t in the
 * order, sigma(< t) = {sigma(1), ..., sigma(t - 1)}:
 *   m = 1[sigma(< t)],   i.e. m_k = 1 when k is one of the first t - 1 positions of sigma.
 * (Algorithm 1 writes the mask as m = sigma < t with sigma as a rank per variable; the same thing.)
 *
 * Randomness is a seed: datum i of a batch draws its (t, sigma) from its own stream
 * deriveSeed(seed, i), so the same seed gives the same orders on every machine (integer math only).
 */
import * as tf from "@tensorflow/tfjs-core";
import { Prng, deriveSeed } from "../data/sprites/prng";
import { checkArdmInteger } from "./network";

/** One datum's draw: its order (sigma[j] = the variable decoded at step j + 1) and step t in 1..D. */
export interface OrderDraw {
  sigma: Int32Array;
  t: number;
}

/** A uniformly random permutation of 0..D-1 from a seeded stream (Fisher-Yates). */
export function randomOrder(D: number, rng: Prng): Int32Array {
  const order = Array.from({ length: D }, (_, k) => k);
  return Int32Array.from(rng.shuffle(order));
}

/**
 * `count` independent draws of (sigma, t), t ~ U{1..D} and sigma uniform (Algorithm 1, lines 2-3),
 * reproducible from `seed`.
 */
export function drawOrders(count: number, D: number, seed: number): OrderDraw[] {
  checkArdmInteger("drawOrders", "the count", count, 0, Number.MAX_SAFE_INTEGER, "pass the batch size.");
  checkArdmInteger("drawOrders", "D", D, 1, 1 << 24, "pass the number of variables per datum.");
  return Array.from({ length: count }, (_, i) => {
    const rng = new Prng(deriveSeed(seed, i));
    const t = rng.range(1, D);
    return { sigma: randomOrder(D, rng), t };
  });
}

/** Throws unless `sigma` is a permutation of 0..D-1. */
export function checkArdmOrder(who: string, sigma: ArrayLike<number>, D: number): void {
  const seen = new Uint8Array(D);
  if (sigma.length !== D) {
    throw new Error(`${who}: an order has ${sigma.length} entries but D = ${D}; an order is a permutation of 0..${D - 1}.`);
  }
  for (let j = 0; j < D; j++) {
    const k = sigma[j];
    if (!Number.isInteger(k) || k < 0 || k >= D || seen[k]) {
      const problem = seen[k] ? "repeated" : "not a variable index";
      throw new Error(`${who}: an order has ${k} at position ${j}, which is ${problem}; an order is a permutation of 0..${D - 1}.`);
    }
    seen[k] = 1;
  }
}

/**
 * The mask of the first `given` positions of each order: mask[i, sigma_i(j)] = 1 for j < given[i].
 * For a training draw pass given = t - 1 (givenMask(draws.map(d => d.sigma), draws.map(d => d.t - 1))).
 * @returns [N, D] float32 of 0 and 1, owned by the caller.
 */
export function givenMask(orders: ReadonlyArray<ArrayLike<number>>, given: ReadonlyArray<number>, D: number): tf.Tensor2D {
  if (orders.length !== given.length) {
    throw new Error(`givenMask: ${orders.length} orders but ${given.length} counts of given variables; pass one of each per datum.`);
  }
  const values = new Float32Array(orders.length * D);
  orders.forEach((sigma, i) => {
    checkArdmOrder("givenMask", sigma, D);
    checkArdmInteger("givenMask", `the number of given variables of datum ${i}`, given[i], 0, D, "it is t - 1 for step t in 1..D.");
    for (let j = 0; j < given[i]; j++) values[i * D + sigma[j]] = 1;
  });
  return tf.tensor2d(values, [orders.length, D], "float32");
}

/** The training mask of Algorithm 1: the first t - 1 variables of each draw's order given. */
export function drawMask(draws: ReadonlyArray<OrderDraw>, D: number): tf.Tensor2D {
  return givenMask(
    draws.map((d) => d.sigma),
    draws.map((d) => d.t - 1),
    D,
  );
}
