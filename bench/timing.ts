/**
 * What the worker's cases share: synthetic batches, the timing of repetitions and of Trainer
 * steps, and one DDPM step of any noise model. Each returns times_ms and cpu_ms per timed repetition.
 */
import * as tf from "@tensorflow/tfjs-core";
import { sampleDdim } from "../src/lib/diffusion/sampling";
import type { Schedule } from "../src/lib/diffusion/schedule";
import { ddpmStep } from "../src/lib/diffusion/steps";
import { withClassifierFreeGuidance } from "../src/lib/guidance/classifierFreeGuidance";
import type { TrainableNoiseModel } from "../src/lib/model/trainableNoiseModel";
import { type OnnxExportable, OnnxNoiseModel } from "../src/lib/onnx/onnxNoiseModel";
import type { Trainer, TrainingData } from "../src/lib/train/trainer";

/** DDIM loops take 25 steps (the course's), on every network. */
export const DDIM_STEPS = 25;

/** Random images in [-1, 1] and one-hot labels, as the reference's make_batch (sprites: 16x16x3, 5 classes). */
export function syntheticBatch(n: number, seed: number, imageShape: readonly [number, number, number] = [16, 16, 3], classes = 5): { images: tf.Tensor4D; labels: tf.Tensor2D } {
  return tf.tidy(() => {
    const images = tf.randomUniform([n, ...imageShape], -1, 1, "float32", seed) as tf.Tensor4D;
    const labels = tf.randomUniform([n], 0, classes, "int32", seed + 1) as tf.Tensor1D;
    return { images, labels: tf.cast(tf.oneHot(labels, classes), "float32") as tf.Tensor2D };
  });
}

/** Runs `rep` warmup + reps times; times the last `reps`. */
export async function timeReps(warmup: number, reps: number, rep: () => Promise<void> | void) {
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await rep();
    const elapsed = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (i >= warmup) {
      times.push(elapsed);
      cpu.push((c.user + c.system) / 1000);
    }
  }
  return { times, cpu };
}

/** `steps` batches of one fixed batch (cloned per step, as a data set's batch is new tensors). */
export function fixedData(fixed: { images: tf.Tensor4D; labels: tf.Tensor2D }, steps: number): TrainingData {
  return { count: fixed.images.shape[0] * steps, batch: () => ({ images: fixed.images.clone(), labels: fixed.labels.clone() }) };
}

/** warmup + reps Trainer steps, the last `reps` timed between consecutive onStep calls (each step reads its loss back). */
export async function timeTrainer<M extends TrainableNoiseModel>(trainer: Trainer<M>, warmup: number, reps: number) {
  const times: number[] = [];
  const cpu: number[] = [];
  let c0 = process.cpuUsage();
  let t0 = performance.now();
  await trainer.run({
    onStep: ({ globalStep }) => {
      const c = process.cpuUsage(c0);
      if (globalStep > warmup) {
        times.push(performance.now() - t0);
        cpu.push((c.user + c.system) / 1000);
      }
      c0 = process.cpuUsage();
      t0 = performance.now();
    },
    // A config's run has several epochs; the bench stops after its steps.
    shouldStop: () => trainer.position.globalStep >= warmup + reps,
  });
  return { times, cpu };
}

/**
 * One DDPM step at t = T / 2 (the course's schedule: 250), batch = the context's or `batch`:
 * eval-mode forward + the course's update, clamped to +-5 as the reference.
 */
export async function timeDdpmStep(model: TrainableNoiseModel, schedule: Schedule, context: tf.Tensor2D | null, warmup: number, reps: number, batch = context?.shape[0] ?? 32) {
  let x = tf.randomNormal([batch, ...model.imageShape], 0, 1, "float32", 5) as tf.Tensor4D;
  const t = Math.floor(schedule.T / 2);
  let seed = 11;
  const result = await timeReps(warmup, reps, () => {
    const next = tf.tidy(() => {
      const z = tf.randomNormal(x.shape, 0, 1, "float32", seed++) as tf.Tensor4D;
      const predNoise = model.predictNoise(x, t / schedule.T, context);
      // The reference clamps to +-5 so repeated steps stay bounded.
      return tf.clipByValue(ddpmStep(x, predNoise, t, schedule, z), -5, 5) as tf.Tensor4D;
    });
    x.dispose();
    x = next;
    x.dataSync();
  });
  x.dispose();
  return result;
}

/** ONNX Runtime's intra-op threads in the bench: 2, as the PyTorch reference's. */
const ONNX_BENCH_THREADS = 2;

/**
 * timeDdpmStep's step with eps from `model`'s ONNX graph on ONNX Runtime (built once, before the
 * warm-up): the awaited predictNoiseAsync (x read back, ORT's run, eps uploaded), then the same
 * update on the TensorFlow.js backend, clamped to +-5.
 */
export async function timeOnnxDdpmStep(model: OnnxExportable, schedule: Schedule, context: tf.Tensor2D | null, warmup: number, reps: number, batch = context?.shape[0] ?? 32) {
  const onnx = await OnnxNoiseModel.fromNetwork(model, { threads: ONNX_BENCH_THREADS });
  let x = tf.randomNormal([batch, ...model.imageShape], 0, 1, "float32", 5) as tf.Tensor4D;
  const t = Math.floor(schedule.T / 2);
  let seed = 11;
  try {
    return await timeReps(warmup, reps, async () => {
      const predNoise = await onnx.predictNoiseAsync(x, t / schedule.T, context);
      const next = tf.tidy(() => {
        const z = tf.randomNormal(x.shape, 0, 1, "float32", seed++) as tf.Tensor4D;
        return tf.clipByValue(ddpmStep(x, predNoise, t, schedule, z), -5, 5) as tf.Tensor4D;
      });
      tf.dispose([predNoise, x]);
      x = next;
      x.dataSync();
    });
  } finally {
    x.dispose();
    await onnx.dispose();
  }
}

/**
 * DDIM-25 of `batch` images end to end (as the ddim cases, no frames kept) with eps from `model`'s
 * ONNX graph on ONNX Runtime: sampleDdim awaits predictNoiseAsync at every step (the session
 * built once, before the warm-up; the updates on the TensorFlow.js backend). guidanceWeight w > 0
 * guides it classifier-free (one doubled-batch ONNX run a step), as cfg-ddim does on TensorFlow.js.
 */
export async function timeOnnxDdim(
  model: OnnxExportable,
  schedule: Schedule,
  context: tf.Tensor2D | null,
  warmup: number,
  reps: number,
  batch = context?.shape[0] ?? 32,
  guidanceWeight = 0,
) {
  const onnx = await OnnxNoiseModel.fromNetwork(model, { threads: ONNX_BENCH_THREADS });
  const eps = guidanceWeight > 0 ? withClassifierFreeGuidance(onnx, guidanceWeight) : onnx;
  let seed = 11;
  try {
    return await timeReps(warmup, reps, async () => {
      const { samples, frames } = await sampleDdim(eps, schedule, { count: batch, seed: seed++ }, context, { steps: DDIM_STEPS, saveFrame: () => false });
      tf.dispose([samples, ...(frames ? [frames] : [])]);
    });
  } finally {
    await onnx.dispose();
  }
}
