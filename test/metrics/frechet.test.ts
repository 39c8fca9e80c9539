import { describe, expect, it } from "vitest";
import { fitGaussian, frechetDistance, type GaussianFit } from "../../src/lib/metrics/frechet";

const fit = (mean: number[], covariance: number[]): GaussianFit => ({
  dimension: mean.length,
  count: 0,
  mean: Float64Array.from(mean),
  covariance: Float64Array.from(covariance),
});

// ---- an independent oracle: tr sqrt(S1 S2) by the Denman-Beavers iteration on the
// non-symmetric product (Y -> sqrt(A), Z -> sqrt(A)^-1), with plain 3 x 3 algebra ----
type M3 = number[];
const mul3 = (a: M3, b: M3): M3 => Array.from({ length: 9 }, (_, k) => [0, 1, 2].reduce((s, m) => s + a[Math.floor(k / 3) * 3 + m] * b[m * 3 + (k % 3)], 0));
function inv3(a: M3): M3 {
  const [p, q, r, s, t, u, v, w, x] = a;
  const det = p * (t * x - u * w) - q * (s * x - u * v) + r * (s * w - t * v);
  const adj = [t * x - u * w, r * w - q * x, q * u - r * t, u * v - s * x, p * x - r * v, r * s - p * u, s * w - t * v, q * v - p * w, p * t - q * s];
  return adj.map((e) => e / det);
}
function traceSqrtProduct(s1: M3, s2: M3): number {
  let y = mul3(s1, s2);
  let z = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let k = 0; k < 60; k++) {
    const [yi, zi] = [inv3(y), inv3(z)];
    [y, z] = [y.map((e, i) => (e + zi[i]) / 2), z.map((e, i) => (e + yi[i]) / 2)];
  }
  return y[0] + y[4] + y[8];
}

describe("fitGaussian", () => {
  it("gives the mean and the unbiased covariance (numpy.cov)", () => {
    // Rows (1, 2), (3, 6), (5, 7): mean (3, 5); cov = [[4, 5], [5, 7]] with divisor n - 1 = 2.
    const g = fitGaussian([1, 2, 3, 6, 5, 7], 3, 2);
    expect(Array.from(g.mean)).toEqual([3, 5]);
    expect(Array.from(g.covariance)).toEqual([4, 5, 5, 7]);
  });

  it("says what is wrong with its input", () => {
    expect(() => fitGaussian([1, 2, 3], 2, 2)).toThrow(/3 values do not make 2 rows of 2 features/);
    expect(() => fitGaussian([1, 2], 1, 2)).toThrow(/at least 2 vectors, got 1/);
    expect(() => fitGaussian([1, NaN, 3, 4], 2, 2)).toThrow(/row 0, feature 1 is NaN/);
  });
});

describe("frechetDistance", () => {
  it("is 0 between a set and itself (to rounding), for a full and a rank-deficient fit", () => {
    const next = (() => { let s = 1; return () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1; })();
    const rows = Float64Array.from({ length: 500 * 64 }, next);
    const full = fitGaussian(rows, 500, 64);
    expect(frechetDistance(full, full)).toBeLessThan(1e-9);
    const few = fitGaussian(rows.subarray(0, 20 * 64), 20, 64); // rank 19 covariance
    expect(frechetDistance(few, few)).toBeLessThan(1e-9);
  });

  it("matches the 1-D closed form (mu1 - mu2)^2 + (s1 - s2)^2", () => {
    expect(frechetDistance(fit([1], [4]), fit([-2], [9]))).toBeCloseTo(9 + 1, 12);
  });

  it("matches ||mu1 - mu2||^2 + sum (sqrt s1 - sqrt s2)^2 for diagonal covariances", () => {
    const a = fit([0, 1, 2], [1, 0, 0, 0, 4, 0, 0, 0, 9]);
    const b = fit([1, 1, 0], [4, 0, 0, 0, 4, 0, 0, 0, 0.25]);
    const expected = (1 + 0 + 4) + (1 - 2) ** 2 + 0 + (3 - 0.5) ** 2;
    expect(frechetDistance(a, b)).toBeCloseTo(expected, 12);
    expect(frechetDistance(b, a)).toBeCloseTo(expected, 12);
  });

  it("matches tr sqrt(S1 S2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)) for non-commuting 2 x 2 covariances", () => {
    const s1 = [2, 1, 1, 2];
    const s2 = [3, -1, -1, 1];
    const trProduct = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3];
    const det = (s: number[]) => s[0] * s[3] - s[1] * s[2];
    const trSqrt = Math.sqrt(trProduct + 2 * Math.sqrt(det(s1) * det(s2)));
    const expected = 1 ** 2 + 2 ** 2 + (4 + 4) - 2 * trSqrt;
    expect(frechetDistance(fit([0, 0], s1), fit([1, -2], s2))).toBeCloseTo(expected, 12);
  });

  it("matches a Denman-Beavers square root of S1 S2 for non-commuting 3 x 3 covariances", () => {
    const s1 = [4, 1, 0.5, 1, 3, -0.5, 0.5, -0.5, 2];
    const s2 = [1, 0.2, 0, 0.2, 2, 0.7, 0, 0.7, 5];
    const mu1 = [0.5, -1, 2];
    const mu2 = [0, 0, 1];
    const expected = mu1.reduce((s, m, i) => s + (m - mu2[i]) ** 2, 0) + (9 + 8) - 2 * traceSqrtProduct(s1, s2);
    expect(frechetDistance(fit(mu1, s1), fit(mu2, s2))).toBeCloseTo(expected, 10);
  });

  it("refuses fits of different dimensions", () => {
    expect(() => frechetDistance(fit([0], [1]), fit([0, 0], [1, 0, 0, 1]))).toThrow(/1 and 2 features/);
  });
});
