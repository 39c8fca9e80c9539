/**
 * GELU with a hand-written gradient, for the native backend (Hendrycks & Gimpel 2016):
 *   gelu(x)  = x Phi(x),  Phi(x) = 0.5 (1 + erf(x / sqrt 2))
 *   gelu'(x) = Phi(x) + x phi(x) = Phi(x) + z exp(-z^2) / sqrt(pi),  z = x / sqrt 2
 * The forward is the composite's five kernels (x Phi(x) here and (0.5 x)(1 + erf) there differ
 * only by exact halvings: bit-identical values); the backward is seven kernels, against about
 * twelve for tfjs-core's autodiff of the composite, and keeps only z and Phi(x). (TensorFlow's
 * Erfc would save a kernel but is ten times slower than Erf on the CPU.)
 */
import * as tf from "@tensorflow/tfjs-core";
import { constant } from "./native";

const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);

/** GELU of x (any shape), the exact-erf form PyTorch's nn.GELU() computes; caller owns the result. */
export function geluNative(x: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const z = tf.mul(input, constant(Math.SQRT1_2));
    const cdf = tf.mul(tf.add(constant(1), tf.erf(z)), constant(0.5));
    save([z, cdf]);
    // tfjs runs a custom gradient inside the whole backward pass's scope: tidy here, or every
    // temporary would live until the last gradient is done.
    const gradFunc = (dy: tf.Tensor, [zSaved, cdfSaved]: tf.Tensor[]) =>
      tf.tidy(() => {
        const density = tf.mul(tf.mul(tf.exp(tf.neg(tf.square(zSaved))), zSaved), constant(INV_SQRT_PI));
        return tf.mul(dy, tf.add(cdfSaved, density));
      });
    return { value: tf.mul(input, cdf), gradFunc };
  });
  return op(x);
}
