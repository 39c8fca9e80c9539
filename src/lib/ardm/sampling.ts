/**
 * Sampling an order-agnostic ARDM (Hoogeboom et al. 2022, Algorithm 2), one variable or a group of
 * variables per network call (Sec. 4, parallel decoding).
 *
 * Every variable starts masked (m = 0). With an order sigma drawn per datum, step s asks the network
 * once, f(x ⊙ m, m), and draws the variables of the step's group, those at the next positions of
 * sigma, each from its own categorical (temperature 1):
 *   x_sigma(j) ~ Categorical(softmax(logits[sigma(j)])),   m_sigma(j) <- 1.
 * Groups of size 1 are Algorithm 2 exactly (D calls), a sample of the model's joint. A larger group
 * draws its variables independently given the state at the start of the group, so it samples the
 * product of their conditionals, not their joint: fewer calls, at a cost in likelihood the budgeted
 * schedule (./budget.ts) minimises. k = D at once samples the product of the D marginals.
 *
 * A network with logitsAsync (ONNX Runtime: ../onnx/ardmOnnxNetwork.ts) is awaited instead of its
 * synchronous logits; the draws around it are the same.
 *
 * The draws use integer-seeded streams read on the CPU (not tf.multinomial), so a seed gives the
 * same samples on every backend: sigma from drawOrders(count, D, deriveSeed(seed, 0)), the
 * categorical draws by inverse CDF from Prng(deriveSeed(seed, 1)) in float64.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Prng, deriveSeed } from "../data/sprites/prng";
import { yieldToEventLoop } from "../eventLoop";
import { type ArdmNetwork, checkArdmInteger, checkArdmNetwork, ardmNetworkLogits, ardmNetworkLogitsAsync } from "./network";
import { checkArdmGroups, fixedGroups } from "./budget";
import { drawOrders } from "./orders";

export interface ArdmSampleOptions {
  /** Data to draw. */
  count: number;
  /** Seed of the orders and the categorical draws. */
  seed: number;
  /** Variables decoded per network call, the last call taking the rest (default 1: Algorithm 2). */
  perCall?: number;
  /** Or the size of each call's group, summing to D (e.g. budgetSchedule(...).groups); not with perCall. */
  groups?: number[];
  /** Keep the state after step s (1-based network call)? Default: no frames. */
  saveFrame?: (step: number, steps: number) => boolean;
  /** Called after every step; awaited, so a display can update. */
  onStep?: (step: number, steps: number) => void | Promise<void>;
  /** Checked before every step; true stops early (completed = false, undecoded variables 0, mask 0). */
  shouldStop?: () => boolean;
}

/** The partly decoded state after a step: values [N * D] (0 where not decoded) and mask (1 = decoded). */
export interface ArdmFrame {
  step: number;
  values: Int32Array;
  mask: Uint8Array;
}

export interface ArdmSampleResult {
  /** [N, D] int32 values in 0..K-1, owned by the caller. */
  samples: tf.Tensor2D;
  /** Each datum's order: orders[i][j] = the variable decoded j-th. */
  orders: Int32Array[];
  /** The kept frames in step order (plain arrays, nothing to dispose). */
  frames: ArdmFrame[];
  /** The group sizes used, and the network calls made. */
  groups: number[];
  stepsTaken: number;
  completed: boolean;
}

/** The groups a run decodes in: options.groups, or fixedGroups(D, perCall ?? 1). */
function runGroups(options: ArdmSampleOptions, D: number): number[] {
  if (options.groups !== undefined && options.perCall !== undefined) {
    throw new Error("sampleArdm: both perCall and groups were given; pass one (perCall k for fixed groups of k, or the list of group sizes).");
  }
  if (options.groups === undefined) return fixedGroups(D, options.perCall ?? 1);
  checkArdmGroups("sampleArdm", options.groups, D);
  return [...options.groups];
}

/** One categorical draw by inverse CDF from K probabilities at `offset` (renormalised in float64). */
function drawCategory(probabilities: Float32Array | Int32Array | Uint8Array, offset: number, K: number, rng: Prng): number {
  let total = 0;
  for (let v = 0; v < K; v++) total += probabilities[offset + v];
  // 53 random bits: u uniform in [0, 1).
  const u = ((rng.nextUint32() >>> 5) * 67108864 + (rng.nextUint32() >>> 6)) / 9007199254740992;
  let cumulative = 0;
  for (let v = 0; v < K; v++) {
    cumulative += probabilities[offset + v] / total;
    if (u < cumulative) return v;
  }
  for (let v = K - 1; v > 0; v--) if (probabilities[offset + v] > 0) return v; // u past a rounded-down total
  return 0;
}

