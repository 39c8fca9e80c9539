/**
 * Classifier guidance (Dhariwal & Nichol 2021, Sec. 4) as a transform of the noise model: a
 * classifier of noisy images p(y | x_t, t) pushes every step toward class y along
 * g = grad_x log p(y | x_t, t). It needs no context model: an unconditional model (context null)
 * can be steered to any class the classifier knows. The sampling loops stay as they are.
 */
import * as tf from "@tensorflow/tfjs-core";
import "../gradients"; // tf.grad needs the registered gradient functions
import type { NoiseModel } from "../diffusion/sampling";
import type { SamplerName } from "../diffusion/samplers";
import { type LinearScheduleConfig, type Schedule, checkStep } from "../diffusion/schedule";
import type { NoisyClassifierModel } from "./noisyClassifierModel";

export interface ClassifierGuidanceOptions {
  /** The classifier of noisy images; its `classes` bounds the labels. */
  classifier: NoisyClassifierModel;
  /** The class y_i each sample i is steered to (0..classes - 1), one per sample. */
  labels: ArrayLike<number>;
  /** The gradient scale s >= 0 (0 = unguided; Dhariwal & Nichol use 1 to 10). */
  scale: number;
  /** The sampler the guided model will run in: it sets how the gradient enters eps (see guidanceCoefficient). */
  sampler: SamplerName;
}

/**
 * Throws unless the scale is finite and >= 0 and every label is a whole class index below
 * classifier.classes; with `count`, also unless there is one label per sample.
 */
export function checkClassifierGuidance(options: Omit<ClassifierGuidanceOptions, "sampler">, count?: number): void {
  const { classifier, labels, scale } = options;
  if (typeof scale !== "number" || !Number.isFinite(scale) || scale < 0) {
    throw new Error(`Classifier guidance: the scale s must be a finite number >= 0 (0 = no guidance; 1 to 10 steers harder), got ${scale}.`);
  }
  const bad = Array.from(labels).findIndex((y) => !Number.isInteger(y) || y < 0 || y >= classifier.classes);
  if (bad >= 0) {
    throw new Error(`Classifier guidance: label ${labels[bad]} at position ${bad} is not a class of the classifier (0..${classifier.classes - 1}); pass one class index per sample.`);
  }
  if (count !== undefined && labels.length !== count) {
    throw new Error(`Classifier guidance: ${labels.length} labels for ${count} samples; pass one label (the class to steer to) per sample.`);
  }
}

/** Throws unless the classifier scores `classes` classes, those of `what` (e.g. "the context model"). */
export function checkClassifierClasses(classifier: NoisyClassifierModel, classes: number, what: string): void {
  if (classifier.classes !== classes) {
    throw new Error(`Classifier guidance: the classifier scores ${classifier.classes} classes but ${what} has ${classes}; use a noisy classifier trained on the same ${classes} classes.`);
  }
}

/**
 * Throws unless the classifier was trained on the sampler's schedule (same T, beta_0 and beta_T):
 * the t / T it is told must mean the noise level the images are at.
 */
export function checkClassifierSchedule(trainedOn: LinearScheduleConfig, schedule: Schedule, what: string): void {
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));
  if (trainedOn.T !== schedule.T || !close(trainedOn.betaStart, schedule.beta[0]) || !close(trainedOn.betaEnd, schedule.beta[schedule.T])) {
    throw new Error(
      `Classifier guidance: the classifier was trained on T = ${trainedOn.T}, beta ${trainedOn.betaStart}..${trainedOn.betaEnd} but ${what} samples on ` +
        `T = ${schedule.T}, beta ${schedule.beta[0]}..${schedule.beta[schedule.T]}; its t / T would mean another noise level. Train the classifier on the same schedule.`,
    );
  }
}

/**
 * g = grad_x log p(y | x_t, t): the gradient with respect to x_t [N, H, W, C] of
 * sum_i logSoftmax(logits(x_t, t / T))[i, y_i], by autodiff through the classifier (the samples
 * do not interact, so row i of the sum's gradient is sample i's own). Returns [N, H, W, C], owned
 * by the caller.
 */
