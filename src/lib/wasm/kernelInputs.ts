/**
 * What the kernels in this folder share: they are written with TensorFlow.js ops, which the
 * engine dispatches to the wasm backend's own kernels. A kernelFunc runs with the gradient tape
 * off (the engine raises its kernel depth), so these inner ops are never recorded; each kernel
 * wraps its work in tf.tidy and returns a Tensor, which the engine adopts as the op's output
 * as it is (it only wraps bare TensorInfos).
 */
import * as tf from "@tensorflow/tfjs-core";

/** The engine hands ops' inputs to kernels as Tensors; anything else is a caller we do not support. */
export function inputTensor<R extends tf.Rank>(
  info: tf.TensorInfo | undefined,
  name: string,
  kernel: string,
): tf.Tensor<R> {
  if (!(info instanceof tf.Tensor)) {
    const what = info === undefined ? "missing" : "a bare TensorInfo";
    throw new Error(
      `${kernel} (wasm, sprite-diffusion): input "${name}" is ${what}; ` +
        "this kernel is built from tf ops and must be called through tf.engine().runKernel with Tensor inputs.",
    );
  }
  return info as tf.Tensor<R>;
}

/** NHWC only: the wasm backend's convolutions support no other layout. */
export function requireChannelsLast(dataFormat: string | undefined, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== "NHWC" && dataFormat !== "channelsLast") {
    throw new Error(`${kernel} (wasm, sprite-diffusion): dataFormat "${dataFormat}" is not supported; use NHWC.`);
  }
}
