/**
 * The model's BatchNorm kernels (../model/batchNormKernels.ts: conv bias + BatchNorm2d, the bias
 * folded in) as TensorFlow's fused kernels, for the native backend. Training runs one
 * FusedBatchNormV3 forward (batch statistics and the momentum update of the running ones, with the
 * unbiased variance, as PyTorch) and one FusedBatchNormGradV3 backward, in place of tfjs-core's
 * ~25 elementwise ops and reductions over the full activation; inference, the FusedBatchNorm
 * kernel tfjs's tf.batchNorm runs, called directly (tfjs adds a reshape around it).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelConfig, KernelFunc } from "@tensorflow/tfjs-core";
import {
  BatchNormAfterBiasInference,
  BatchNormAfterBiasTraining,
  BatchNormAfterBiasTrainingGrad,
  type BatchNormConstants,
} from "../model/batchNormKernels";
import { type NativeAttr, type NativeBackend, floatTypeAttrs } from "./native";

type KernelArgs = Parameters<KernelFunc>[0];

/** What a kernel here is handed: the native backend, the op's Tensors, its constants. */
function unpack({ inputs, attrs, backend }: KernelArgs) {
  return {
    native: backend as NativeBackend,
    x: inputs as unknown as Record<string, tf.Tensor>,
    constants: attrs as unknown as BatchNormConstants,
  };
}

/** The attributes the FusedBatchNorm family shares; `types` names the float type attributes. */
function batchNormAttrs(native: NativeBackend, epsilon: number, training: boolean, ...types: string[]): NativeAttr[] {
  const binding = native.binding;
  return [
    ...floatTypeAttrs(native, ...types),
    { name: "epsilon", type: binding.TF_ATTR_FLOAT, value: epsilon },
    { name: "data_format", type: binding.TF_ATTR_STRING, value: "NHWC" },
    { name: "is_training", type: binding.TF_ATTR_BOOL, value: training },
  ];
}

function fusedTraining(args: KernelArgs): tf.Tensor[] {
  const { native, x, constants } = unpack(args);
  const attrs = [
    ...batchNormAttrs(native, constants.epsilon, true, "T", "U"),
    { name: "exponential_avg_factor", type: native.binding.TF_ATTR_FLOAT, value: constants.momentum },
  ];
  return tf.tidy(() => {
    // The kernel blends its inputs as running statistics: feed running_mean - b so that its
    // (1 - m) (running_mean - b) + m mean(z), plus b, is (1 - m) running_mean + m mean(z + b).
    const shiftedMean = tf.sub(x.runningMean, x.bias);
    const inputs = [x.z, x.scale, x.offset, shiftedMean, x.runningVar];
    const [y, newMean, newVar, ...reserves] = native.executeMultipleOutputs("FusedBatchNormV3", attrs, inputs, 6);
    return [y, tf.add(newMean, x.bias), newVar, ...reserves];
  });
}

function fusedTrainingGrad(args: KernelArgs): tf.Tensor[] {
  const { native, x, constants } = unpack(args);
  const attrs = batchNormAttrs(native, constants.epsilon, true, "T", "U");
  const inputs = [x.dy, x.z, x.scale, x.saved0, x.saved1, x.saved2];
  // Tidy: the kernel's two extra outputs (reserve spaces) are not wanted.
  return tf.tidy(() => native.executeMultipleOutputs("FusedBatchNormGradV3", attrs, inputs, 5).slice(0, 3));
}

function fusedInference(args: KernelArgs): tf.Tensor {
  const { native, x, constants } = unpack(args);
  const attrs = batchNormAttrs(native, constants.epsilon, false, "T");
  return tf.tidy(() => {
    const mean = tf.sub(x.runningMean, x.bias);
    return native.executeMultipleOutputs("FusedBatchNorm", attrs, [x.z, x.scale, x.offset, mean, x.runningVar], 5)[0];
  });
}

/** The three kernels for the "tensorflow" backend. */
export const FUSED_BATCH_NORM_KERNELS: KernelConfig[] = [
  { kernelName: BatchNormAfterBiasTraining, backendName: "tensorflow", kernelFunc: fusedTraining },
  { kernelName: BatchNormAfterBiasTrainingGrad, backendName: "tensorflow", kernelFunc: fusedTrainingGrad },
  { kernelName: BatchNormAfterBiasInference, backendName: "tensorflow", kernelFunc: fusedInference },
];
