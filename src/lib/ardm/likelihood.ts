/**
 * Evaluating an ARDM's likelihood (Hoogeboom et al. 2022, Sec. 3, Eq. 4).
 *
 * Exact, along one order sigma (D network calls): the order's autoregressive negative log-likelihood
 *   NLL_sigma(x) = -sum_{t=1..D} log p(x_sigma(t) | x_sigma(<t)),
 * whose average over orders is Eq. 4's bound -E_sigma log p_sigma(x) >= -log p(x) (equal when the
 * network's conditionals are those of one joint distribution). Its terms per t, averaged over data,
 * are the per-step losses L_t that the budgeted parallel schedule needs (./budget.ts).
 *
 * Cheap, by Monte Carlo: the mean of Eq. 4's one-draw loss over `draws` random (t, sigma) per datum,
 * one network call per draw, with the standard error of that mean (sample std / sqrt(n)); the
 * paper's test-set numbers use the exact order evaluation, the estimate is for quick monitoring.
 *
 * Both await a network's logitsAsync (ONNX Runtime: ../onnx/ardmOnnxNetwork.ts) when it has one.
 */
import * as tf from "@tensorflow/tfjs-core";
import { deriveSeed } from "../data/sprites/prng";
import { yieldToEventLoop } from "../eventLoop";
import { type ArdmNetwork, checkArdmInteger, checkArdmNetwork, checkArdmValues, ardmNetworkLogits, ardmNetworkLogitsAsync } from "./network";
import { type ArdmLoss, ardmTrainingLoss, orderAgnosticLoss } from "./loss";
import { checkArdmOrder, drawMask, drawOrders, givenMask } from "./orders";

/** The exact evaluation along one order per datum (float64 numbers, nats unless named bits). */
export interface OrderNll {
  /** [N] NLL_sigma(x) per datum, nats. */
  nll: Float64Array;
  /** [N] the same in bits per dimension: nll / (D ln 2). */
  bitsPerDim: Float64Array;
  /** perStep[i][t - 1] = -log p(x_sigma(t) | x_sigma(<t)) of datum i. */
  perStep: Float64Array[];
}

/**
 * Awaits the network's logitsAsync (ONNX Runtime) and returns use(logits), a pure computation that
 * frees its own temporaries; the logits are freed. No scope spans the await.
 */
async function withAsyncLogits<T>(who: string, network: ArdmNetwork, x: tf.Tensor2D, mask: tf.Tensor2D, use: (logits: tf.Tensor3D) => T): Promise<T> {
  const logits = await ardmNetworkLogitsAsync(who, network, x, mask);
  try {
    return use(logits);
  } finally {
    logits.dispose();
  }
}

/** log p of datum n's variable at row rows[n] (n D + k) and value at picks[n] (n K + x): [N], owned by the caller. */
function pickedLogProbabilities(logits: tf.Tensor3D, rows: Int32Array, picks: Int32Array): tf.Tensor1D {
  const [N, D, K] = logits.shape;
  return tf.tidy(() => {
    const chosen = tf.logSoftmax(tf.gather(tf.reshape(logits, [N * D, K]), tf.tensor1d(rows, "int32")));
    return tf.gather(tf.reshape(chosen, [N * K]), tf.tensor1d(picks, "int32")) as tf.Tensor1D;
  });
}

/**
 * NLL_sigma(x) along the given orders: D network calls on the whole batch, step t giving the first
 * t - 1 variables of each datum's order and reading the log-probability of variable sigma(t).
 * @param x       [N, D] int32 in 0..K-1 (not disposed).
 * @param orders  N permutations of 0..D-1 (orders[i][t - 1] = the variable decoded at step t).
 * @param onStep  called after each step t (1..D), awaited: progress for long evaluations.
 */
