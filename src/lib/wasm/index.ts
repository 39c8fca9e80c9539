/**
 * What the WebAssembly backend needs to train ContextUnet, installed once before it activates:
 * kernels it lacks or gets wrong, and its threads in Node.
 *
 *   Conv2DBackpropFilter  missing in tfjs-backend-wasm 4.22 (training threw "not registered")
 *   Conv2DBackpropInput   present but a plain loop, ~8x slower than the XNNPACK convolution here
 *   MaxPoolGrad           present but wrong: windows of all-negative values got no gradient
 *   Tile                  present but ~17x slower than a broadcasting multiply (BatchNorm's gradient)
 *   BatchMatMul           present, but a scalar loop when an operand is transposed (matMul gradients)
 *   Identity              present, but copies: every tensor saved for backprop was stored twice
 *
 * Every other kernel a training step of the model runs (FusedConv2D, _FusedMatMul, Erf,
 * FusedBatchNorm, AvgPoolGrad, ...) is wasm's own; test/wasm checks them against the cpu backend.
 */
import "@tensorflow/tfjs-backend-wasm"; // its kernels register first; ours replace or wrap them
import * as tf from "@tensorflow/tfjs-core";
import { batchMatMulConfig } from "./batchMatMul";
import { conv2dBackpropFilterConfig } from "./conv2dBackpropFilter";
import { conv2dBackpropInputConfig } from "./conv2dBackpropInput";
import { identityConfig } from "./identity";
import { maxPoolGradConfig } from "./maxPoolGrad";
import { tileConfig } from "./tile";
import { keepWasmOwnKernel } from "./wasmOwnKernels";
import { disableWasmThreads, enableWasmThreads, wasmThreadsInUse } from "./threads";

export {
  WASM_THREADS_ENV,
  defaultWasmThreads,
  disableWasmThreads,
  enableWasmThreads,
  wasmThreadsInUse,
} from "./threads";

const TRAINING_KERNELS: tf.KernelConfig[] = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  maxPoolGradConfig,
  tileConfig,
  batchMatMulConfig,
  identityConfig,
];

/** Registers this folder's kernels for the "wasm" backend (replacing wasm's own); safe to call again. */
export function registerWasmTrainingKernels(): void {
  for (const config of TRAINING_KERNELS) {
    const present = tf.getKernel(config.kernelName, "wasm");
    if (present === config) continue;
    if (present !== undefined) {
      keepWasmOwnKernel(present);
      tf.unregisterKernel(config.kernelName, "wasm");
    }
    tf.registerKernel(config);
  }
}

export interface WasmStart {
  /** Threads XNNPACK runs on (1 = single-threaded). */
  threads: number;
  /** One line on how it started, e.g. why threads are off. */
  note: string;
}

/**
 * Registers the training kernels and makes "wasm" the active backend, multi-threaded when Node
 * allows it (see threads.ts), else single-threaded. Throws when wasm cannot start at all.
 */
export async function startWasmBackend(): Promise<WasmStart> {
  registerWasmTrainingKernels();
  const requested = enableWasmThreads();
  if (await tf.setBackend("wasm")) {
    const threads = wasmThreadsInUse();
    const note = threads > 1 ? `${threads} threads` : requested > 1 ? `1 thread (asked for ${requested})` : "1 thread";
    return { threads, note };
  }
  if (requested > 1) {
    disableWasmThreads();
    if (await tf.setBackend("wasm")) {
      return { threads: 1, note: `1 thread: the threaded build failed to start (its warning is above)` };
    }
  }
  throw new Error('tf.setBackend("wasm") failed (its warning is above); the wasm backend cannot start here.');
}
