/**
 * Eigen-decomposition of real symmetric matrices by the cyclic Jacobi method, and the square
 * root of a symmetric positive semi-definite matrix built on it. Plain float64 arrays, no tensors:
 * the matrices here are feature covariances (64 x 64), where Jacobi is fast, accurate to rounding
 * and unconditionally stable (Golub & Van Loan, Matrix Computations, 4th ed., section 8.5).
 *
 * Matrices are n x n, row-major in a Float64Array (entry (i, j) at i * n + j).
 */

export interface SymmetricEigen {
  /** Eigenvalues, in descending order. */
  values: Float64Array;
  /** Eigenvectors as columns, row-major n x n: column j (entries j, n + j, ...) belongs to values[j]. */
  vectors: Float64Array;
}

/** Sweeps after which Jacobi gives up (it converges quadratically, in 6 to 10 sweeps in practice). */
const MAX_SWEEPS = 60;

/** Checks that `matrix` is n x n, finite and symmetric to rounding; `what` names it in errors. */
export function checkSymmetric(matrix: ArrayLike<number>, n: number, what = "matrix"): void {
  if (!Number.isInteger(n) || n < 1 || matrix.length !== n * n) {
    throw new Error(`${what}: expected an ${n} x ${n} matrix (${n * n} values, row-major), got ${matrix.length} values.`);
  }
  let scale = 0;
  for (let k = 0; k < matrix.length; k++) {
    if (!Number.isFinite(matrix[k])) throw new Error(`${what}: entry (${Math.floor(k / n)}, ${k % n}) is ${matrix[k]}; the matrix must be finite.`);
    scale = Math.max(scale, Math.abs(matrix[k]));
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const gap = Math.abs(matrix[i * n + j] - matrix[j * n + i]);
      if (gap > 1e-9 * Math.max(scale, 1e-300)) {
        throw new Error(`${what}: not symmetric, entry (${i}, ${j}) = ${matrix[i * n + j]} but (${j}, ${i}) = ${matrix[j * n + i]}; symmetrise it as (A + A^T) / 2 first.`);
      }
    }
  }
}

/**
 * A = V diag(values) V^T for a real symmetric A (checked), by cyclic Jacobi rotations: each
 * rotation J(p, q, theta) zeroes the off-diagonal pair (p, q) of J^T A J (Golub & Van Loan,
 * Algorithm 8.5.1 sym.schur2 and 8.5.3 cyclic Jacobi), accumulating V = J1 J2 ...
 * Stops after a sweep in which every off-diagonal entry was already negligible.
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): SymmetricEigen {
  checkSymmetric(matrix, n);
  const a = Float64Array.from(matrix);
  // Average the two triangles so rounding-level asymmetry cannot bias the result.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) a[i * n + j] = a[j * n + i] = (a[i * n + j] + a[j * n + i]) / 2;
  }
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let k = 0; k < a.length; k++) total += a[k] * a[k];
  // Entries this small are zero for every eigenvalue's accuracy (their effect is below rounding of ||A||).
  const negligible = Number.EPSILON * 1e-3 * Math.sqrt(total);

  for (let sweep = 0; ; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        // Demmel & Veselic's criterion: a_pq below rounding of sqrt(|a_pp a_qq|) no longer moves the eigenvalues.
        if (Math.abs(apq) <= Number.EPSILON * Math.sqrt(Math.abs(a[p * n + p] * a[q * n + q])) || Math.abs(apq) <= negligible) {
          a[p * n + q] = a[q * n + p] = 0;
          continue;
        }
        if (sweep === MAX_SWEEPS) throw new Error(`symmetricEigen: no convergence after ${MAX_SWEEPS} Jacobi sweeps (entry (${p}, ${q}) still ${apq}); the input may hold values near overflow.`);
        rotated = true;
        // sym.schur2: tau = (a_qq - a_pp) / (2 a_pq), t = tan(theta) the smaller root of t^2 + 2 tau t - 1 = 0.
        const tau = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        rotateColumns(a, n, p, q, c, s); // A <- A J
        rotateRows(a, n, p, q, c, s); // A <- J^T A
        rotateColumns(v, n, p, q, c, s); // V <- V J
        a[p * n + q] = a[q * n + p] = 0; // exactly zero in exact arithmetic
      }
    }
    if (!rotated) break;
  }
  return sortDescending(Float64Array.from({ length: n }, (_, i) => a[i * n + i]), v, n);
}

/** Columns p, q of M times the rotation [[c, s], [-s, c]]. */
function rotateColumns(m: Float64Array, n: number, p: number, q: number, c: number, s: number): void {
  for (let k = 0; k < n; k++) {
    const mp = m[k * n + p];
    const mq = m[k * n + q];
    m[k * n + p] = c * mp - s * mq;
    m[k * n + q] = s * mp + c * mq;
  }
}

