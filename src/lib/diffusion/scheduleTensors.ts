/**
 * Device copies of a schedule's per-step coefficients, made once per schedule (and backend)
 * and kept, so training and sampling loops gather per-sample values without re-uploading.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Schedule } from "./schedule";

export interface ScheduleTensors {
  /** [T + 1] sqrt(alphaBar_t). */
  sqrtAlphaBar: tf.Tensor1D;
  /** [T + 1] sqrt(1 - alphaBar_t). */
  sqrtOneMinusAlphaBar: tf.Tensor1D;
}

const cache = new WeakMap<Schedule, { backend: string; tensors: ScheduleTensors }>();

/** The schedule's coefficient tensors (kept by the library; never dispose them). */
export function scheduleTensors(schedule: Schedule): ScheduleTensors {
  const backend = tf.getBackend();
  const hit = cache.get(schedule);
  if (hit && hit.backend === backend && !hit.tensors.sqrtAlphaBar.isDisposed) return hit.tensors;
  const tensors = {
    sqrtAlphaBar: tf.keep(tf.tensor1d(Float32Array.from(schedule.sqrtAlphaBar))),
    sqrtOneMinusAlphaBar: tf.keep(tf.tensor1d(Float32Array.from(schedule.sqrtOneMinusAlphaBar))),
  };
  if (hit) tf.dispose([hit.tensors.sqrtAlphaBar, hit.tensors.sqrtOneMinusAlphaBar]);
  cache.set(schedule, { backend, tensors });
  return tensors;
}
