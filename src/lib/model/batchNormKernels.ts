/**
 * Conv bias + BatchNorm2d (Ioffe & Szegedy 2015, Algorithm 1) as kernels of this library, which
 * each backend may implement its own way while the model calls them without knowing which:
 *
 *   BatchNormAfterBiasTraining      y = BN(z + b) with the batch's statistics; the new running ones
 *   BatchNormAfterBiasTrainingGrad  that kernel's backward pass
 *   BatchNormAfterBiasInference     y = BN(z + b) with the running statistics
 *
 * z is a conv's output without its bias b. Every course block feeds a conv into a BatchNorm, so
 * the bias is folded in rather than added to every pixel:
 * - training: BN(z + b) = BN(z) exactly, because the batch mean moves by b. The running mean still
 *   follows the batch mean of z + b (= mean(z) + b), as PyTorch's does, and b's gradient is
 *   PyTorch's: the sum over N, H, W of dL/d(z + b) = dL/dz.
 * - inference: BN(z + b) = (z - (running_mean - b)) gamma / sqrt(running_var + eps) + beta.
 *
 * This file holds the contract, the gradients (registered once, for every backend) and the portable
 * reference, written with tf ops, which a backend without kernels of its own gets on first use
 * (cpu, wasm). Native TensorFlow registers its fused kernels when it starts (src/lib/perf).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap } from "@tensorflow/tfjs-core";

/** The constants a BatchNorm2d kernel takes as attributes. */
export interface BatchNormConstants {
  /** PyTorch's momentum: running = (1 - momentum) running + momentum batch. */
  momentum: number;
  epsilon: number;
}

/** A BatchNorm2d's parameters gamma (scale) and beta (offset), its running statistics, its constants. */
export interface BatchNormState extends BatchNormConstants {
  scale: tf.Tensor1D;
  offset: tf.Tensor1D;
  runningMean: tf.Tensor1D;
  runningVar: tf.Tensor1D;
}

/**
 * Inputs {z [N, H, W, C], bias, scale, offset, runningMean, runningVar [C]}, attrs {momentum,
 * epsilon}. Outputs [y, new running mean, new running var, ...saved]: up to three tensors the
 * backend's own TrainingGrad kernel reads back, as its inputs saved0, saved1, saved2.
 */
export const BatchNormAfterBiasTraining = "BatchNormAfterBiasTraining";
/** Inputs {dy, z, scale, saved0, ...}, attrs {momentum, epsilon}. Outputs [dz, dScale, dOffset]. */
export const BatchNormAfterBiasTrainingGrad = "BatchNormAfterBiasTrainingGrad";
/** Inputs as the training kernel's, attrs {epsilon}. Output y. */
export const BatchNormAfterBiasInference = "BatchNormAfterBiasInference";

/**
 * PyTorch's running statistics after a training batch of `count` values per channel:
 * (1 - m) running + m batch, with the batch variance made unbiased (times count / (count - 1)).
 * @returns [new running mean, new running variance], owned by the caller.
 */
export function updatedRunningStatistics(
  runningMean: tf.Tensor,
  runningVar: tf.Tensor,
  batchMean: tf.Tensor,
  batchVariance: tf.Tensor,
  count: number,
  momentum: number,
): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const unbiased = tf.mul(batchVariance, count / (count - 1));
    return [
      tf.add(tf.mul(runningMean, 1 - momentum), tf.mul(batchMean, momentum)),
      tf.add(tf.mul(runningVar, 1 - momentum), tf.mul(unbiased, momentum)),
    ];
  });
}