/** Rows p, q of M premultiplied by the rotation's transpose. */
function rotateRows(m: Float64Array, n: number, p: number, q: number, c: number, s: number): void {
  for (let k = 0; k < n; k++) {
    const mp = m[p * n + k];
    const mq = m[q * n + k];
    m[p * n + k] = c * mp - s * mq;
    m[q * n + k] = s * mp + c * mq;
  }
}

function sortDescending(values: Float64Array, vectors: Float64Array, n: number): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => values[j] - values[i]);
  const sortedVectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    for (let k = 0; k < n; k++) sortedVectors[k * n + to] = vectors[k * n + from];
  });
  return { values: Float64Array.from(order, (i) => values[i]), vectors: sortedVectors };
}

/**
 * How far below zero an eigenvalue of a PSD matrix may fall from rounding alone before the
 * matrix counts as indefinite: this fraction of the largest eigenvalue's magnitude.
 */
const PSD_TOLERANCE = 1e-9;

/** Eigenvalues of a PSD matrix with rounding-level negatives set to 0; throws if clearly indefinite. */
function clampedEigen(matrix: ArrayLike<number>, n: number, what: string): SymmetricEigen {
  const eigen = symmetricEigen(matrix, n);
  const largest = Math.max(Math.abs(eigen.values[0]), Math.abs(eigen.values[n - 1]));
  const smallest = eigen.values[n - 1];
  if (smallest < -PSD_TOLERANCE * largest) {
    throw new Error(`${what}: not positive semi-definite (eigenvalue ${smallest} against the largest ${largest}); a covariance matrix cannot have one.`);
  }
  eigen.values.forEach((value, i) => (eigen.values[i] = Math.max(value, 0)));
  return eigen;
}

/**
 * The principal square root S^{1/2} of a symmetric positive semi-definite S: the unique PSD
 * matrix with S^{1/2} S^{1/2} = S, computed as V diag(sqrt(lambda)) V^T from S = V diag(lambda) V^T.
 * Eigenvalues below zero by rounding only are taken as 0; a clearly negative one throws.
 */
export function sqrtPsd(matrix: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = clampedEigen(matrix, n, "sqrtPsd");
  const root = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const r = Math.sqrt(values[k]);
    if (r === 0) continue;
    for (let i = 0; i < n; i++) {
      const vik = vectors[i * n + k] * r;
      for (let j = 0; j < n; j++) root[i * n + j] += vik * vectors[j * n + k];
    }
  }
  return root;
}

/** tr(S^{1/2}) = sum_k sqrt(lambda_k) of a symmetric PSD S (rounding negatives taken as 0). */
export function traceSqrtPsd(matrix: ArrayLike<number>, n: number): number {
  return clampedEigen(matrix, n, "traceSqrtPsd").values.reduce((sum, value) => sum + Math.sqrt(value), 0);
}

/** C = A B for n x n row-major matrices. */
export function multiply(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  }
  return c;
}
