import { describe, expect, it } from "vitest";
import { multiply, sqrtPsd, symmetricEigen, traceSqrtPsd } from "../../src/lib/metrics/symmetricEigen";

/** A seeded uniform stream in [-1, 1) (mulberry32), independent of the library's generators. */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

const transpose = (a: Float64Array, n: number) => Float64Array.from({ length: n * n }, (_, k) => a[(k % n) * n + Math.floor(k / n)]);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** R R^T for a random n x k R: symmetric PSD of rank min(n, k). */
function randomPsd(n: number, k: number, seed: number): Float64Array {
  const next = uniform(seed);
  const r = Float64Array.from({ length: n * k }, next);
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let m = 0; m < k; m++) s[i * n + j] += r[i * k + m] * r[j * k + m];
  return s;
}

describe("symmetricEigen (cyclic Jacobi)", () => {
  it("finds the eigenvalues of matrices with known spectra", () => {
    expect(Array.from(symmetricEigen([2, 1, 1, 2], 2).values)).toEqual([expect.closeTo(3, 14), expect.closeTo(1, 14)]);
    // Tridiagonal [2 1 0; 1 3 1; 0 1 2] has eigenvalues 4, 2, 1.
    const values = symmetricEigen([2, 1, 0, 1, 3, 1, 0, 1, 2], 3).values;
    expect(maxAbsDiff(values, [4, 2, 1])).toBeLessThan(1e-14);
    // A diagonal matrix is already decomposed (sorted descending).
    expect(Array.from(symmetricEigen([1, 0, 0, 0, -5, 0, 0, 0, 3], 3).values)).toEqual([3, 1, -5]);
  });

  it("reconstructs a random 40 x 40 symmetric matrix as V diag(lambda) V^T with orthonormal V", () => {
    const n = 40;
    const next = uniform(7);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = next();
    const { values, vectors } = symmetricEigen(a, n);
    const scaled = Float64Array.from(vectors, (v, k) => v * values[k % n]);
    expect(maxAbsDiff(multiply(scaled, transpose(vectors, n), n), a)).toBeLessThan(1e-12);
    const identity = Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0));
    expect(maxAbsDiff(multiply(transpose(vectors, n), vectors, n), identity)).toBeLessThan(1e-12);
    for (let k = 1; k < n; k++) expect(values[k]).toBeLessThanOrEqual(values[k - 1]);
  });

  it("rejects non-square, non-finite and non-symmetric input with the entry named", () => {
    expect(() => symmetricEigen([1, 2, 3], 2)).toThrow(/2 x 2 matrix \(4 values/);
    expect(() => symmetricEigen([1, NaN, NaN, 1], 2)).toThrow(/entry \(0, 1\) is NaN/);
    expect(() => symmetricEigen([1, 2, 0, 1], 2)).toThrow(/not symmetric, entry \(0, 1\) = 2 but \(1, 0\) = 0/);
  });
});

describe("sqrtPsd", () => {
  it("returns the known principal square roots", () => {
    // [5 4; 4 5] = [2 1; 1 2]^2.
    expect(maxAbsDiff(sqrtPsd([5, 4, 4, 5], 2), [2, 1, 1, 2])).toBeLessThan(1e-14);
    // diag(4, 9, 0) -> diag(2, 3, 0).
    expect(maxAbsDiff(sqrtPsd([4, 0, 0, 0, 9, 0, 0, 0, 0], 3), [2, 0, 0, 0, 3, 0, 0, 0, 0])).toBeLessThan(1e-15);
    // B = [2 1 0; 1 3 1; 0 1 2] is PSD (eigenvalues 4, 2, 1), so sqrt(B^2) = B.
    const b = Float64Array.from([2, 1, 0, 1, 3, 1, 0, 1, 2]);
    expect(maxAbsDiff(sqrtPsd(multiply(b, b, 3), 3), b)).toBeLessThan(1e-13);
    // Rank one: [1 1; 1 1] = 2 u u^T with u = (1, 1) / sqrt 2, so its root is sqrt(2) u u^T = [1 1; 1 1] / sqrt 2.
    expect(maxAbsDiff(sqrtPsd([1, 1, 1, 1], 2), [Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2])).toBeLessThan(1e-15);
  });

  it("squares back to a random PSD matrix, full rank and rank-deficient", () => {
    for (const [n, k] of [[30, 60], [30, 10]]) {
      const s = randomPsd(n, k, n + k);
      const root = sqrtPsd(s, n);
      expect(maxAbsDiff(multiply(root, root, n), s)).toBeLessThan(1e-11);
      expect(maxAbsDiff(root, transpose(root, n))).toBeLessThan(1e-13);
      expect(Math.min(...symmetricEigen(root, n).values)).toBeGreaterThan(-1e-7);
    }
  });

  it("gives tr(S^1/2) as the sum of root eigenvalues, and refuses indefinite matrices", () => {
    expect(traceSqrtPsd([4, 0, 0, 9], 2)).toBeCloseTo(5, 14);
    expect(traceSqrtPsd([5, 4, 4, 5], 2)).toBeCloseTo(4, 14);
    expect(() => sqrtPsd([1, 2, 2, 1], 2)).toThrow(/not positive semi-definite \(eigenvalue -0.99999/);
  });
});
