/** Float64 references for Gaussian quantities, written independently of the library. */

/** erf(x): the Maclaurin series for |x| < 2, 1 - erfc(x) from erfc's continued fraction beyond (both ~1e-14). */
export function erf64(x: number): number {
  if (x < 0) return -erf64(-x);
  if (x < 2) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  return 1 - erfc64(x);
}

/** erfc(x) for x >= 2 by its continued fraction (Abramowitz & Stegun 7.1.14), evaluated bottom-up. */
export function erfc64(x: number): number {
  if (x < 2) return 1 - erf64(x);
  let k = x;
  for (let n = 80; n >= 1; n--) k = x + n / 2 / k;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * k);
}

/** The standard normal CDF, accurate in both tails. */
export function normalCdf64(z: number): number {
  return z >= 0 ? 1 - 0.5 * erfc64(z / Math.SQRT2) : 0.5 * erfc64(-z / Math.SQRT2);
}

/** KL(N(m1, v1) || N(m2, v2)) in nats, variances (not logs). */
export function gaussianKl64(m1: number, v1: number, m2: number, v2: number): number {
  return 0.5 * (Math.log(v2 / v1) + v1 / v2 + ((m1 - m2) * (m1 - m2)) / v2 - 1);
}

/** log of the mass N(mean, variance) gives x's bin of [-1, 1]'s 256-value grid (edges open to +-inf), floored at 1e-12. */
export function discretizedLogLikelihood64(x: number, mean: number, variance: number): number {
  const sd = Math.sqrt(variance);
  const upper = x > 0.999 ? 1 : normalCdf64((x + 1 / 255 - mean) / sd);
  const lower = x < -0.999 ? 0 : normalCdf64((x - 1 / 255 - mean) / sd);
  return Math.log(Math.max(upper - lower, 1e-12));
}
