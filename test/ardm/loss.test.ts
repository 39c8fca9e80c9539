/**
 * The order-agnostic loss (Hoogeboom et al. 2022, Eq. 4) and the exact order NLL against an exact
 * oracle of a non-factorised joint over D = 4 variables with K = 3 values: with the true
 * conditionals both must give -log p(x) (float64, from the table), along every order and on
 * average over every (t, sigma); the wrong weight 1 in place of D / (D - t + 1) must not.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { ardmTrainingLoss, notGivenLogLikelihood, orderAgnosticLoss } from "../../src/lib/ardm/loss";
import { estimateArdmNll, meanStepLosses, orderNll } from "../../src/lib/ardm/likelihood";
import { drawOrders, givenMask } from "../../src/lib/ardm/orders";
import type { ArdmNetwork } from "../../src/lib/ardm/network";
import { useTestBackend } from "../helpers/backends";
import { configValues, jointOracle, makeJoint, permutations } from "./jointOracle";

beforeAll(async () => {
  await useTestBackend();
});

const D = 4;
const K = 3;
const joint = makeJoint(D, K, 7);
const oracle = jointOracle(joint);
const orders = permutations(D);
const configs = Array.from({ length: K ** D }, (_, c) => c);

/** Rows of every configuration x paired with every order and every t: x, order, t - 1 given. */
function everyDraw(): { x: number[][]; orders: number[][]; given: number[] } {
  const rows = { x: [] as number[][], orders: [] as number[][], given: [] as number[] };
  for (const c of configs) {
    for (const sigma of orders) {
      for (let t = 1; t <= D; t++) {
        rows.x.push(configValues(c, D, K));
        rows.orders.push(sigma);
        rows.given.push(t - 1);
      }
    }
  }
  return rows;
}

/** The mean of `perRow` over each configuration's D! * D rows. */
function meanPerConfig(perRow: ArrayLike<number>): number[] {
  const block = orders.length * D;
  return configs.map((c) => Array.from({ length: block }, (_, r) => perRow[c * block + r]).reduce((a, b) => a + b, 0) / block);
}

describe("the exact order NLL with the oracle", () => {
  it("equals -log p(x) along every one of the 24 orders, for all 81 x", async () => {
    const x = tf.tensor2d(configs.flatMap((c) => orders.map(() => configValues(c, D, K))), [configs.length * orders.length, D], "int32");
    const result = await orderNll(oracle, x, configs.flatMap(() => orders));
    x.dispose();
    configs.forEach((c, i) =>
      orders.forEach((_, j) => expect(result.nll[i * orders.length + j]).toBeCloseTo(-Math.log(joint.p[c]), 5)),
    );
    expect(result.bitsPerDim[0]).toBeCloseTo(-Math.log(joint.p[0]) / (D * Math.LN2), 6);
    // L_t averaged over data is positive and sums to the mean NLL.
    const steps = meanStepLosses(result);
    expect(steps.length).toBe(D);
    expect(steps.reduce((a, b) => a + b, 0)).toBeCloseTo(result.nll.reduce((a, b) => a + b, 0) / result.nll.length, 5);
  });
});

describe("Eq. 4's loss with the oracle", () => {
  const rows = everyDraw();
  const x = () => tf.tensor2d(rows.x, [rows.x.length, D], "int32");

  it("averages to -log p(x) over all t in 1..D and all D! orders, for every x", () => {
    const xs = x();
    const mask = givenMask(rows.orders, rows.given, D);
    const logits = oracle.logits(xs, mask);
    const loss = orderAgnosticLoss(logits, xs, mask);
    const means = meanPerConfig(loss.perDatum.dataSync());
    configs.forEach((c) => expect(means[c]).toBeCloseTo(-Math.log(joint.p[c]), 5));
    // The batch mean and bits per dimension agree with the per-datum values.
    const expectedMean = means.reduce((a, b) => a + b, 0) / means.length;
    expect(loss.mean.dataSync()[0]).toBeCloseTo(expectedMean, 4);
    expect(loss.bitsPerDim.dataSync()[0]).toBeCloseTo(expectedMean / (D * Math.LN2), 4);
    tf.dispose([xs, mask, logits, loss.perDatum, loss.mean, loss.bitsPerDim]);
  });

  it("with the wrong weight 1 instead of D / (D - t + 1) averages to something else", () => {
    const xs = x();
    const mask = givenMask(rows.orders, rows.given, D);
    const logits = oracle.logits(xs, mask);
    const unweighted = tf.neg(notGivenLogLikelihood(logits, xs, mask));
    const wrong = meanPerConfig(unweighted.dataSync());
    const errors = configs.map((c) => Math.abs(wrong[c] + Math.log(joint.p[c])));
    // Weight 1 <= D / (D - t + 1) on terms -log p >= 0: it underestimates the NLL of every x, by at least 0.5 nats here.
    expect(Math.min(...errors)).toBeGreaterThan(0.5);
    configs.forEach((c) => expect(wrong[c]).toBeLessThan(-Math.log(joint.p[c])));
    tf.dispose([xs, mask, logits, unweighted]);
  });
});

