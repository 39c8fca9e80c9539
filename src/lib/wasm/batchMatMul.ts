/**
 * BatchMatMul for the wasm backend, wrapping its own: that one runs XNNPACK only for batch-1
 * products with neither operand transposed, and a scalar triple loop otherwise. Every matMul
 * gradient asks for a transposed operand (da = dy b^T, db = a^T dy), so ContextUnet's transposed
 * convolutions and linear layers trained in the loop. Here a transposed operand is transposed
 * explicitly (a memory copy), and the product goes to XNNPACK:
 *
 *   matMul(a, b, transposeA, transposeB) = matMul(transposeA ? a^T : a, transposeB ? b^T : b)
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  BatchMatMul,
  type BatchMatMulAttrs,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
} from "@tensorflow/tfjs-core";
import { inputTensor } from "./kernelInputs";
import { runWasmOwn, setUpWasmOwn } from "./wasmOwnKernels";

/** Swaps the last two axes. */
function transposeInner(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, axis) => axis);
  [perm[t.rank - 2], perm[t.rank - 1]] = [perm[t.rank - 1], perm[t.rank - 2]];
  return tf.transpose(t, perm);
}

function batchMatMul(args: Parameters<KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  if (!transposeA && !transposeB) return runWasmOwn(BatchMatMul, args);
  const a = inputTensor(args.inputs.a, "a", BatchMatMul);
  const b = inputTensor(args.inputs.b, "b", BatchMatMul);
  // The inner matMul comes back to this kernel untransposed, and goes to wasm's own.
  return tf.tidy(() => tf.matMul(transposeA ? transposeInner(a) : a, transposeB ? transposeInner(b) : b));
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: BatchMatMul,
  backendName: "wasm",
  setupFunc: setUpWasmOwn(BatchMatMul),
  kernelFunc: batchMatMul as unknown as KernelFunc,
};
