/**
 * What an order-agnostic Autoregressive Diffusion Model (ARDM; Hoogeboom et al., ICLR 2022,
 * "Autoregressive Diffusion Models", arXiv 2110.02037, Sec. 3) asks of its network, and the checks
 * every ARDM function makes at its boundary.
 *
 * A datum is D categorical variables with K values each (a 16x16x3 sprite: D = 768, K = 256). The
 * network f sees the variables given so far and which they are, and answers for every variable:
 *   logits = f(x ⊙ m, m),   p(x_k | x_given) = softmax(logits[k])   (the paper's Algorithm 1, 2),
 * where m_k = 1 marks a given variable. Only the rows of not-given variables are read; what a
 * network puts in the rows of given ones, and what it makes of the values under m = 0, is free.
 * The network knows nothing of orders, steps or losses: any transformer or UNet fits.
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * The one thing an ARDM needs from its network: logits of every variable given some of them.
 * - `dimensions` D and `categories` K: the datum's size and each variable's number of values.
 * - `logits(x, mask)`: x [N, D] int32 values in 0..K-1 (those under mask 0 are arbitrary),
 *   mask [N, D] float32, 1 = given, 0 = to predict; returns [N, D, K] float32 logits, owned by the
 *   caller. It must not dispose its arguments.
 */
export interface ArdmNetwork {
  readonly dimensions: number;
  readonly categories: number;
  logits(x: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor3D;
  /**
   * The same logits computed outside TensorFlow.js's synchronous ops (ONNX Runtime:
   * ../onnx/ardmOnnxNetwork.ts), same arguments and result. When a network has it, sampleArdm,
   * orderNll and estimateArdmNll await it instead of calling logits (training still calls logits).
   */
  logitsAsync?(x: tf.Tensor2D, mask: tf.Tensor2D): Promise<tf.Tensor3D>;
}

/** Throws unless `value` is an integer in [lo, hi]; `what` names it and `hint` says what to do. */
export function checkArdmInteger(who: string, what: string, value: number, lo: number, hi: number, hint: string): void {
  if (!Number.isInteger(value) || value < lo || value > hi) {
    throw new Error(`${who}: ${what} is ${value}, but it must be an integer in ${lo}..${hi}; ${hint}`);
  }
}

/** Throws unless the network states usable D and K (positive integers). */
export function checkArdmNetwork(who: string, network: ArdmNetwork): { D: number; K: number } {
  const D = network.dimensions;
  const K = network.categories;
  if (!Number.isInteger(D) || D < 1 || !Number.isInteger(K) || K < 2) {
    throw new Error(`${who}: the network states D = ${D} variables and K = ${K} values; it must state an integer D >= 1 and K >= 2.`);
  }
  return { D, K };
}

/**
 * Checks a batch of data x [N, D] against D and K: its shape, and that every value is an integer in
 * 0..K-1 (one small read back). Throws with the value seen and what to do.
 */
export function checkArdmValues(who: string, x: tf.Tensor, D: number, K: number): void {
  if (x.rank !== 2 || x.shape[1] !== D) {
    throw new Error(`${who}: x has shape [${x.shape}], but it must be [N, ${D}] (N data of D = ${D} categorical variables); flatten each datum first.`);
  }
  if (x.shape[0] === 0) return;
  const [lo, hi, fractional] = tf.tidy(() => {
    const values = tf.cast(x, "float32");
    return tf.stack([tf.min(values), tf.max(values), tf.cast(tf.sum(tf.notEqual(values, tf.round(values))), "float32")]).dataSync();
  });
  if (lo < 0 || hi > K - 1 || fractional > 0) {
    throw new Error(
      `${who}: x holds values from ${lo} to ${hi}${fractional > 0 ? ` (${fractional} not integers)` : ""}, but each variable takes ` +
        `integer values in 0..${K - 1} (K = ${K}); map the data to category indices first (a uint8 channel is already 0..255).`,
    );
  }
}

/**
 * Checks a mask [N, D] against x's shape and that it holds only 0 and 1; returns the number of
 * given variables per datum (t - 1 in the paper's Algorithm 1), read back once.
 */
export function checkArdmMask(who: string, mask: tf.Tensor, xShape: number[]): Int32Array {
  if (mask.shape.join(",") !== xShape.join(",")) {
    throw new Error(`${who}: mask has shape [${mask.shape}] but x has [${xShape}]; pass one mask entry per variable (1 = given, 0 = to predict).`);
  }
  const [notBinary, given] = tf.tidy(() => {
    const m = tf.cast(mask, "float32");
    const binary = tf.logicalOr(tf.equal(m, 0), tf.equal(m, 1));
    return [tf.sum(tf.logicalNot(binary)).dataSync()[0], tf.cast(tf.sum(m, 1), "int32").dataSync() as Int32Array];
  });
  if (notBinary > 0) {
    throw new Error(`${who}: mask has ${notBinary} entries that are neither 0 nor 1; it must be 1 for a given variable and 0 for one to predict.`);
  }
  return given;
}

/** Checks that the network answered x [N, D] with float32 logits [N, D, K]; disposes them and throws if not. */
function checkedLogits(who: string, network: ArdmNetwork, x: tf.Tensor2D, logits: tf.Tensor3D): tf.Tensor3D {
  const [N, D] = x.shape;
  const K = network.categories;
  if (logits.rank !== 3 || logits.shape[0] !== N || logits.shape[1] !== D || logits.shape[2] !== K) {
    const shape = `[${logits.shape}]`;
    logits.dispose();
    throw new Error(`${who}: the network returned logits of shape ${shape}, but an ARDM needs [N, D, K] = [${N}, ${D}, ${K}]; check its output layer.`);
  }
  if (logits.dtype !== "float32") {
    const dtype = logits.dtype;
    logits.dispose();
    throw new Error(`${who}: the network returned ${dtype} logits; they must be float32 (cast its output with tf.cast(logits, "float32")).`);
  }
  return logits;
}

/** Calls the network and checks that it answered [N, D, K]; the caller owns the logits. */
export function ardmNetworkLogits(who: string, network: ArdmNetwork, x: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor3D {
  return checkedLogits(who, network, x, network.logits(x, mask));
}

/**
 * As ardmNetworkLogits, through the network's logitsAsync (awaited); only for networks that have
 * it. Never inside tf.tidy (a scope cannot span an await); the caller owns the logits.
 */
export async function ardmNetworkLogitsAsync(who: string, network: ArdmNetwork, x: tf.Tensor2D, mask: tf.Tensor2D): Promise<tf.Tensor3D> {
  if (!network.logitsAsync) throw new Error(`${who}: the network has no logitsAsync; call ardmNetworkLogits (its synchronous logits) instead.`);
  return checkedLogits(who, network, x, await network.logitsAsync(x, mask));
}