describe("drawn (t, sigma): training loss and the Monte Carlo estimate", () => {
  it("draws t uniformly in 1..D and a permutation, the same for the same seed", () => {
    const draws = drawOrders(4000, D, 3);
    const counts = new Array<number>(D + 1).fill(0);
    draws.forEach((d) => (counts[d.t] += 1));
    expect(counts[0]).toBe(0);
    counts.slice(1).forEach((n) => expect(Math.abs(n - 1000)).toBeLessThan(120)); // +-3.8 sd of Binomial(4000, 1/4)
    draws.slice(0, 20).forEach((d) => expect([...d.sigma].sort()).toEqual([0, 1, 2, 3]));
    expect(drawOrders(5, D, 3)).toEqual(draws.slice(0, 5));
    expect(drawOrders(5, D, 4)).not.toEqual(draws.slice(0, 5));
  });

  it("the Monte Carlo estimate is within 4 standard errors of -log p(x)", async () => {
    const c = 40;
    const x = tf.tensor2d(Array.from({ length: 50 }, () => configValues(c, D, K)), [50, D], "int32");
    const estimate = await estimateArdmNll(oracle, x, { draws: 20, seed: 11 });
    x.dispose();
    expect(estimate.count).toBe(1000);
    expect(estimate.standardError).toBeGreaterThan(0);
    expect(Math.abs(estimate.nats + Math.log(joint.p[c]))).toBeLessThan(4 * estimate.standardError);
    expect(estimate.bitsPerDim).toBeCloseTo(estimate.nats / (D * Math.LN2), 10);
  });

  it("trains: its gradient in the logits is the float64 one, mean of D / (D - t + 1) (softmax - onehot) on not-given rows", () => {
    const start = tf.randomNormal([1, D, K], 0, 1, "float32", 5);
    const table = tf.variable(start);
    const network: ArdmNetwork = { dimensions: D, categories: K, logits: (x) => tf.tile(table, [x.shape[0], 1, 1]) as tf.Tensor3D };
    const rows = [[0, 1, 2, 0], [2, 2, 1, 0], [1, 1, 0, 2]];
    const x = tf.tensor2d(rows, [rows.length, D], "int32");
    const { value, grads } = tf.variableGrads(() => ardmTrainingLoss(network, x, 1).mean, [table]);
    const logits = table.dataSync();
    const expected = new Float64Array(D * K);
    drawOrders(rows.length, D, 1).forEach(({ sigma, t }, n) => {
      for (const k of Array.from(sigma).slice(t - 1)) {
        const z = Array.from({ length: K }, (_, v) => Math.exp(logits[k * K + v]));
        const total = z.reduce((a, b) => a + b, 0);
        for (let v = 0; v < K; v++) expected[k * K + v] += ((D / (D - t + 1)) * (z[v] / total - (rows[n][k] === v ? 1 : 0))) / rows.length;
      }
    });
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    Array.from(grads[table.name].dataSync()).forEach((g, i) => expect(g).toBeCloseTo(expected[i], 5));
    expect(expected.some((g) => Math.abs(g) > 0.1)).toBe(true);
    tf.dispose([value, start, table, x, ...Object.values(grads)]);
  });
});
