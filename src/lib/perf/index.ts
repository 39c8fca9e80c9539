/**
 * What native TensorFlow (@tensorflow/tfjs-node) registers when it starts: TensorFlow's fused
 * kernels for the model's BatchNorm (fusedBatchNorm.ts) in place of the portable reference the
 * other backends run (../model/batchNormKernels.ts), and, when the library's own ops are built
 * (fusedOpsAddon.ts), one-pass GELU and SiLU and a two-pass GroupNorm (fusedOpKernels.ts) in place
 * of tfjs-core's composites. The models call the same functions on every backend and never know
 * which implementation answers.
 *
 * SPRITE_DIFFUSION_FUSED=0 (or registerNativeKernels(false)) keeps the portable versions on
 * native TensorFlow too, to compare.
 */
import * as tf from "@tensorflow/tfjs-core";
import { referenceKernelConfigs, registerKernelConfigs } from "../model/batchNormKernels";
import { FUSED_BATCH_NORM_KERNELS } from "./fusedBatchNorm";
import { FUSED_OP_KERNELS } from "./fusedOpKernels";
import { loadFusedOps } from "./fusedOpsAddon";

/** Whether $SPRITE_DIFFUSION_FUSED leaves the fused kernels on (the default). */
function fusedKernelsWanted(): boolean {
  return !/^(0|false|off|no)$/i.test(process.env.SPRITE_DIFFUSION_FUSED ?? "");
}

/**
 * Registers the "tensorflow" backend's kernels: fused (default) or the portable versions; safe to
 * call again. Returns what runs fused: "BatchNorm, GELU, SiLU, GroupNorm", or "BatchNorm" with why
 * the library's ops are not there, or "none".
 */
export function registerNativeKernels(fused = fusedKernelsWanted()): string {
  registerKernelConfigs(fused ? FUSED_BATCH_NORM_KERNELS : referenceKernelConfigs("tensorflow"));
  const addon = fused ? loadFusedOps() : null;
  const ops = addon && "ops" in addon ? addon.ops : [];
  const present = FUSED_OP_KERNELS.filter(({ op }) => ops.includes(op));
  for (const { config } of FUSED_OP_KERNELS) {
    if (present.some((p) => p.config === config)) registerKernelConfigs([config]);
    else if (tf.getKernel(config.kernelName, "tensorflow")) tf.unregisterKernel(config.kernelName, "tensorflow");
  }
  if (!fused) return "none";
  if (present.length === FUSED_OP_KERNELS.length) return "BatchNorm, GELU, SiLU, GroupNorm";
  const why = addon && "unavailable" in addon ? addon.unavailable : `the addon lacks ${FUSED_OP_KERNELS.filter((k) => !present.includes(k)).map((k) => k.op).join(", ")}`;
  return `BatchNorm (GELU, SiLU and GroupNorm as tf ops: ${why})`;
}
