/**
 * GroupNorm (Wu & He 2018, eq. 1-3) on [N, H, W, C] as a kernel of this library, for backends
 * that run it in two passes (native TensorFlow with the library's own ops,
 * src/lib/perf/fusedOpKernels.ts); layers.ts's applyGroupNorm runs its composite of tf ops
 * elsewhere.
 *
 *   GroupNormChannelsLast      y = (x - mu) r gamma + beta, per sample and group of C / G channels:
 *                              mu, and r = 1 / sqrt(var + epsilon) with the biased variance
 *                              (PyTorch's nn.GroupNorm), both [N, G], are its outputs 2 and 3
 *   GroupNormChannelsLastGrad  with xhat = (x - mu) r and g = dy gamma:
 *                              dx = r (g - mean(g) - xhat mean(g xhat)), means over the group;
 *                              dgamma = sum over N, H, W of dy xhat; dbeta = sum of dy
 *
 * The gradient is registered here, once, for every backend that has the kernels.
 */
import * as tf from "@tensorflow/tfjs-core";

/** Inputs {x [N, H, W, C], gamma, beta [C]}, attrs {groups, epsilon}. Outputs [y, mean [N, G], rstd [N, G]]. */
export const GroupNormChannelsLast = "GroupNormChannelsLast";
/** Inputs {dy, x, gamma, mean, rstd}, attrs {groups}. Outputs [dx, dgamma, dbeta]. */
export const GroupNormChannelsLastGrad = "GroupNormChannelsLastGrad";

tf.registerGradient({
  kernelName: GroupNormChannelsLast,
  inputsToSave: ["x", "gamma"],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [x, gamma, mean, rstd] = saved;
    const dy = (dys as tf.Tensor[])[0];
    const { groups } = attrs as unknown as { groups: number };
    const [dx, dGamma, dBeta] = tf.engine().runKernel(GroupNormChannelsLastGrad, { dy, x, gamma, mean, rstd }, { groups }) as tf.Tensor[];
    return { x: () => dx, gamma: () => dGamma, beta: () => dBeta };
  },
});

/** y = GroupNorm(x) through the backend's kernel (check backendHasKernel(GroupNormChannelsLast) first); the caller owns y. */
export function groupNormKernel(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number, epsilon: number): tf.Tensor4D {
  return tf.tidy(() => {
    // The statistics are for the backward pass: tfjs keeps its own copies when it records
    // gradients, so this tidy frees them.
    const [y] = tf.engine().runKernel(GroupNormChannelsLast, { x, gamma, beta }, { groups, epsilon }) as tf.Tensor[];
    return y as tf.Tensor4D;
  });
}
