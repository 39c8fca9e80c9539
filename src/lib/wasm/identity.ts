/**
 * Identity for the wasm backend, replacing its own, which copies the data. tfjs' engine clones
 * (runs Identity on) every tensor it saves for the backward pass, so with wasm's kernel a training
 * step duplicated each saved activation: measured on ContextUnet at batch 100, 907 copies a step.
 * Tensors are immutable, so the clone can share the buffer, counted by reference, exactly as the
 * cpu backend's Identity and wasm's own Reshape do.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Identity, type KernelConfig, type KernelFunc } from "@tensorflow/tfjs-core";
import { runWasmOwn } from "./wasmOwnKernels";

interface RefCountingBackend {
  incRef(dataId: object): void;
}

function identity(args: Parameters<KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x;
  if (x === undefined) throw new Error(`${Identity} (wasm, sprite-diffusion): input "x" is missing.`);
  // String tensors live outside the wasm heap; wasm's own kernel handles them.
  if (x.dtype === "string") return runWasmOwn(Identity, args);
  (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: "wasm",
  kernelFunc: identity as unknown as KernelFunc,
};
