/**
 * The library's activation and GroupNorm kernels (../model/activationKernels.ts,
 * ../model/groupNormKernels.ts) for native TensorFlow, as the library's own TensorFlow ops
 * (src/native: one pass per activation, two per GroupNorm), in place of tfjs-core's composites:
 * GELU's twelve kernels forward and back took about 135 ms of a 676 ms ContextUnet training step at
 * batch 100 (bench/results/profile-train.md).
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { KernelConfig, KernelFunc } from "@tensorflow/tfjs-core";
import { GeluExact, GeluExactGrad, Silu, SiluGrad } from "../model/activationKernels";
import { GroupNormChannelsLast, GroupNormChannelsLastGrad } from "../model/groupNormKernels";
import type { NativeAttr, NativeBackend } from "./native";

type KernelArgs = Parameters<KernelFunc>[0];

/**
 * A kernel running native op `op` on the kernel's inputs `names`, in that order, with the kernel's
 * attributes `ints` and `floats` passed on as TensorFlow int and float attributes.
 */
function nativeKernel(op: string, names: string[], outputs: number, ints: string[] = [], floats: string[] = []): KernelFunc {
  return ({ inputs, attrs, backend }: KernelArgs) => {
    const native = backend as NativeBackend;
    const tensors = names.map((name) => (inputs as unknown as Record<string, tf.Tensor>)[name]);
    const values = attrs as unknown as Record<string, number>;
    const nativeAttrs: NativeAttr[] = [
      ...ints.map((name) => ({ name, type: native.binding.TF_ATTR_INT, value: values[name] })),
      ...floats.map((name) => ({ name, type: native.binding.TF_ATTR_FLOAT, value: values[name] })),
    ];
    const results = native.executeMultipleOutputs(op, nativeAttrs, tensors, outputs);
    return outputs === 1 ? results[0] : results;
  };
}

/** Native op -> kernel: the ops the addon must have registered for these kernels. */
export const FUSED_OP_KERNELS: Array<{ op: string; config: KernelConfig }> = [
  { op: "SpriteGelu", config: { kernelName: GeluExact, backendName: "tensorflow", kernelFunc: nativeKernel("SpriteGelu", ["x"], 1) } },
  { op: "SpriteGeluGrad", config: { kernelName: GeluExactGrad, backendName: "tensorflow", kernelFunc: nativeKernel("SpriteGeluGrad", ["dy", "x"], 1) } },
  { op: "SpriteSilu", config: { kernelName: Silu, backendName: "tensorflow", kernelFunc: nativeKernel("SpriteSilu", ["x"], 1) } },
  { op: "SpriteSiluGrad", config: { kernelName: SiluGrad, backendName: "tensorflow", kernelFunc: nativeKernel("SpriteSiluGrad", ["dy", "x"], 1) } },
  {
    op: "SpriteGroupNorm",
    config: {
      kernelName: GroupNormChannelsLast,
      backendName: "tensorflow",
      kernelFunc: nativeKernel("SpriteGroupNorm", ["x", "gamma", "beta"], 3, ["groups"], ["epsilon"]),
    },
  },
  {
    op: "SpriteGroupNormGrad",
    config: {
      kernelName: GroupNormChannelsLastGrad,
      backendName: "tensorflow",
      kernelFunc: nativeKernel("SpriteGroupNormGrad", ["dy", "x", "gamma", "mean", "rstd"], 3, ["groups"]),
    },
  },
];