export function classifierGradient(classifier: NoisyClassifierModel, x: tf.Tensor4D, tFraction: number, labels: ArrayLike<number>): tf.Tensor4D {
  if (labels.length !== x.shape[0]) {
    throw new Error(`Classifier guidance: ${labels.length} labels for a batch of ${x.shape[0]}; pass one label (the class to steer to) per sample.`);
  }
  return tf.tidy(() => {
    const picks = tf.oneHot(tf.tensor1d(Array.from(labels), "int32"), classifier.classes);
    // Dhariwal & Nichol 2021, Sec. 4.1: log p_phi(y | x_t, t), summed over the batch.
    const logProbability = (input: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(classifier.logits(input as tf.Tensor4D, tFraction)), picks));
    return tf.grad(logProbability)(x) as tf.Tensor4D;
  });
}

/**
 * k_t in eps^ = eps - k_t s g, the shift of the predicted noise that guides the given sampler:
 * - DDIM (Dhariwal & Nichol 2021, Sec. 4.2 and Algorithm 2): k_t = sqrt(1 - alphaBar_t), the score
 *   shift grad log p(x_t | y) = grad log p(x_t) + g written in eps (eps = -sqrt(1 - ab_t) score).
 * - DDPM and ddpm-no-noise (their Algorithm 1): the mean moves to mu + s Sigma_t g, Sigma_t =
 *   beta_t. ddpmStep's mean is mu = (x - beta_t / sqrt(1 - ab_t) eps) / sqrt(alpha_t), so
 *   mu(eps^) = mu(eps) + s beta_t g needs -beta_t (eps^ - eps) / (sqrt(1 - ab_t) sqrt(alpha_t)) =
 *   s beta_t g, that is eps^ = eps - s sqrt(alpha_t) sqrt(1 - ab_t) g: k_t = sqrt(alpha_t) sqrt(1 - ab_t).
 */
export function guidanceCoefficient(schedule: Schedule, t: number, sampler: SamplerName): number {
  checkStep(schedule, t);
  if (sampler === "ddim") return schedule.sqrtOneMinusAlphaBar[t];
  if (sampler === "ddpm" || sampler === "ddpm-no-noise") return Math.sqrt(schedule.alpha[t]) * schedule.sqrtOneMinusAlphaBar[t];
  throw new Error(`Classifier guidance: unknown sampler "${sampler}"; use one of ddpm, ddim, ddpm-no-noise.`);
}

/**
 * The model guided by a classifier of noisy images: at t = round(tFraction * T),
 *   eps^(x_t, t) = eps(x_t, t, context) - k_t s grad_x log p(y | x_t, t)   (k_t: guidanceCoefficient)
 * with one label y_i per sample. The context is passed through unchanged (null for an
 * unconditional model; a classifier-free-guided model may be wrapped too). scale = 0 returns
 * `model` itself (the unguided path, bit for bit). Bad options throw here, and so does a model that
 * predicts asynchronously (ONNX Runtime's OnnxNoiseModel, or one guided classifier-free): classifier
 * guidance stays on TensorFlow.js. A batch whose size is not labels.length throws when predicted.
 * The guided predictNoise returns a tensor the caller owns.
 */
export function withClassifierGuidance(model: NoiseModel, schedule: Schedule, options: ClassifierGuidanceOptions): NoiseModel {
  checkClassifierGuidance(options);
  const { classifier, labels, scale, sampler } = options;
  guidanceCoefficient(schedule, schedule.T, sampler); // throws now, not mid-run, for an unknown sampler name
  if (scale === 0) return model;
  if (typeof model.predictNoiseAsync === "function") {
    throw new Error(
      "Classifier guidance runs on TensorFlow.js (the classifier's gradient by tf.grad, added to the model's synchronous predictNoise), " +
        "but this model predicts asynchronously (ONNX Runtime's OnnxNoiseModel): guide the TensorFlow.js network itself (on the command line, drop --onnx).",
    );
  }
  const fixedLabels = Array.from(labels);
  return {
    predictNoise(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null): tf.Tensor4D {
      const t = Math.round(tFraction * schedule.T);
      const shift = guidanceCoefficient(schedule, t, sampler) * scale;
      return tf.tidy(() => {
        const gradient = classifierGradient(classifier, x, tFraction, fixedLabels);
        // Dhariwal & Nichol 2021, Algorithm 2 (DDIM) / Algorithm 1 in eps form (DDPM): eps - k_t s g.
        return tf.sub(model.predictNoise(x, tFraction, context), tf.mul(gradient, shift)) as tf.Tensor4D;
      });
    },
  };
}
