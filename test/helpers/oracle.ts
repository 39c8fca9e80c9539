/**
 * The exact optimal noise predictor when the data is a finite set of points {p_k} with weights
 * w_k (no training involved). Given x_t ~ sqrt(ab) p_k + sqrt(1 - ab) eps:
 *   posterior   pi_k(x_t) = softmax_k( log w_k - ||x_t - sqrt(ab) p_k||^2 / (2 (1 - ab)) )
 *   E[x0 | x_t] = sum_k pi_k p_k
 *   eps*(x_t)   = (x_t - sqrt(ab) E[x0 | x_t]) / sqrt(1 - ab)      (Tweedie / eq. 4 solved for eps)
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NoiseModel } from "../../src/lib/diffusion/sampling";
import type { Schedule } from "../../src/lib/diffusion/schedule";

export class MixtureOracle implements NoiseModel {
  private readonly points: tf.Tensor2D;
  private readonly logWeights: tf.Tensor1D;
  calls = 0;

  constructor(
    points: Float32Array[],
    weights: number[],
    private readonly schedule: Schedule,
    private readonly imageShape: [number, number, number] = [16, 16, 3],
  ) {
    this.points = tf.keep(tf.tensor2d(points.flatMap((p) => Array.from(p)), [points.length, points[0].length]));
    this.logWeights = tf.keep(tf.tensor1d(weights.map(Math.log)));
  }

  predictNoise(x: tf.Tensor4D, tFraction: number): tf.Tensor4D {
    this.calls += 1;
    const t = Math.round(tFraction * this.schedule.T);
    const alphaBar = this.schedule.alphaBar[t];
    return tf.tidy(() => {
      const n = x.shape[0];
      const flat = tf.reshape(x, [n, -1]);
      const scaled = tf.mul(this.points, Math.sqrt(alphaBar));
      // ||x - s p||^2 = |x|^2 - 2 x.(s p) + |s p|^2, for every (sample, point) pair.
      const distances = tf.add(
        tf.sub(tf.sum(tf.square(flat), 1, true), tf.mul(2, tf.matMul(flat, scaled, false, true))),
        tf.sum(tf.square(scaled), 1),
      );
      const posterior = tf.softmax(tf.sub(this.logWeights, tf.div(distances, 2 * (1 - alphaBar))));
      const meanX0 = tf.matMul(posterior, this.points);
      const eps = tf.div(tf.sub(flat, tf.mul(meanX0, Math.sqrt(alphaBar))), Math.sqrt(1 - alphaBar));
      return tf.reshape(eps, [n, ...this.imageShape]) as tf.Tensor4D;
    });
  }

  dispose(): void {
    tf.dispose([this.points, this.logWeights]);
  }
}

/** A deterministic test image in [-amplitude, amplitude]: a smooth pattern, not noise. */
export function patternImage(phase: number, amplitude = 0.8, size = 16): Float32Array {
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        out[(y * size + x) * 3 + c] = amplitude * Math.sin(phase + 0.7 * x + 0.45 * y + 2.1 * c);
      }
    }
  }
  return out;
}

/**
 * The exact noise predictor for Gaussian data x0 ~ N(0, sigma^2 I): the posterior mean is linear,
 *   E[x0 | x_t] = sqrt(ab) sigma^2 x_t / (ab sigma^2 + 1 - ab),
 *   eps*(x_t)   = g_t x_t,  g_t = sqrt(1 - ab) / (ab sigma^2 + 1 - ab).
 */
export class GaussianOracle implements NoiseModel {
  constructor(
    readonly sigma: number,
    private readonly schedule: Schedule,
  ) {}

  gain(t: number): number {
    const ab = this.schedule.alphaBar[t];
    return Math.sqrt(1 - ab) / (ab * this.sigma ** 2 + 1 - ab);
  }

  predictNoise(x: tf.Tensor4D, tFraction: number): tf.Tensor4D {
    return tf.mul(x, this.gain(Math.round(tFraction * this.schedule.T)));
  }
}
