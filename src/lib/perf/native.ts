/**
 * TensorFlow's own kernels, reached directly when the active backend is native TensorFlow
 * (@tensorflow/tfjs-node). tfjs-core builds BatchNorm training, GELU and their gradients out of
 * a dozen elementwise ops each; TensorFlow has fused kernels for some of them (FusedBatchNormV3
 * and its gradient) and ops tfjs-core lacks (Erfc). The fused layers in this folder use them
 * only on that backend; on every other backend the library's composite code runs unchanged.
 *
 * SPRITE_DIFFUSION_FUSED=0 (or setFusedKernels(false)) turns the fused paths off, to compare.
 */
import * as tf from "@tensorflow/tfjs-core";

/** An attribute of a TensorFlow op, as tfjs-node's binding takes it. */
export interface NativeAttr {
  name: string;
  type: number;
  value: number | boolean | string | number[];
}

interface NativeBinding {
  TF_ATTR_TYPE: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_STRING: number;
  TF_FLOAT: number;
}

/** The part of tfjs-node's NodeJSKernelBackend used here. */
export interface NativeBackend {
  binding: NativeBinding;
  /** Runs TensorFlow op `name`; the outputs are new tensors tracked by the current tf.tidy scope. */
  executeMultipleOutputs(name: string, attrs: NativeAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
  executeSingleOutput(name: string, attrs: NativeAttr[], inputs: tf.Tensor[]): tf.Tensor;
}

let enabled = !/^(0|false|off|no)$/i.test(process.env.SPRITE_DIFFUSION_FUSED ?? "");

/** Turns the fused native paths on or off (they are on by default where available). */
export function setFusedKernels(on: boolean): void {
  enabled = on;
}

/** The native TensorFlow backend when it is active and fused paths are on, else null. */
export function fusedNative(): NativeBackend | null {
  if (!enabled || tf.getBackend() !== "tensorflow") return null;
  const backend = tf.backend() as unknown as Partial<NativeBackend>;
  return typeof backend.executeMultipleOutputs === "function" && backend.binding ? (backend as NativeBackend) : null;
}

/** The float32 type attribute(s) most ops take: T (and U for the BatchNorm family). */
export function floatTypeAttrs(native: NativeBackend, ...names: string[]): NativeAttr[] {
  return names.map((name) => ({ name, type: native.binding.TF_ATTR_TYPE, value: native.binding.TF_FLOAT }));
}

const constants = new Map<string, tf.Scalar>();
let constantsBackend: unknown = null;

/**
 * A float32 scalar made once per backend and kept (never dispose it): tfjs otherwise uploads a
 * new scalar tensor for every `tf.mul(x, 0.5)`, which shows up in per-op profiles.
 */
export function constant(value: number): tf.Scalar {
  const backend = tf.backend();
  if (constantsBackend !== backend) {
    tf.dispose([...constants.values()]);
    constants.clear();
    constantsBackend = backend;
  }
  const key = String(value);
  let scalar = constants.get(key);
  if (!scalar) {
    scalar = tf.keep(tf.scalar(value, "float32"));
    constants.set(key, scalar);
  }
  return scalar;
}
