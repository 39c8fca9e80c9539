/**
 * The wasm backend's own kernels that this folder replaces but still delegates to for the cases
 * they do well. tfjs runs a kernel's setupFunc (which binds its C function) when the backend
 * initialises, for the configs registered then; a replacing config therefore forwards its
 * setupFunc to the original, so the original works whichever was registered first.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelConfig, KernelFunc, KernelSetupFunc } from "@tensorflow/tfjs-core";

const originals = new Map<string, KernelConfig>();

/** Keeps wasm's own config for a kernel before ours replaces it (the first one seen wins). */
export function keepWasmOwnKernel(config: KernelConfig): void {
  if (!originals.has(config.kernelName)) originals.set(config.kernelName, config);
}

/** A setupFunc that sets up wasm's own kernel of this name, for a config that delegates to it. */
export function setUpWasmOwn(kernelName: string): KernelSetupFunc {
  return (backend) => originals.get(kernelName)?.setupFunc?.(backend);
}

/** Runs wasm's own kernel; throws if it was never kept (the package was not loaded first). */
export function runWasmOwn(kernelName: string, args: Parameters<KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
  const original = originals.get(kernelName);
  if (original === undefined) {
    throw new Error(
      `${kernelName} (wasm, sprite-diffusion): wasm's own kernel was not kept; ` +
        "import @tensorflow/tfjs-backend-wasm before calling registerWasmTrainingKernels().",
    );
  }
  return original.kernelFunc(args);
}
