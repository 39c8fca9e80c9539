/**
 * Training and scoring the noisy-sprite classifier (Dhariwal & Nichol 2021, Sec. 4): each sprite
 * of a batch is noised by the forward process to its own step t, uniform in 0..T (t = 0, the
 * clean sprite, included), and the classifier learns its class from (x_t, t / T) by softmax
 * cross-entropy, with the project's Adam and a linear learning-rate decay over all steps.
 * Batches, steps and noise are all drawn from the seed, so a run repeats exactly.
 */
import * as tf from "@tensorflow/tfjs-core";
import { spriteBatches } from "../data/batches";
import { type SpriteDataset, subsetDataset } from "../data/dataset";
import { Prng, deriveSeed } from "../data/sprites/prng";
import { addNoise } from "../diffusion/forward";
import { type Schedule, courseSchedule } from "../diffusion/schedule";
import { yieldToEventLoop } from "../metrics/classifier";
import { type ClassifierEpochReport, type ClassifierTrainConfig, crossEntropy } from "../metrics/classifierTraining";
import { Adam } from "../train/adam";
import type { NoisySpriteClassifier } from "./noisyClassifier";
import { seededNormal } from "../seededNormal";

/** Epochs, batch size, peak learning rate (decayed linearly to 0) and seed, as the metric classifier's. */
export type NoisyClassifierTrainConfig = ClassifierTrainConfig;
/** One epoch's mean loss, training accuracy (on noisy sprites) and wall time. */
export type NoisyClassifierEpochReport = ClassifierEpochReport;

export const DEFAULT_NOISY_CLASSIFIER_TRAINING: Readonly<NoisyClassifierTrainConfig> = Object.freeze({
  epochs: 16,
  batchSize: 128,
  learningRate: 2e-3,
  seed: 0,
});

export interface NoisyClassifierTrainHooks {
  onStep?: (r: { epoch: number; step: number; steps: number; loss: number; learningRate: number }) => void;
  onEpoch?: (r: NoisyClassifierEpochReport) => void | Promise<void>;
  shouldStop?: () => boolean;
}

/**
 * The noising of one training batch, from (seed, globalStep) alone: t [n] uniform in 0..T and
 * noise eps [n, ...imageShape] standard normal. The caller owns `noise`.
 */
export function noisyClassifierDraws(seed: number, T: number, globalStep: number, imageShape: [number, number, number, number]): { t: Int32Array; noise: tf.Tensor4D } {
  const rng = new Prng(deriveSeed(seed, 0x7c1a, globalStep));
  const t = Int32Array.from({ length: imageShape[0] }, () => rng.int(T + 1));
  const noise = seededNormal<tf.Rank.R4>(imageShape, deriveSeed(seed, 0x7c1b, globalStep));
  return { t, noise };
}

/** Training batches between read-backs of the loss (a read-back waits for the device). */
const READ_EVERY = 20;

/**
 * One Adam step on a batch noised by `draw`. Returns [loss, correct] as a [2] tensor the caller
 * owns (read back in groups, so the loop never waits for the device on every step).
 */
function trainStep(
  classifier: NoisySpriteClassifier,
  optimizer: Adam,
  schedule: Schedule,
  batch: { images: tf.Tensor4D; labels: tf.Tensor2D },
  draw: { t: Int32Array; noise: tf.Tensor4D },
  learningRate: number,
): tf.Tensor1D {
  const kept: { correct?: tf.Tensor } = {};
  const { value, grads } = tf.variableGrads(() => {
    // Ho et al. 2020, eq. 4: x_t = sqrt(alphaBar_t) x_0 + sqrt(1 - alphaBar_t) eps.
    const xt = addNoise(schedule, batch.images, Array.from(draw.t), draw.noise);
    const logits = classifier.forward(xt, tf.div(tf.tensor1d(draw.t, "float32"), schedule.T) as tf.Tensor1D);
    kept.correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(batch.labels, 1)), "float32")));
    return crossEntropy(logits, batch.labels);
  }, classifier.trainableVariables());
  optimizer.apply(grads, learningRate);
  const result = tf.stack([value, kept.correct!]) as tf.Tensor1D;
  tf.dispose([value, kept.correct!, ...Object.values(grads)]);
  return result;
}

/**
 * Trains `classifier` in place on the samples `trainIndices` of `dataset`, noised with
 * `schedule` (the course's, T = 500), and returns the per-epoch history. Throws on a NaN loss.
 * The classifier stays the caller's; the optimizer state is freed here.
 */