export async function orderNll(
  network: ArdmNetwork,
  x: tf.Tensor2D,
  orders: ReadonlyArray<ArrayLike<number>>,
  onStep?: (t: number, D: number) => void | Promise<void>,
): Promise<OrderNll> {
  const { D, K } = checkArdmNetwork("orderNll", network);
  checkArdmValues("orderNll", x, D, K);
  const N = x.shape[0];
  if (orders.length !== N) throw new Error(`orderNll: ${orders.length} orders for ${N} data; pass one order per datum.`);
  orders.forEach((sigma) => checkArdmOrder("orderNll", sigma, D));
  const values = await x.data();
  const perStep = Array.from({ length: N }, () => new Float64Array(D));
  for (let t = 1; t <= D; t++) {
    const rows = new Int32Array(N); // row n * D + sigma_n(t) of the [N * D, K] logits
    const picks = new Int32Array(N); // n * K + x_n,sigma_n(t) of the [N, K] log-probabilities
    for (let n = 0; n < N; n++) {
      const k = orders[n][t - 1];
      rows[n] = n * D + k;
      picks[n] = n * K + values[n * D + k];
    }
    const mask = givenMask(orders, new Array<number>(N).fill(t - 1), D);
    let logP: tf.Tensor;
    try {
      logP = network.logitsAsync
        ? await withAsyncLogits("orderNll", network, x, mask, (logits) => pickedLogProbabilities(logits, rows, picks))
        : tf.tidy(() => pickedLogProbabilities(ardmNetworkLogits("orderNll", network, x, mask), rows, picks));
    } finally {
      mask.dispose();
    }
    const read = await logP.data();
    logP.dispose();
    for (let n = 0; n < N; n++) perStep[n][t - 1] = -read[n];
    await onStep?.(t, D);
    await yieldToEventLoop();
  }
  const nll = Float64Array.from(perStep, (terms) => terms.reduce((a, b) => a + b, 0));
  return { nll, bitsPerDim: nll.map((v) => v / (D * Math.LN2)), perStep };
}

/** L_t for t = 1..D: the per-step terms averaged over data (the budgeted schedule's input). */
export function meanStepLosses(result: OrderNll): Float64Array {
  const D = result.perStep[0]?.length ?? 0;
  if (result.perStep.length === 0) throw new Error("meanStepLosses: the evaluation holds no data; evaluate at least one datum.");
  const mean = new Float64Array(D);
  for (const terms of result.perStep) for (let t = 0; t < D; t++) mean[t] += terms[t] / result.perStep.length;
  return mean;
}

/** A Monte Carlo estimate of Eq. 4's bound with its standard error. */
export interface NllEstimate {
  /** Mean loss, nats per datum, and its standard error. */
  nats: number;
  standardError: number;
  /** The same in bits per dimension. */
  bitsPerDim: number;
  bitsPerDimStandardError: number;
  /** Number of one-draw losses averaged: N * draws. */
  count: number;
}

/**
 * ardmTrainingLoss with the logits awaited from logitsAsync (ONNX Runtime): the same (t, sigma)
 * from `seed` (drawOrders, drawMask), the same Eq. 4 loss (orderAgnosticLoss, which checks x).
 */
async function asyncDrawLoss(network: ArdmNetwork, x: tf.Tensor2D, seed: number): Promise<ArdmLoss> {
  const mask = drawMask(drawOrders(x.shape[0], network.dimensions, seed), network.dimensions);
  try {
    return await withAsyncLogits("estimateArdmNll", network, x, mask, (logits) => orderAgnosticLoss(logits, x, mask));
  } finally {
    mask.dispose();
  }
}

/**
 * Estimates E_x E_{t, sigma} [Eq. 4 loss] on the batch x with `draws` independent (t, sigma) per
 * datum (draw r seeded deriveSeed(seed, r)); the standard error treats the N * draws losses as
 * independent (they are, given x; for a whole data set it is the error of the data average too).
 * @param x [N, D] int32 in 0..K-1 (not disposed).
 */
export async function estimateArdmNll(network: ArdmNetwork, x: tf.Tensor2D, options: { draws: number; seed: number }): Promise<NllEstimate> {
  const { D } = checkArdmNetwork("estimateArdmNll", network);
  checkArdmInteger("estimateArdmNll", "draws", options.draws, 1, Number.MAX_SAFE_INTEGER, "pass how many random (t, sigma) to average per datum.");
  const losses: number[] = [];
  for (let r = 0; r < options.draws; r++) {
    const seed = deriveSeed(options.seed, r);
    const loss = network.logitsAsync ? await asyncDrawLoss(network, x, seed) : ardmTrainingLoss(network, x, seed);
    const read = await loss.perDatum.data();
    tf.dispose([loss.perDatum, loss.mean, loss.bitsPerDim]);
    losses.push(...Array.from(read));
    await yieldToEventLoop();
  }
  const count = losses.length;
  const nats = losses.reduce((a, b) => a + b, 0) / count;
  const variance = count > 1 ? losses.reduce((a, b) => a + (b - nats) ** 2, 0) / (count - 1) : NaN;
  const standardError = Math.sqrt(variance / count);
  const perBit = D * Math.LN2;
  return { nats, standardError, bitsPerDim: nats / perBit, bitsPerDimStandardError: standardError / perBit, count };
}
