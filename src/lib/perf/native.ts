/**
 * TensorFlow's own kernels, reached directly when the active backend is native TensorFlow
 * (@tensorflow/tfjs-node). tfjs-core builds BatchNorm training and its gradient out of a dozen
 * elementwise ops and reductions; TensorFlow has fused kernels for them (FusedBatchNormV3 and its
 * gradient), and the library adds its own ops where TensorFlow has none (src/native: GELU, SiLU,
 * GroupNorm). The kernels in this folder call them through tfjs-node's binding, and are registered
 * for the "tensorflow" backend only (index.ts).
 */
import type * as tf from "@tensorflow/tfjs-core";

/** An attribute of a TensorFlow op, as tfjs-node's binding takes it. */
export interface NativeAttr {
  name: string;
  type: number;
  value: number | boolean | string | number[];
}

interface NativeBinding {
  TF_ATTR_TYPE: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_STRING: number;
  TF_FLOAT: number;
}

/** The part of tfjs-node's NodeJSKernelBackend used here (what a "tensorflow" kernel is handed). */
export interface NativeBackend {
  binding: NativeBinding;
  /** Runs TensorFlow op `name`; the outputs are new tensors tracked by the current tf.tidy scope. */
  executeMultipleOutputs(name: string, attrs: NativeAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
}

/** The float32 type attribute(s) most ops take: T (and U for the BatchNorm family). */
export function floatTypeAttrs(native: NativeBackend, ...names: string[]): NativeAttr[] {
  return names.map((name) => ({ name, type: native.binding.TF_ATTR_TYPE, value: native.binding.TF_FLOAT }));
}
