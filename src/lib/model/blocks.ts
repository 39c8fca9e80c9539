/**
 * The course's composite blocks (ResidualConvBlock, UnetDown, UnetUp, EmbedFC), each a pair of
 * functions: the parameters it declares and how it applies them. Keys follow PyTorch's module
 * paths in the course's code, so `down1.b1.conv1.0.weight` names the same tensor in both.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  type LayerOutput,
  applyConv,
  applyConvBatchNorm,
  applyConvTranspose,
  applyLinear,
  batchNormSpecs,
  convSpecs,
  convTransposeSpecs,
  gelu,
  linearSpecs,
} from "./layers";
import type { ParameterSpec, ParameterStore } from "./parameters";

/** The course's residual scale: (x + block(x)) / 1.414, its rounded sqrt 2. */
const RESIDUAL_SCALE = 1 / 1.414;

// ---- ResidualConvBlock: [Conv3x3 -> BatchNorm -> GELU] x 2, optionally residual -------------

export function convBlockSpecs(key: string, cin: number, cout: number, residual: boolean): ParameterSpec[] {
  const specs = [
    ...convSpecs(`${key}.conv1.0`, cin, cout, 3),
    ...batchNormSpecs(`${key}.conv1.1`, cout),
    ...convSpecs(`${key}.conv2.0`, cout, cout, 3),
    ...batchNormSpecs(`${key}.conv2.1`, cout),
  ];
  // Departure from the course: its init_conv builds a fresh random 1x1 conv on every forward
  // pass when the channel count changes; here that shortcut is a real, trained layer.
  if (residual && cin !== cout) specs.push(...convSpecs(`${key}.shortcut`, cin, cout, 1));
  return specs;
}

/**
 * x [N, H, W, cin] -> [N, H, W, cout]. Training: BatchNorm uses batch statistics and the block
 * returns its four new running statistics (none in inference).
 */
export function applyConvBlock(
  p: ParameterStore,
  key: string,
  x: tf.Tensor4D,
  residual: boolean,
  training: boolean,
): LayerOutput {
  return tf.tidy(() => {
    const first = applyConvBatchNorm(p, `${key}.conv1.0`, `${key}.conv1.1`, x, training);
    const second = applyConvBatchNorm(p, `${key}.conv2.0`, `${key}.conv2.1`, gelu(first.y) as tf.Tensor4D, training);
    const h2 = gelu(second.y) as tf.Tensor4D;
    const statUpdates = [...first.statUpdates, ...second.statUpdates];
    if (!residual) return { y: h2, statUpdates };
    const base = x.shape[3] === h2.shape[3] ? x : applyConv(p, `${key}.shortcut`, x);
    return { y: tf.mul(tf.add(base, h2), RESIDUAL_SCALE) as tf.Tensor4D, statUpdates };
  });
}

/** Conv blocks b1 then b2 (non-residual), as UnetDown and UnetUp chain them. */
function applyTwoBlocks(p: ParameterStore, key: string, x: tf.Tensor4D, training: boolean): LayerOutput {
  const b1 = applyConvBlock(p, `${key}.b1`, x, false, training);
  const b2 = applyConvBlock(p, `${key}.b2`, b1.y, false, training);
  return { y: b2.y, statUpdates: [...b1.statUpdates, ...b2.statUpdates] };
}

// ---- UnetDown: two conv blocks, then MaxPool 2 (halves H and W) -----------------------------

export function downSpecs(key: string, cin: number, cout: number): ParameterSpec[] {
  return [...convBlockSpecs(`${key}.b1`, cin, cout, false), ...convBlockSpecs(`${key}.b2`, cout, cout, false)];
}

/** x [N, H, W, cin] -> [N, H/2, W/2, cout], and in training the blocks' new running statistics. */
export function applyDown(p: ParameterStore, key: string, x: tf.Tensor4D, training: boolean): LayerOutput {
  return tf.tidy(() => {
    const { y, statUpdates } = applyTwoBlocks(p, key, x, training);
    return { y: tf.maxPool(y, 2, 2, "valid"), statUpdates };
  });
}

// ---- UnetUp: concat with the skip, ConvTranspose k2 s2 (doubles H and W), two conv blocks ----

export function upSpecs(key: string, cin: number, cout: number): ParameterSpec[] {
  return [
    ...convTransposeSpecs(`${key}.up`, cin, cout, 2),
    ...convBlockSpecs(`${key}.b1`, cout, cout, false),
    ...convBlockSpecs(`${key}.b2`, cout, cout, false),
  ];
}

/** concat(x, skip) [N, H, W, cin] -> [N, 2H, 2W, cout], and in training the new running statistics. */
export function applyUp(
  p: ParameterStore,
  key: string,
  x: tf.Tensor4D,
  skip: tf.Tensor4D,
  training: boolean,
): LayerOutput {
  return tf.tidy(() => applyTwoBlocks(p, key, applyConvTranspose(p, `${key}.up`, tf.concat([x, skip], 3)), training));
}

// ---- EmbedFC: Linear -> GELU -> Linear, reshaped to [N, 1, 1, out] to broadcast over pixels --

export function embedSpecs(key: string, din: number, dout: number): ParameterSpec[] {
  return [...linearSpecs(`${key}.l1`, din, dout), ...linearSpecs(`${key}.l2`, dout, dout)];
}

export function applyEmbed(p: ParameterStore, key: string, x: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const h = applyLinear(p, `${key}.l2`, gelu(applyLinear(p, `${key}.l1`, x)) as tf.Tensor2D);
    return tf.reshape(h, [x.shape[0], 1, 1, h.shape[1]]) as tf.Tensor4D;
  });
}
