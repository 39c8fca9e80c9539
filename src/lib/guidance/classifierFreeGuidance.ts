/**
 * Classifier-free guidance (Ho & Salimans 2022) as a transform of the noise model: the sampling
 * loops stay as they are and call the guided model in place of the plain one. The course's
 * context model was trained with 10 % of its contexts dropped to the zero vector, so the same
 * network predicts both eps(x_t, t, c) and the unconditional eps(x_t, t) (context = zeros).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NoiseModel } from "../diffusion/sampling";

/** Throws unless w is a finite number >= 0 (0 = unguided: the model's own prediction). */
export function checkGuidanceWeight(w: number): void {
  if (typeof w !== "number" || !Number.isFinite(w) || w < 0) {
    throw new Error(`Classifier-free guidance: the weight w must be a finite number >= 0 (0 = no guidance; 1 to 4 sharpens the classes), got ${w}.`);
  }
}

/** `context`, checked: throws unless it is [n, K] for a batch of n (guidance needs a context to steer to). */
function guidedContext(context: tf.Tensor2D | null, n: number, w: number): tf.Tensor2D {
  if (context === null) {
    throw new Error(`Classifier-free guidance (w = ${w}) needs a context to steer to, got null: pass one context vector per sample (e.g. one-hot classes) to a model trained with context dropout, or use classifier guidance for an unconditional model.`);
  }
  if (context.rank !== 2 || context.shape[0] !== n) {
    throw new Error(`Classifier-free guidance: context has shape [${context.shape}], expected [${n}, K] (one vector per sample).`);
  }
  return context;
}

/** The doubled batch [x; x] [2N, H, W, C] with contexts [c; 0] [2N, K]: the conditional and unconditional halves. */
function doubledBatch(x: tf.Tensor4D, context: tf.Tensor2D): [tf.Tensor4D, tf.Tensor2D] {
  return [tf.concat([x, x]) as tf.Tensor4D, tf.concat([context, tf.zerosLike(context)]) as tf.Tensor2D];
}

/** Ho & Salimans 2022, eq. 6 on the doubled batch's eps [2N, H, W, C]: (1 + w) eps(x, c) - w eps(x, none), [N, H, W, C]. */
function guidedNoise(both: tf.Tensor4D, w: number): tf.Tensor4D {
  const [conditional, unconditional] = tf.split(both, 2);
  return tf.sub(tf.mul(conditional, 1 + w), tf.mul(unconditional, w)) as tf.Tensor4D;
}

/**
 * The model guided with weight w (Ho & Salimans 2022, eq. 6):
 *   eps~(x_t, t, c) = (1 + w) eps(x_t, t, c) - w eps(x_t, t, none),  none = the zero context.
 * Both predictions come from one forward pass on the doubled batch [x; x] with contexts [c; 0],
 * so a guided step costs one call on 2N images instead of two calls on N. Contexts may be any
 * vectors [N, K] (one-hot classes or mixes). w = 0 returns `model` itself (the unguided path, bit
 * for bit). The guided predictNoise throws when its context is null: guidance needs a context
 * model and a context to steer to. When `model` predicts asynchronously (predictNoiseAsync: ONNX
 * Runtime's OnnxNoiseModel), so does the guided model, with the same doubled batch and the same
 * eq. 6, and the samplers await it. Like every NoiseModel, it returns a tensor the caller owns.
 */
export function withClassifierFreeGuidance(model: NoiseModel, w: number): NoiseModel {
  checkGuidanceWeight(w);
  if (w === 0) return model;
  const predictAsync = model.predictNoiseAsync?.bind(model);
  return {
    predictNoise(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null): tf.Tensor4D {
      const steerTo = guidedContext(context, x.shape[0], w);
      return tf.tidy(() => {
        const [doubledX, contexts] = doubledBatch(x, steerTo);
        return guidedNoise(model.predictNoise(doubledX, tFraction, contexts), w);
      });
    },
    ...(predictAsync
      ? {
          async predictNoiseAsync(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null): Promise<tf.Tensor4D> {
            const steerTo = guidedContext(context, x.shape[0], w);
            // The inner eps is awaited outside any tf.tidy (a scope never spans an await).
            const [doubledX, contexts] = tf.tidy(() => doubledBatch(x, steerTo));
            let both: tf.Tensor4D;
            try {
              both = await predictAsync(doubledX, tFraction, contexts);
            } finally {
              tf.dispose([doubledX, contexts]);
            }
            try {
              return tf.tidy(() => guidedNoise(both, w));
            } finally {
              both.dispose();
            }
          },
        }
      : {}),
  };
}
