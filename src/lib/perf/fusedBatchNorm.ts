/**
 * Conv bias + BatchNorm2d as TensorFlow's fused kernels, for the native backend.
 *
 * In the course's blocks every conv feeds a BatchNorm, so the conv's bias b is folded in rather
 * than added to every pixel (Ioffe & Szegedy 2015, Algorithm 1, with z = conv(x) without bias):
 * - training: BN(z + b) = BN(z) exactly, because the batch mean moves by b. The running mean
 *   still follows the batch mean of z + b (= mean(z) + b), as PyTorch's does, and b's gradient
 *   is PyTorch's: the sum over N, H, W of dL/d(z + b) = dL/dz.
 * - inference: BN(z + b) = (z - (running_mean - b)) gamma / sqrt(running_var + eps) + beta.
 * Training runs one FusedBatchNormV3 forward (batch statistics and the momentum update of the
 * running ones, with the unbiased variance, as PyTorch) and one FusedBatchNormGradV3 backward,
 * in place of tfjs-core's ~25 elementwise ops and reductions over the full activation.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type NativeBackend, floatTypeAttrs } from "./native";

export interface BatchNormState {
  scale: tf.Variable;
  offset: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
  /** PyTorch's momentum: running = (1 - momentum) running + momentum batch. */
  momentum: number;
  epsilon: number;
  /** When given, the new running statistics are pushed here (kept, for the caller to assign). */
  statUpdates?: Array<{ variable: tf.Variable; value: tf.Tensor }>;
}

/**
 * y = BatchNorm(z + bias) in training mode (batch statistics), updating the running statistics.
 * @param z     [N, H, W, C] conv output without its bias.
 * @param bias  [C] the conv's bias (gets its gradient; cancels in y).
 * @returns     [N, H, W, C], owned by the caller.
 */
export function batchNormAfterBiasTraining(native: NativeBackend, z: tf.Tensor4D, bias: tf.Tensor1D, bn: BatchNormState): tf.Tensor4D {
  const binding = native.binding;
  const common = [
    ...floatTypeAttrs(native, "T", "U"),
    { name: "epsilon", type: binding.TF_ATTR_FLOAT, value: bn.epsilon },
    { name: "data_format", type: binding.TF_ATTR_STRING, value: "NHWC" },
    { name: "is_training", type: binding.TF_ATTR_BOOL, value: true },
  ];
  const forwardAttrs = [...common, { name: "exponential_avg_factor", type: binding.TF_ATTR_FLOAT, value: bn.momentum }];
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, b, scale, offset, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    // The kernel blends its inputs as running statistics: feed running_mean - b so that its
    // (1 - m) (running_mean - b) + m mean(z), plus b, is (1 - m) running_mean + m mean(z + b).
    const shiftedMean = tf.sub(bn.runningMean, b);
    const [y, newMean, newVar, reserve1, reserve2, reserve3] = native.executeMultipleOutputs(
      "FusedBatchNormV3",
      forwardAttrs,
      [x, scale, offset, shiftedMean, bn.runningVar],
      6,
    );
    const updates = [
      { variable: bn.runningMean, value: tf.add(newMean, b) },
      { variable: bn.runningVar, value: newVar },
    ];
    for (const update of updates) {
      if (bn.statUpdates) bn.statUpdates.push({ variable: update.variable, value: tf.keep(update.value) });
      else update.variable.assign(update.value);
    }
    save([x, scale, reserve1, reserve2, reserve3]);
    // Tidy: the kernel's two extra outputs would otherwise live until the backward pass ends.
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [dx, dScale, dOffset] = native.executeMultipleOutputs("FusedBatchNormGradV3", common, [dy, ...saved], 5);
        // d(z + b) = dx for every pixel, so dL/db sums it over N, H, W (PyTorch's conv bias grad).
        return [dx, tf.sum(dx, [0, 1, 2]), dScale, dOffset];
      });
    return { value: y, gradFunc };
  });
  return op(z, bias, bn.scale, bn.offset) as tf.Tensor4D;
}

/** y = BatchNorm(z + bias) with the running statistics (inference); one fused kernel. */
export function batchNormAfterBiasInference(native: NativeBackend, z: tf.Tensor4D, bias: tf.Tensor1D, bn: BatchNormState): tf.Tensor4D {
  const binding = native.binding;
  const attrs = [
    ...floatTypeAttrs(native, "T"),
    { name: "epsilon", type: binding.TF_ATTR_FLOAT, value: bn.epsilon },
    { name: "data_format", type: binding.TF_ATTR_STRING, value: "NHWC" },
    { name: "is_training", type: binding.TF_ATTR_BOOL, value: false },
  ];
  // The kernel tfjs's tf.batchNorm runs here, called directly: tfjs adds a reshape around it.
  return tf.tidy(() => {
    const mean = tf.sub(bn.runningMean, bias);
    return native.executeMultipleOutputs("FusedBatchNorm", attrs, [z, bn.scale, bn.offset, mean, bn.runningVar], 5)[0] as tf.Tensor4D;
  });
}