export async function trainNoisyClassifier(
  classifier: NoisySpriteClassifier,
  dataset: SpriteDataset,
  trainIndices: ArrayLike<number>,
  config: NoisyClassifierTrainConfig = DEFAULT_NOISY_CLASSIFIER_TRAINING,
  hooks: NoisyClassifierTrainHooks = {},
  schedule: Schedule = courseSchedule,
): Promise<NoisyClassifierEpochReport[]> {
  const data = subsetDataset(dataset, trainIndices);
  const optimizer = new Adam(classifier.parameters.trainableParameters());
  const steps = Math.ceil(data.count / config.batchSize);
  // Linear decay to 0 over all steps of all epochs.
  const learningRateAt = (epoch: number, step: number) => config.learningRate * (1 - (epoch * steps + step) / (config.epochs * steps));
  const history: NoisyClassifierEpochReport[] = [];
  let pending: tf.Tensor1D[] = [];
  try {
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      const started = Date.now();
      let lossSum = 0;
      let right = 0;
      let step = 0;
      const readPending = async () => {
        if (pending.length === 0) return;
        const stacked = tf.stack(pending);
        const values = await stacked.data();
        tf.dispose([stacked, ...pending]);
        pending = [];
        for (let i = 0; i < values.length; i += 2) {
          if (!Number.isFinite(values[i])) {
            throw new Error(`The noisy classifier's loss became ${values[i]} in epoch ${epoch}, near step ${step}: lower the learning rate (--lr, now ${config.learningRate}).`);
          }
          lossSum += values[i];
          right += values[i + 1];
        }
        hooks.onStep?.({ epoch, step, steps, loss: values[values.length - 2], learningRate: learningRateAt(epoch, step) });
      };
      for (const batch of spriteBatches(data, { batchSize: config.batchSize, seed: config.seed, epoch })) {
        const stop = hooks.shouldStop?.() ?? false;
        if (!stop) {
          const draw = noisyClassifierDraws(config.seed, schedule.T, epoch * steps + step, batch.images.shape);
          pending.push(trainStep(classifier, optimizer, schedule, batch, draw, learningRateAt(epoch, step)));
          draw.noise.dispose();
        }
        tf.dispose([batch.images, batch.labels]);
        if (stop) return history;
        step += 1;
        if (step % READ_EVERY === 0) await readPending();
        await yieldToEventLoop();
      }
      await readPending();
      const report = { epoch, meanLoss: lossSum / step, trainAccuracy: right / data.count, seconds: (Date.now() - started) / 1000 };
      history.push(report);
      await hooks.onEpoch?.(report);
    }
  } finally {
    tf.dispose(pending);
    optimizer.dispose();
  }
  return history;
}

/** An inclusive range of steps from..to. */
export interface TBand {
  from: number;
  to: number;
}

/** Five bands of about 100 steps covering 0..500, the course's T. */
export const DEFAULT_T_BANDS: readonly TBand[] = Object.freeze([
  { from: 0, to: 99 },
  { from: 100, to: 199 },
  { from: 200, to: 299 },
  { from: 300, to: 399 },
  { from: 400, to: 500 },
]);

/** Held-out accuracy in one band of steps. */
export interface TBandAccuracy extends TBand {
  /** Sprites scored (each once, at one t drawn in the band). */
  count: number;
  /** Share classified right. */
  accuracy: number;
}

/** What accuracyPerTBand needs of a classifier: logits at per-sample t / T. */
export interface TimeConditionedClassifier {
  forward(x: tf.Tensor4D, tFraction: tf.Tensor1D): tf.Tensor2D;
}

/**
 * Accuracy per band of steps: every sprite of `heldOut` is noised once per band, at a step t
 * uniform in the band's from..to and fresh noise, both drawn from `seed` (the same seed gives the
 * same draws), and classified at that t. `heldOut.images` [n, 16, 16, 3] in [-1, 1] and
 * `heldOut.classes` [n] stay the caller's.
 */
export async function accuracyPerTBand(
  classifier: TimeConditionedClassifier,
  heldOut: { images: tf.Tensor4D; classes: ArrayLike<number> },
  bands: readonly TBand[] = DEFAULT_T_BANDS,
  seed = 0,
  schedule: Schedule = courseSchedule,
  batchSize = 500,
): Promise<TBandAccuracy[]> {
  const count = heldOut.images.shape[0];
  if (heldOut.classes.length !== count) {
    throw new Error(`accuracyPerTBand: ${heldOut.classes.length} classes for ${count} images; pass one class per image.`);
  }
  const results: TBandAccuracy[] = [];
  for (const [b, band] of bands.entries()) {
    if (!Number.isInteger(band.from) || !Number.isInteger(band.to) || band.from < 0 || band.to > schedule.T || band.from > band.to) {
      throw new Error(`accuracyPerTBand: band ${band.from}..${band.to} is not a range of steps within 0..${schedule.T}; use whole numbers from <= to.`);
    }
    let right = 0;
    for (let start = 0; start < count; start += batchSize) {
      const size = Math.min(batchSize, count - start);
      const rng = new Prng(deriveSeed(seed, 0xba2d, b, start));
      const t = Array.from({ length: size }, () => band.from + rng.int(band.to - band.from + 1));
      const predicted = tf.tidy(() => {
        const x0 = tf.slice(heldOut.images, [start, 0, 0, 0], [size, -1, -1, -1]);
        const noise = seededNormal<tf.Rank.R4>(x0.shape, deriveSeed(seed, 0xba2e, b, start));
        const xt = addNoise(schedule, x0, t, noise);
        return tf.argMax(classifier.forward(xt, tf.div(tf.tensor1d(t, "float32"), schedule.T) as tf.Tensor1D), 1);
      });
      const classes = await predicted.data();
      predicted.dispose();
      for (let i = 0; i < size; i++) if (classes[i] === heldOut.classes[start + i]) right += 1;
      await yieldToEventLoop();
    }
    results.push({ from: band.from, to: band.to, count, accuracy: right / count });
  }
  return results;
}