/** Registers kernel configs, replacing any registered for the same kernel and backend; safe to call again. */
export function registerKernelConfigs(configs: KernelConfig[]): void {
  for (const config of configs) {
    const present = tf.getKernel(config.kernelName, config.backendName);
    if (present === config) continue;
    if (present !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
  }
}

/** Runs one of this file's kernels; a backend with none registered gets the portable reference first. */
function runKernel(name: string, inputs: tf.NamedTensorMap, attrs: NamedAttrMap): tf.Tensor | tf.Tensor[] {
  const backendName = tf.getBackend();
  if (tf.getKernel(name, backendName) === undefined) registerKernelConfigs(referenceKernelConfigs(backendName));
  return tf.engine().runKernel(name, inputs, attrs);
}

/**
 * y = BatchNorm(z + bias) with the batch's statistics, and the new running statistics.
 * @param z     [N, H, W, C] a conv's output without its bias.
 * @param bias  [C] the conv's bias: it cancels in y but moves the running mean, and gets its gradient.
 * @returns     y [N, H, W, C] and the new runningMean, runningVar [C], all owned by the caller.
 */
export function batchNormAfterBiasTraining(
  z: tf.Tensor4D,
  bias: tf.Tensor1D,
  bn: BatchNormState,
): { y: tf.Tensor4D; runningMean: tf.Tensor1D; runningVar: tf.Tensor1D } {
  const { scale, offset, runningMean, runningVar, momentum, epsilon } = bn;
  return tf.tidy(() => {
    // The outputs after the third are for the backward pass: tfjs keeps its own copies of them
    // when it records gradients, so this tidy frees them.
    const [y, newMean, newVar] = runKernel(
      BatchNormAfterBiasTraining,
      { z, bias, scale, offset, runningMean, runningVar },
      { momentum, epsilon },
    ) as tf.Tensor[];
    return { y: y as tf.Tensor4D, runningMean: newMean as tf.Tensor1D, runningVar: newVar as tf.Tensor1D };
  });
}

/** y = BatchNorm(z + bias) with the running statistics, shapes as above; the caller owns y. */
export function batchNormAfterBiasInference(z: tf.Tensor4D, bias: tf.Tensor1D, bn: BatchNormState): tf.Tensor4D {
  const { scale, offset, runningMean, runningVar, epsilon } = bn;
  return runKernel(BatchNormAfterBiasInference, { z, bias, scale, offset, runningMean, runningVar }, { epsilon }) as tf.Tensor4D;
}

// ---- Gradients, one for every backend ----------------------------------------------------------
// tfjs saves only a kernel's inputs and outputs for the backward pass: hence the training kernel's
// extra outputs. The running statistics get no gradient: they are state, never a variable trained.

tf.registerGradient({
  kernelName: BatchNormAfterBiasTraining,
  inputsToSave: ["z", "scale"],
  outputsToSave: [false, false, false, true, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [z, scale, ...kept] = saved;
    const dy = (dys as tf.Tensor[])[0];
    const savedInputs = Object.fromEntries(kept.map((tensor, i) => [`saved${i}`, tensor]));
    const [dz, dScale, dOffset] = runKernel(BatchNormAfterBiasTrainingGrad, { dy, z, scale, ...savedInputs }, attrs) as tf.Tensor[];
    // d(z + b) = dz at every pixel, so dL/db is its sum over N, H, W (PyTorch's conv bias gradient).
    return { z: () => dz, bias: () => tf.sum(dz, [0, 1, 2]), scale: () => dScale, offset: () => dOffset };
  },
});

tf.registerGradient({
  kernelName: BatchNormAfterBiasInference,
  inputsToSave: ["z", "bias", "scale", "runningMean", "runningVar"],
  gradFunc: (dy, saved, attrs) => {
    const [z, bias, scale, runningMean, runningVar] = saved;
    const dyT = dy as tf.Tensor;
    const invStd = () => tf.rsqrt(tf.add(runningVar, (attrs as unknown as BatchNormConstants).epsilon));
    const dz = () => tf.mul(dyT, tf.mul(scale, invStd()));
    const normalised = () => tf.mul(tf.sub(tf.add(z, bias), runningMean), invStd());
    return {
      z: dz,
      bias: () => tf.sum(dz(), [0, 1, 2]),
      scale: () => tf.sum(tf.mul(dyT, normalised()), [0, 1, 2]),
      offset: () => tf.sum(dyT, [0, 1, 2]),
    };
  },
});

// ---- The portable reference ----------------------------------------------------------------------

/** This file's ops pass Tensors to runKernel, and the engine hands them to the kernel as they are. */
function tensorInputs(inputs: NamedTensorInfoMap): Record<string, tf.Tensor> {
  return inputs as unknown as Record<string, tf.Tensor>;
}

function referenceTraining({ inputs, attrs }: Parameters<KernelFunc>[0]): tf.Tensor[] {
  const { z, bias, scale, offset, runningMean, runningVar } = tensorInputs(inputs);
  const { momentum, epsilon } = attrs as unknown as BatchNormConstants;
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(z, [0, 1, 2]);
    const y = tf.batchNorm(z, mean, variance, offset, scale, epsilon);
    const count = z.size / scale.size;
    const running = updatedRunningStatistics(runningMean, runningVar, tf.add(mean, bias), variance, count, momentum);
    // Saved for the backward pass: the batch mean of z and 1 / sqrt(variance + eps).
    return [y, ...running, mean, tf.rsqrt(tf.add(variance, epsilon))];
  });
}

function referenceTrainingGrad({ inputs }: Parameters<KernelFunc>[0]): tf.Tensor[] {
  const { dy, z, scale, saved0: mean, saved1: invStd } = tensorInputs(inputs);
  return tf.tidy(() => {
    const count = dy.size / scale.size;
    const normalised = tf.mul(tf.sub(z, mean), invStd);
    const dOffset = tf.sum(dy, [0, 1, 2]);
    const dScale = tf.sum(tf.mul(dy, normalised), [0, 1, 2]);
    // dL/dz = gamma / sigma (dy - mean(dy) - x_hat mean(dy x_hat)): Algorithm 1 differentiated
    // through the batch mean and variance (Ioffe & Szegedy 2015, section 3).
    const centred = tf.sub(tf.sub(dy, tf.div(dOffset, count)), tf.mul(normalised, tf.div(dScale, count)));
    return [tf.mul(centred, tf.mul(scale, invStd)), dScale, dOffset];
  });
}

function referenceInference({ inputs, attrs }: Parameters<KernelFunc>[0]): tf.Tensor {
  const { z, bias, scale, offset, runningMean, runningVar } = tensorInputs(inputs);
  const { epsilon } = attrs as unknown as BatchNormConstants;
  return tf.tidy(() => tf.batchNorm(z, tf.sub(runningMean, bias), runningVar, offset, scale, epsilon));
}

/** The portable reference kernels for `backendName`: tf ops, which that backend runs with its own kernels. */
export function referenceKernelConfigs(backendName: string): KernelConfig[] {
  return [
    { kernelName: BatchNormAfterBiasTraining, backendName, kernelFunc: referenceTraining },
    { kernelName: BatchNormAfterBiasTrainingGrad, backendName, kernelFunc: referenceTrainingGrad },
    { kernelName: BatchNormAfterBiasInference, backendName, kernelFunc: referenceInference },
  ];
}
