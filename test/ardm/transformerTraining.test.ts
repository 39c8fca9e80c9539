/**
 * The ARDM transformer end to end at the sprites' size (16x16x3: D = 768, K = 256), on a small
 * width so it runs in seconds: a few Adam steps of Algorithm 1 (ardmTrainingLoss, a new (t, sigma)
 * draw per step) on four of the project's sprites lower Eq. 4's loss on fixed held draws, and
 * Algorithm 2 in groups of 64 variables (12 calls) draws two complete sprites from it.
 */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ardmTrainingLoss } from "../../src/lib/ardm/loss";
import { sampleArdm } from "../../src/lib/ardm/sampling";
import { ArdmTransformer, type ArdmTransformerConfig } from "../../src/lib/ardm/transformer";
import { generateSpriteSet } from "../../src/lib/data/sprites/generate";
import { Adam } from "../../src/lib/train/adam";
import { useFastestBackend, useTestBackend } from "../helpers/backends";

/** The sprites' image, a narrow network: 83,680 parameters. */
const SMALL: ArdmTransformerConfig = { height: 16, width: 16, channels: 3, categories: 256, modelWidth: 32, layers: 2, heads: 2, mlpRatio: 4 };
const SPRITES = 4;
const STEPS = 10;
const LEARNING_RATE = 3e-3;
/** Held draws of (t, sigma) on which the loss is compared before and after training. */
const HELD_SEEDS = [1001, 1002, 1003];

describe("ArdmTransformer trains and samples at the sprites' size", () => {
  let model: ArdmTransformer;
  let sprites: tf.Tensor2D;

  beforeAll(async () => {
    if (process.env.SPRITE_DIFFUSION_TEST_BACKEND) await useTestBackend();
    else await useFastestBackend();
    model = new ArdmTransformer(SMALL, 0);
    // uint8 NHWC sprites flattened: variable = (row * 16 + column) * 3 + channel, the network's order.
    const set = generateSpriteSet({ seed: 3, count: SPRITES, variantsPerBase: 2 });
    sprites = tf.tensor2d(Int32Array.from(set.images), [SPRITES, model.dimensions], "int32");
  });

  afterAll(() => {
    model?.dispose();
    sprites?.dispose();
  });

  /** Mean of Eq. 4's loss (bits per dimension) over the held draws. */
  const heldBitsPerDim = () =>
    HELD_SEEDS.reduce((total, seed) => {
      const loss = ardmTrainingLoss(model, sprites, seed);
      const bits = loss.bitsPerDim.dataSync()[0];
      tf.dispose([loss.perDatum, loss.mean, loss.bitsPerDim]);
      return total + bits / HELD_SEEDS.length;
    }, 0);

  it(`lowers Eq. 4's loss in ${STEPS} Adam steps without leaking tensors`, () => {
    expect(model.parameterCount).toBe(83_680);
    const before = heldBitsPerDim();
    const adam = new Adam(model.trainableParameters());
    let start = 0;
    const trainingLosses: number[] = [];
    for (let step = 0; step < STEPS; step++) {
      const { value, grads } = tf.variableGrads(() => ardmTrainingLoss(model, sprites, step).mean);
      adam.apply(grads, LEARNING_RATE);
      trainingLosses.push(value.dataSync()[0] / (model.dimensions * Math.LN2));
      tf.dispose([value, ...Object.values(grads)]);
      if (step === 0) start = tf.memory().numTensors; // after the warm-up step (the layers' kept constants)
    }
    expect(tf.memory().numTensors).toBe(start);
    const after = heldBitsPerDim();
    console.info(`[ardm training] ${tf.getBackend()} held loss ${before.toFixed(3)} -> ${after.toFixed(3)} bits/dim; per step ${trainingLosses.map((b) => b.toFixed(2)).join(" ")}`);
    expect(after).toBeLessThan(before - 0.5);
    adam.dispose();
  }, 300_000); // seconds on native TensorFlow; about 100 s on the plain-JavaScript cpu backend

  it("samples two complete sprites, 64 variables per network call", async () => {
    tf.tidy(() => model.logits(sprites, tf.onesLike(sprites).toFloat() as tf.Tensor2D)); // warm-up: the layers' kept constants
    const start = tf.memory().numTensors;
    const result = await sampleArdm(model, { count: 2, seed: 5, perCall: 64 });
    expect(result.completed).toBe(true);
    expect(result.stepsTaken).toBe(12);
    expect(result.samples.shape).toEqual([2, 768]);
    const values = result.samples.dataSync();
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThanOrEqual(255);
    result.samples.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
