/**
 * Training and scoring the sprite classifier: softmax cross-entropy, Adam (the project's
 * PyTorch-exact one), a linear learning-rate decay over all steps, seeded shuffled batches.
 */
import * as tf from "@tensorflow/tfjs-core";
import { spriteBatches } from "../data/batches";
import { SPRITE_CLASSES, type SpriteDataset, sampleTensors, subsetDataset } from "../data/dataset";
import { type RunningStatUpdate, commitStatUpdates } from "../model/layers";
import { Adam } from "../train/adam";
import { type SpriteClassifier, classifyImages, yieldToEventLoop } from "./classifier";

export interface ClassifierTrainConfig {
  epochs: number;
  batchSize: number;
  /** Peak learning rate, decayed linearly to 0 over all steps. */
  learningRate: number;
  /** Seed of the batch order. */
  seed: number;
}

export const DEFAULT_CLASSIFIER_TRAINING: Readonly<ClassifierTrainConfig> = Object.freeze({
  epochs: 3,
  batchSize: 128,
  learningRate: 2e-3,
  seed: 0,
});

export interface ClassifierEpochReport {
  epoch: number;
  meanLoss: number;
  /** Share of training batches' samples classified right (in training mode, during the epoch). */
  trainAccuracy: number;
  seconds: number;
}

export interface ClassifierTrainHooks {
  onStep?: (r: { epoch: number; step: number; steps: number; loss: number; learningRate: number }) => void;
  onEpoch?: (r: ClassifierEpochReport) => void | Promise<void>;
  shouldStop?: () => boolean;
}

/** Mean softmax cross-entropy -sum_k y_k log softmax(z)_k over the batch. */
export function crossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar);
}

/** Training batches between read-backs of the loss (a read-back waits for the device). */
const READ_EVERY = 20;

/**
 * One Adam step on a batch. Returns [loss, correct] as a [2] tensor the caller owns (read back
 * later, in groups, so the loop never waits for the device on every step).
 */
function trainStep(classifier: SpriteClassifier, optimizer: Adam, images: tf.Tensor4D, labels: tf.Tensor2D, learningRate: number): tf.Tensor1D {
  const kept: { correct?: tf.Tensor; statUpdates?: RunningStatUpdate[] } = {};
  const { value, grads } = tf.variableGrads(() => {
    const { logits, statUpdates } = classifier.forwardTraining(images);
    kept.statUpdates = statUpdates;
    kept.correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(labels, 1)), "float32")));
    return crossEntropy(logits, labels);
  }, classifier.trainableVariables());
  commitStatUpdates(kept.statUpdates!);
  optimizer.apply(grads, learningRate);
  const result = tf.stack([value, kept.correct!]) as tf.Tensor1D;
  tf.dispose([value, kept.correct!, ...Object.values(grads)]);
  return result;
}

/**
 * Trains `classifier` in place on the samples `trainIndices` of `dataset` and returns the
 * per-epoch history. The classifier stays the caller's; the optimizer state is freed here.
 */
export async function trainClassifier(
  classifier: SpriteClassifier,
  dataset: SpriteDataset,
  trainIndices: ArrayLike<number>,
  config: ClassifierTrainConfig = DEFAULT_CLASSIFIER_TRAINING,
  hooks: ClassifierTrainHooks = {},
): Promise<ClassifierEpochReport[]> {
  const data = subsetDataset(dataset, trainIndices);
  const keys = classifier.parameters.keys().filter((k) => classifier.parameters.spec(k).trainable);
  const optimizer = new Adam(new Map(keys.map((k) => [k, classifier.parameters.get(k)])));
  const steps = Math.ceil(data.count / config.batchSize);
  // Linear decay to 0 over all steps of all epochs.
  const learningRateAt = (epoch: number, step: number) => config.learningRate * (1 - (epoch * steps + step) / (config.epochs * steps));
  const history: ClassifierEpochReport[] = [];
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
          lossSum += values[i];
          right += values[i + 1];
        }
        hooks.onStep?.({ epoch, step, steps, loss: values[values.length - 2], learningRate: learningRateAt(epoch, step) });
      };
      for (const batch of spriteBatches(data, { batchSize: config.batchSize, seed: config.seed, epoch })) {
        const stop = hooks.shouldStop?.() ?? false;
        if (!stop) pending.push(trainStep(classifier, optimizer, batch.images, batch.labels, learningRateAt(epoch, step)));
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

/** How well a classifier does on a labelled set. */
export interface ClassifierScore {
  count: number;
  /** Share classified right. */
  accuracy: number;
  /** confusion[true][predicted] = how many samples of class `true` were predicted `predicted`. */
  confusion: number[][];
  /** Per class: the share of its samples classified right (recall). */
  perClassAccuracy: number[];
}

/** confusion[t][p] counts from true and predicted classes. */
export function confusionMatrix(trueClasses: ArrayLike<number>, predicted: ArrayLike<number>, classes = SPRITE_CLASSES): number[][] {
  if (trueClasses.length !== predicted.length) {
    throw new Error(`confusionMatrix: ${trueClasses.length} true classes but ${predicted.length} predictions; pass one of each per sample.`);
  }
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < trueClasses.length; i++) matrix[trueClasses[i]][predicted[i]] += 1;
  return matrix;
}

/**
 * Scores the classifier on the samples `indices` of `dataset` (images of the classifier's size,
 * labels of its classes: the sprites or a 28x28 set), in batches of `batchSize`.
 */
export async function scoreClassifier(classifier: SpriteClassifier, dataset: SpriteDataset, indices: ArrayLike<number>, batchSize = 1000): Promise<ClassifierScore> {
  const predicted = new Uint8Array(indices.length);
  for (let start = 0; start < indices.length; start += batchSize) {
    const chunk = Array.from({ length: Math.min(batchSize, indices.length - start) }, (_, i) => indices[start + i]);
    const { images, labels } = sampleTensors(dataset, chunk);
    const result = await classifyImages(classifier, images, batchSize);
    predicted.set(result.classes, start);
    tf.dispose([images, labels]);
  }
  const trueClasses = Uint8Array.from({ length: indices.length }, (_, i) => dataset.classes[indices[i]]);
  const confusion = confusionMatrix(trueClasses, predicted, classifier.config.classes);
  const right = confusion.reduce((sum, row, c) => sum + row[c], 0);
  const perClassAccuracy = confusion.map((row, c) => row[c] / Math.max(1, row.reduce((a, b) => a + b, 0)));
  return { count: indices.length, accuracy: right / indices.length, confusion, perClassAccuracy };
}
