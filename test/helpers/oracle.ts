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
    private readonly shape: [number, number, number] = [16, 16, 3],
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
      return tf.reshape(eps, [n, ...this.shape]) as tf.Tensor4D;
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

/**
 * Two Gaussian classes, y = 0, 1 with priors 1/2: x0 | y ~ N(m_y, s^2 I). Then x_t | y ~
 * N(sqrt(ab) m_y, v I) with v = ab s^2 + 1 - ab, and everything guidance needs is closed-form:
 *   conditional   eps(x_t, y) = sqrt(1 - ab) (x_t - sqrt(ab) m_y) / v        (eps = -sqrt(1 - ab) score)
 *   posterior     p(y | x_t)  = softmax_y( log 1/2 - ||x_t - sqrt(ab) m_y||^2 / (2 v) )
 *   unconditional eps(x_t)    = sum_y p(y | x_t) eps(x_t, y)                   (the mixture's score)
 * As a NoiseModel the context selects: a one-hot row gives eps(x, y), a zero row (or null) the
 * unconditional eps, and a mixed row c the blend sum_y c_y eps(x, y) + (1 - sum_y c_y) eps(x).
 * As a NoisyClassifierModel its logits are the exact posterior's. Records each predictNoise batch size.
 */
export class TwoClassGaussianOracle implements NoiseModel {
  readonly classes = 2;
  private readonly means: tf.Tensor2D;
  private readonly logPrior = Math.log(0.5);
  readonly batchSizes: number[] = [];

  constructor(
    readonly meanImages: [Float32Array, Float32Array],
    readonly s: number,
    private readonly schedule: Schedule,
    private readonly shape: [number, number, number] = [16, 16, 3],
  ) {
    this.means = tf.keep(tf.tensor2d([...meanImages[0], ...meanImages[1]], [2, meanImages[0].length]));
  }

  /** ab and v at tFraction, as the models see it (t = round(tFraction T)). */
  private levels(tFraction: number): { ab: number; v: number } {
    const ab = this.schedule.alphaBar[Math.round(tFraction * this.schedule.T)];
    return { ab, v: ab * this.s ** 2 + 1 - ab };
  }

  /** [N, 2, D] x_t - sqrt(ab) m_y for both classes. */
  private offsets(x: tf.Tensor4D, ab: number): tf.Tensor3D {
    const flat = tf.reshape(x, [x.shape[0], 1, -1]);
    return tf.sub(flat, tf.mul(this.means, Math.sqrt(ab))) as tf.Tensor3D;
  }

  logits(x: tf.Tensor4D, tFraction: number): tf.Tensor2D {
    const { ab, v } = this.levels(tFraction);
    return tf.tidy(() => tf.sub(this.logPrior, tf.div(tf.sum(tf.square(this.offsets(x, ab)), 2), 2 * v)) as tf.Tensor2D);
  }

  predictNoise(x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null): tf.Tensor4D {
    this.batchSizes.push(x.shape[0]);
    const { ab, v } = this.levels(tFraction);
    return tf.tidy(() => {
      const n = x.shape[0];
      const perClass = tf.mul(this.offsets(x, ab), Math.sqrt(1 - ab) / v); // [N, 2, D]
      const posterior = tf.softmax(this.logits(x, tFraction)); // [N, 2]
      const unconditional = tf.sum(tf.mul(perClass, tf.expandDims(posterior, 2)), 1); // [N, D]
      const c = context ?? tf.zeros([n, 2]);
      const blended = tf.add(tf.sum(tf.mul(perClass, tf.expandDims(c, 2)), 1), tf.mul(unconditional, tf.sub(1, tf.sum(c, 1, true))));
      return tf.reshape(blended, [n, ...this.shape]) as tf.Tensor4D;
    });
  }

  dispose(): void {
    this.means.dispose();
  }
}
