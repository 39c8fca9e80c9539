/**
 * ARDM boundaries: tensor hygiene (tf.memory().numTensors returns to where it was across repeated
 * loss, likelihood and sampling calls), and bad input failing with a message that says what was
 * wrong and what to do.
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { budgetSchedule, fixedGroups, groupsCost } from "../../src/lib/ardm/budget";
import { estimateArdmNll, orderNll } from "../../src/lib/ardm/likelihood";
import { ardmTrainingLoss, orderAgnosticLoss } from "../../src/lib/ardm/loss";
import type { ArdmNetwork } from "../../src/lib/ardm/network";
import { drawOrders, givenMask } from "../../src/lib/ardm/orders";
import { sampleArdm } from "../../src/lib/ardm/sampling";
import { useTestBackend } from "../helpers/backends";
import { jointOracle, makeJoint } from "./jointOracle";

beforeAll(async () => {
  await useTestBackend();
});

const D = 4;
const K = 3;
const oracle = jointOracle(makeJoint(D, K, 3));
const batch = () => tf.tensor2d([[0, 1, 2, 0], [2, 2, 1, 1], [1, 0, 0, 2]], [3, D], "int32");

describe("tensor hygiene", () => {
  it("leaves no tensors behind across repeated loss, likelihood and sampling calls", async () => {
    const x = batch();
    const round = async (seed: number) => {
      const loss = ardmTrainingLoss(oracle, x, seed);
      tf.dispose([loss.perDatum, loss.mean, loss.bitsPerDim]);
      await orderNll(oracle, x, drawOrders(3, D, seed).map((d) => d.sigma));
      await estimateArdmNll(oracle, x, { draws: 3, seed });
      for (const perCall of [1, 3]) {
        const sampled = await sampleArdm(oracle, { count: 5, seed, perCall, saveFrame: () => true });
        sampled.samples.dispose();
      }
    };
    await round(0); // warm-up
    const start = tf.memory().numTensors;
    for (let seed = 1; seed <= 4; seed++) {
      await round(seed);
      expect(tf.memory().numTensors).toBe(start);
    }
    x.dispose();
  });

  it("frees the network's logits when they have the wrong shape", () => {
    const x = batch();
    const wrong: ArdmNetwork = { dimensions: D, categories: K, logits: () => tf.zeros([3, D, K + 1]) as tf.Tensor3D };
    const start = tf.memory().numTensors;
    expect(() => ardmTrainingLoss(wrong, x, 0)).toThrow(/returned logits of shape \[3,4,4\].*\[N, D, K\] = \[3, 4, 3\]/);
    const integer: ArdmNetwork = { dimensions: D, categories: K, logits: () => tf.zeros([3, D, K], "int32") as tf.Tensor3D };
    expect(() => ardmTrainingLoss(integer, x, 0)).toThrow(/returned int32 logits; they must be float32/);
    expect(tf.memory().numTensors).toBe(start);
    x.dispose();
  });
});

describe("bad input", () => {
  it("x with values outside 0..K-1, fractional, or of the wrong width", () => {
    const tooBig = tf.tensor2d([[0, 1, 3, 0]], [1, D], "int32");
    const negative = tf.tensor2d([[0, -1, 2, 0]], [1, D], "int32");
    const fractional = tf.tensor2d([[0, 1.5, 2, 0]], [1, D], "float32");
    const narrow = tf.tensor2d([[0, 1, 2]], [1, 3], "int32");
    expect(() => ardmTrainingLoss(oracle, tooBig, 0)).toThrow(/values from 0 to 3.*integer values in 0\.\.2 \(K = 3\); map the data/);
    expect(() => ardmTrainingLoss(oracle, negative, 0)).toThrow(/values from -1 to 2/);
    expect(() => ardmTrainingLoss(oracle, fractional, 0)).toThrow(/1 not integers/);
    expect(() => ardmTrainingLoss(oracle, narrow, 0)).toThrow(/shape \[1,3\].*must be \[N, 4\].*flatten each datum/);
    tf.dispose([tooBig, negative, fractional, narrow]);
  });

  it("a mask of the wrong shape, not 0/1, or with everything given", () => {
    const x = batch();
    const logits = tf.zeros([3, D, K]) as tf.Tensor3D;
    const short = tf.zeros([3, D - 1]) as tf.Tensor2D;
    const half = tf.fill([3, D], 0.5) as tf.Tensor2D;
    const full = tf.ones([3, D]) as tf.Tensor2D;
    expect(() => orderAgnosticLoss(logits, x, short)).toThrow(/mask has shape \[3,3\] but x has \[3,4\]; pass one mask entry per variable/);
    expect(() => orderAgnosticLoss(logits, x, half)).toThrow(/12 entries that are neither 0 nor 1/);
    expect(() => orderAgnosticLoss(logits, x, full)).toThrow(/datum 0 has all 4 variables given.*at most D - 1 given/);
    tf.dispose([x, logits, short, half, full]);
  });

  it("orders that are not permutations, and impossible given counts", async () => {
    expect(() => givenMask([[0, 1, 1, 2]], [1], D)).toThrow(/has 1 at position 2, which is repeated; an order is a permutation of 0\.\.3/);
    expect(() => givenMask([[0, 1, 2]], [1], D)).toThrow(/3 entries but D = 4/);
    expect(() => givenMask([[0, 1, 2, 3]], [5], D)).toThrow(/is 5, but it must be an integer in 0\.\.4/);
    const x = batch();
    await expect(orderNll(oracle, x, [[0, 1, 2, 3]])).rejects.toThrow(/1 orders for 3 data; pass one order per datum/);
    x.dispose();
  });

  it("sampling with k <= 0, k > D, non-integer k, groups that do not sum to D, or both options", async () => {
    await expect(sampleArdm(oracle, { count: 2, seed: 0, perCall: 0 })).rejects.toThrow(
      /perCall .* is 0, but it must be an integer in 1\.\.4; decode between 1 and D = 4/,
    );
    await expect(sampleArdm(oracle, { count: 2, seed: 0, perCall: 5 })).rejects.toThrow(/is 5, but it must be an integer in 1\.\.4/);
    await expect(sampleArdm(oracle, { count: 2, seed: 0, perCall: 1.5 })).rejects.toThrow(/is 1.5/);
    await expect(sampleArdm(oracle, { count: 2, seed: 0, groups: [2, 1] })).rejects.toThrow(/sum to 3, but there are D = 4 variables/);
    await expect(sampleArdm(oracle, { count: 2, seed: 0, groups: [2, 0, 2] })).rejects.toThrow(/group 1 has size 0/);
    await expect(sampleArdm(oracle, { count: 2, seed: 0, groups: [4], perCall: 4 })).rejects.toThrow(/both perCall and groups/);
    await expect(sampleArdm(oracle, { count: 0, seed: 0 })).rejects.toThrow(/count is 0/);
    expect(() => fixedGroups(4, 0)).toThrow(/k \(variables decoded per network call\) is 0/);
  });

  it("a budget below 1 or above D, and bad loss curves", () => {
    expect(() => budgetSchedule([3, 2, 1], 0)).toThrow(/budget \(network calls\) is 0, but it must be an integer in 1\.\.3; allow between 1 call/);
    expect(() => budgetSchedule([3, 2, 1], 4)).toThrow(/is 4, but it must be an integer in 1\.\.3/);
    expect(() => budgetSchedule([3, NaN, 1], 2)).toThrow(/L_2 is NaN; every per-step loss must be a finite number/);
    expect(() => budgetSchedule([], 1)).toThrow(/no per-step losses/);
    expect(() => groupsCost([3, 2, 1], [1, 1])).toThrow(/sum to 2, but there are D = 3/);
  });
});
