/**
 * The order-agnostic ARDM loss (Hoogeboom et al. 2022, Eq. 4 and Algorithm 1).
 *
 * For an order sigma and a step t, the network sees x_sigma(<t) and predicts all D - t + 1
 * variables not yet given at once. Eq. 4 turns that into a bound on the log-likelihood:
 *   log p(x) >= E_{t ~ U(1..D)} [ D * L_t ],
 *   L_t = 1 / (D - t + 1) * E_sigma sum_{k in sigma(>=t)} log p(x_k | x_sigma(<t)),
 * so one draw of (t, sigma) gives the unbiased per-datum loss (Algorithm 1, lines 4-6)
 *   loss = -(D / (D - t + 1)) * sum_{k not given} log p(x_k | x_sigma(<t)).
 * Why D / (D - t + 1): averaged over sigma, each of the D - t + 1 not-given terms is the term of the
 * variable decoded at step t, log p(x_sigma(t) | x_sigma(<t)); dividing by their number gives that
 * one term, and D times its average over t is the sum over the D steps of one order, i.e. the
 * autoregressive log-likelihood of that order. Any other weight (e.g. 1) estimates something else.
 *
 * The number of not-given variables D - t + 1 is read off the mask, so the loss needs no t.
 * Bits per dimension: loss / (D ln 2).
 */
import * as tf from "@tensorflow/tfjs-core";
import "../gradients"; // the loss is differentiated in training
import { type ArdmNetwork, checkArdmMask, checkArdmNetwork, checkArdmValues, ardmNetworkLogits } from "./network";
import { drawMask, drawOrders } from "./orders";

/**
 * log p(x_k | given) of every variable: log_softmax(logits)[n, k, x[n, k]].
 * @param logits [N, D, K] float32; x [N, D] int32 in 0..K-1.
 * @returns [N, D] float32 log-probabilities, owned by the caller. Differentiable in the logits.
 */
export function variableLogProbabilities(logits: tf.Tensor3D, x: tf.Tensor2D): tf.Tensor2D {
  const [N, D, K] = logits.shape;
  return tf.tidy(() => {
    // A one-hot product, not a gather: its gradient is elementwise on every backend, where a
    // gather's is a scatter (UnsortedSegmentSum) that the wasm backend lacks and the cpu backend
    // runs as one kernel per entry of the N D K logits (minutes at the sprites' size).
    const selected = tf.oneHot(tf.reshape(tf.cast(x, "int32"), [N, D]), K, 1, 0, "float32");
    return tf.sum(tf.mul(tf.logSoftmax(logits), selected), 2) as tf.Tensor2D;
  });
}

/**
 * sum over not-given k of log p(x_k | given): the unweighted inner sum of Eq. 4.
 * @param logits [N, D, K]; x [N, D] int32; mask [N, D] float32, 1 = given.
 * @returns [N] float32, owned by the caller.
 */
export function notGivenLogLikelihood(logits: tf.Tensor3D, x: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(variableLogProbabilities(logits, x), tf.sub(1, tf.cast(mask, "float32"))), 1) as tf.Tensor1D);
}

/** The loss of a batch, in nats and bits per dimension; every tensor owned by the caller. */
export interface ArdmLoss {
  /** [N] -(D / (D - t + 1)) * sum of not-given log p, per datum (nats). */
  perDatum: tf.Tensor1D;
  /** Scalar: its batch mean (nats per datum), the training objective. */
  mean: tf.Scalar;
  /** Scalar: mean / (D ln 2), bits per dimension. */
  bitsPerDim: tf.Scalar;
}

/**
 * Eq. 4's loss from logits already computed. Every datum must have at least one variable to predict
 * (t <= D, at most D - 1 given); x and mask are checked (one small read back each).
 * @param logits [N, D, K] float32; x [N, D] int32 in 0..K-1; mask [N, D] float32, 1 = given.
 */
export function orderAgnosticLoss(logits: tf.Tensor3D, x: tf.Tensor2D, mask: tf.Tensor2D): ArdmLoss {
  const [N, D, K] = logits.shape;
  if (logits.rank !== 3 || x.shape[0] !== N) {
    throw new Error(`orderAgnosticLoss: logits have shape [${logits.shape}] for x of shape [${x.shape}]; they must be [N, D, K] for x [N, D].`);
  }
  checkArdmValues("orderAgnosticLoss", x, D, K);
  const given = checkArdmMask("orderAgnosticLoss", mask, x.shape);
  const full = given.findIndex((g) => g >= D);
  if (full >= 0) {
    throw new Error(`orderAgnosticLoss: datum ${full} has all ${D} variables given, so there is nothing to predict; t runs over 1..D, i.e. at most D - 1 given.`);
  }
  return tf.tidy(() => {
    const notGiven = tf.sub(D, tf.sum(tf.cast(mask, "float32"), 1)); // D - t + 1
    const perDatum = tf.neg(tf.mul(tf.div(D, notGiven), notGivenLogLikelihood(logits, x, mask))) as tf.Tensor1D;
    const mean = tf.mean(perDatum) as tf.Scalar;
    return { perDatum, mean, bitsPerDim: tf.div(mean, D * Math.LN2) as tf.Scalar };
  });
}

/**
 * One training evaluation of Algorithm 1: per datum draw t ~ U{1..D} and sigma from `seed`
 * (drawOrders), mask sigma(<t), ask the network, and return Eq. 4's loss. Synchronous, so it can
 * run inside tf.variableGrads; use a new seed per step.
 * @param x [N, D] int32 in 0..K-1 (not disposed).
 */
export function ardmTrainingLoss(network: ArdmNetwork, x: tf.Tensor2D, seed: number): ArdmLoss {
  const { D, K } = checkArdmNetwork("ardmTrainingLoss", network);
  checkArdmValues("ardmTrainingLoss", x, D, K);
  const mask = drawMask(drawOrders(x.shape[0], D, seed), D);
  try {
    const logits = ardmNetworkLogits("ardmTrainingLoss", network, x, mask);
    try {
      return orderAgnosticLoss(logits, x, mask);
    } finally {
      logits.dispose();
    }
  } finally {
    mask.dispose();
  }
}
