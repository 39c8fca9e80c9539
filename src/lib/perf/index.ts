/**
 * What native TensorFlow (@tensorflow/tfjs-node) registers when it starts: TensorFlow's fused
 * kernels (fusedBatchNorm.ts) for the model's own kernels, in place of the portable reference
 * the other backends run (../model/batchNormKernels.ts). The model calls the same kernels on every
 * backend and never knows which implementation answers.
 *
 * SPRITE_DIFFUSION_FUSED=0 (or registerNativeKernels(false)) keeps the portable reference on
 * native TensorFlow too, to compare.
 */
import { referenceKernelConfigs, registerKernelConfigs } from "../model/batchNormKernels";
import { FUSED_BATCH_NORM_KERNELS } from "./fusedBatchNorm";

/** Whether $SPRITE_DIFFUSION_FUSED leaves the fused kernels on (the default). */
function fusedKernelsWanted(): boolean {
  return !/^(0|false|off|no)$/i.test(process.env.SPRITE_DIFFUSION_FUSED ?? "");
}

/** Registers the "tensorflow" backend's kernels: fused (default) or the portable reference; safe to call again. */
export function registerNativeKernels(fused = fusedKernelsWanted()): void {
  registerKernelConfigs(fused ? FUSED_BATCH_NORM_KERNELS : referenceKernelConfigs("tensorflow"));
}