/** The state as the network takes it: x [N, D] int32 and mask [N, D] float32, owned by the caller. */
function stateTensors(values: Int32Array, mask: Uint8Array, N: number, D: number): [tf.Tensor2D, tf.Tensor2D] {
  // Copies: a backend may keep the array it was handed, and `values` changes after the step.
  return [tf.tensor2d(values.slice(), [N, D], "int32"), tf.tensor2d(Float32Array.from(mask), [N, D], "float32")];
}

/** softmax of the logits' rows `rows` (row n D + k: datum n's variable k): [rows, K], owned by the caller. */
function rowProbabilities(logits: tf.Tensor3D, rows: Int32Array): tf.Tensor2D {
  const [N, D, K] = logits.shape;
  return tf.tidy(() => tf.softmax(tf.gather(tf.reshape(logits, [N * D, K]), tf.tensor1d(rows, "int32"))) as tf.Tensor2D);
}

/** A step's probabilities from a network's logitsAsync (ONNX Runtime): the same ops around an await, no scope across it. */
async function asyncStepProbabilities(network: ArdmNetwork, values: Int32Array, mask: Uint8Array, rows: Int32Array): Promise<tf.Tensor2D> {
  const N = values.length / network.dimensions;
  const [x, m] = stateTensors(values, mask, N, network.dimensions);
  try {
    const logits = await ardmNetworkLogitsAsync("sampleArdm", network, x, m);
    try {
      return rowProbabilities(logits, rows);
    } finally {
      logits.dispose();
    }
  } finally {
    tf.dispose([x, m]);
  }
}

/**
 * Draws `count` data from the network by Algorithm 2, in groups (see the module comment).
 * Reproducible: the same network, options and seed give the same samples and frames.
 */
export async function sampleArdm(network: ArdmNetwork, options: ArdmSampleOptions): Promise<ArdmSampleResult> {
  const { D, K } = checkArdmNetwork("sampleArdm", network);
  checkArdmInteger("sampleArdm", "count", options.count, 1, Number.MAX_SAFE_INTEGER, "ask for at least one sample.");
  if (options.perCall !== undefined) {
    checkArdmInteger("sampleArdm", "perCall (variables decoded per network call)", options.perCall, 1, D, `decode between 1 and D = ${D} variables per call.`);
  }
  const groups = runGroups(options, D);
  const N = options.count;
  const orders = drawOrders(N, D, deriveSeed(options.seed, 0)).map((draw) => draw.sigma);
  const rng = new Prng(deriveSeed(options.seed, 1));
  const values = new Int32Array(N * D);
  const mask = new Uint8Array(N * D);
  const frames: ArdmFrame[] = [];
  let decoded = 0;
  let stepsTaken = 0;
  for (const size of groups) {
    if (options.shouldStop?.()) break;
    const rows = new Int32Array(N * size); // row n * D + sigma_n(j) of the [N * D, K] logits
    for (let n = 0; n < N; n++) for (let j = 0; j < size; j++) rows[n * size + j] = n * D + orders[n][decoded + j];
    const probabilities = network.logitsAsync
      ? await asyncStepProbabilities(network, values, mask, rows)
      : tf.tidy(() => {
          const [x, m] = stateTensors(values, mask, N, D);
          return rowProbabilities(ardmNetworkLogits("sampleArdm", network, x, m), rows);
        });
    const read = await probabilities.data();
    probabilities.dispose();
    for (let r = 0; r < N * size; r++) {
      values[rows[r]] = drawCategory(read, r * K, K, rng);
      mask[rows[r]] = 1;
    }
    decoded += size;
    stepsTaken += 1;
    if (options.saveFrame?.(stepsTaken, groups.length)) frames.push({ step: stepsTaken, values: values.slice(), mask: mask.slice() });
    await options.onStep?.(stepsTaken, groups.length);
    await yieldToEventLoop();
  }
  return {
    samples: tf.tensor2d(values, [N, D], "int32"),
    orders,
    frames,
    groups,
    stepsTaken,
    completed: stepsTaken === groups.length,
  };
}
