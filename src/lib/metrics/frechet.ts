/**
 * Gaussian fits of feature vectors and the Frechet distance between two Gaussians, the quantity
 * behind FID (Heusel et al. 2017), here on a sprite classifier's features (SFD):
 *
 *   d^2 = ||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1^{1/2} S2 S1^{1/2})^{1/2})      (Dowson & Landau 1982)
 *
 * The trace term is the one FID code gets wrong most often (scipy.linalg.sqrtm of the non-symmetric
 * S1 S2 returns complex noise). Here it is computed from symmetric matrices only: A = S1^{1/2}
 * by eigen-decomposition, then M = A S2 A is symmetric PSD and tr(M^{1/2}) = sum sqrt(eig(M)).
 * (S1 S2 = A (A S2 A) A^{-1} is similar to M, so both have the same eigenvalues and trace root.)
 *
 * Like FID, the value reported is the squared distance d^2.
 */
import { multiply, sqrtPsd, traceSqrtPsd } from "./symmetricEigen";

export interface GaussianFit {
  /** Feature dimension d. */
  dimension: number;
  /** Vectors the fit was made from. */
  count: number;
  /** Mean mu, length d. */
  mean: Float64Array;
  /** Unbiased covariance S = sum (x - mu)(x - mu)^T / (count - 1), d x d row-major (as numpy.cov). */
  covariance: Float64Array;
}

/**
 * Fits a Gaussian (mean and unbiased covariance, in float64) to `count` vectors of length
 * `dimension` stored row after row in `rows`.
 */
export function fitGaussian(rows: ArrayLike<number>, count: number, dimension: number): GaussianFit {
  if (!Number.isInteger(count) || !Number.isInteger(dimension) || dimension < 1 || rows.length !== count * dimension) {
    throw new Error(`fitGaussian: ${rows.length} values do not make ${count} rows of ${dimension} features; pass count x dimension values, row after row.`);
  }
  if (count < 2) throw new Error(`fitGaussian: a covariance needs at least 2 vectors, got ${count}.`);
  const mean = new Float64Array(dimension);
  for (let r = 0; r < count; r++) for (let j = 0; j < dimension; j++) mean[j] += rows[r * dimension + j];
  for (let j = 0; j < dimension; j++) mean[j] /= count;
  const covariance = new Float64Array(dimension * dimension);
  const centred = new Float64Array(dimension);
  for (let r = 0; r < count; r++) {
    for (let j = 0; j < dimension; j++) {
      const value = rows[r * dimension + j];
      if (!Number.isFinite(value)) throw new Error(`fitGaussian: row ${r}, feature ${j} is ${value}; features must be finite.`);
      centred[j] = value - mean[j];
    }
    for (let i = 0; i < dimension; i++) {
      const ci = centred[i];
      if (ci === 0) continue;
      for (let j = i; j < dimension; j++) covariance[i * dimension + j] += ci * centred[j];
    }
  }
  for (let i = 0; i < dimension; i++) {
    for (let j = i; j < dimension; j++) {
      const value = covariance[i * dimension + j] / (count - 1);
      covariance[i * dimension + j] = value;
      covariance[j * dimension + i] = value;
    }
  }
  return { dimension, count, mean, covariance };
}

/**
 * The squared Frechet (2-Wasserstein) distance between N(mu1, S1) and N(mu2, S2), see the module
 * comment. Rounding can leave a result a hair below zero for identical fits; it is returned as 0.
 */
export function frechetDistance(a: GaussianFit, b: GaussianFit): number {
  if (a.dimension !== b.dimension) {
    throw new Error(`frechetDistance: the fits have ${a.dimension} and ${b.dimension} features; fit both with the same feature extractor.`);
  }
  const d = a.dimension;
  let meanTerm = 0;
  for (let j = 0; j < d; j++) meanTerm += (a.mean[j] - b.mean[j]) ** 2;
  let traces = 0;
  for (let j = 0; j < d; j++) traces += a.covariance[j * d + j] + b.covariance[j * d + j];
  const rootA = sqrtPsd(a.covariance, d);
  const middle = multiply(multiply(rootA, b.covariance, d), rootA, d);
  // A S2 A is symmetric in exact arithmetic; average away the rounding before the eigen-solve.
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) middle[i * d + j] = middle[j * d + i] = (middle[i * d + j] + middle[j * d + i]) / 2;
  }
  const distance = meanTerm + traces - 2 * traceSqrtPsd(middle, d);
  return Math.max(distance, 0);
}
