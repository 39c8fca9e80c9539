/**
 * Importance sampling of the training step t (Nichol & Dhariwal 2021, eq. 18):
 *   L_vlb = E_{t ~ p_t} [L_t / p_t],   p_t proportional to sqrt(E[L_t^2]),
 * with E[L_t^2] estimated from the last 10 losses seen at each t. Until every t has 10, t is
 * uniform. As their code (LossSecondMomentResampler), the probabilities mix in a share of 0.001
 * of the uniform distribution, and each drawn loss is weighted by 1 / (T p_t) so that the
 * weighted mean is an unbiased estimate of the uniform mean over t. Steps are t = 1..T.
 */
import type { Prng } from "../data/sprites/prng";

/** How t is drawn in training: uniform over 1..T (the course), or by importance (eq. 18). */
export type TimestepSampling = "uniform" | "importance";
export const TIMESTEP_SAMPLINGS: readonly TimestepSampling[] = Object.freeze(["uniform", "importance"]);

/** Losses remembered per step (theirs: 10). */
export const LOSS_HISTORY_LENGTH = 10;
/** Share of the uniform distribution mixed into p_t (theirs: 0.001). */
export const UNIFORM_SHARE = 0.001;

export class ImportanceTimestepSampler {
  /** history[t - 1]: the last losses seen at step t, oldest first, at most LOSS_HISTORY_LENGTH. */
  private readonly history: number[][];

  constructor(readonly T: number) {
    if (!Number.isInteger(T) || T < 1) throw new Error(`ImportanceTimestepSampler: T must be a positive integer, got ${T}.`);
    this.history = Array.from({ length: T }, () => []);
  }

  /** True once every t has a full history; before that, t is uniform. */
  get warmedUp(): boolean {
    return this.history.every((losses) => losses.length === LOSS_HISTORY_LENGTH);
  }

  /** p_t for t = 1..T at index t - 1: uniform until warmed up, then (1 - 0.001) w_t / sum w + 0.001 / T with w_t = sqrt(mean of L_t^2). */
  probabilities(): Float64Array {
    const { T } = this;
    if (!this.warmedUp) return new Float64Array(T).fill(1 / T);
    const w = Float64Array.from(this.history, (losses) => Math.sqrt(losses.reduce((sum, l) => sum + l * l, 0) / losses.length));
    const total = w.reduce((a, b) => a + b, 0);
    // All-zero losses carry no information: stay uniform.
    if (!(total > 0)) return new Float64Array(T).fill(1 / T);
    return w.map((wt) => (1 - UNIFORM_SHARE) * (wt / total) + UNIFORM_SHARE / T);
  }

  /**
   * n steps drawn from p_t by inverse CDF on `rng`'s uniforms, and their loss weights 1 / (T p_t)
   * (all 1 while uniform).
   */
  draw(n: number, rng: Prng): { t: Int32Array; weights: Float32Array } {
    const p = this.probabilities();
    const cumulative = new Float64Array(p.length);
    p.reduce((sum, value, i) => (cumulative[i] = sum + value), 0);
    const t = new Int32Array(n);
    const weights = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = (rng.nextUint32() / 2 ** 32) * cumulative[cumulative.length - 1];
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      t[i] = lo + 1;
      weights[i] = 1 / (this.T * p[lo]);
    }
    return { t, weights };
  }

  /** Remembers each image's loss at its step (keeping the last LOSS_HISTORY_LENGTH per t). Non-finite losses are refused. */
  record(t: ArrayLike<number>, losses: ArrayLike<number>): void {
    if (t.length !== losses.length) throw new Error(`ImportanceTimestepSampler.record: ${t.length} steps but ${losses.length} losses.`);
    for (let i = 0; i < t.length; i++) {
      const step = t[i];
      if (!Number.isInteger(step) || step < 1 || step > this.T) throw new Error(`ImportanceTimestepSampler.record: t must be in 1..${this.T}, got ${step}.`);
      if (!Number.isFinite(losses[i])) throw new Error(`ImportanceTimestepSampler.record: the loss at t = ${step} is ${losses[i]}.`);
      const kept = this.history[step - 1];
      if (kept.length === LOSS_HISTORY_LENGTH) kept.shift();
      kept.push(losses[i]);
    }
  }

  /** The loss history, for a checkpoint (a resumed run then draws exactly as the uninterrupted one). */
  state(): number[][] {
    return this.history.map((losses) => [...losses]);
  }

  /** Restores a history saved by state(); throws if it is not one per step of at most LOSS_HISTORY_LENGTH finite losses. */
  load(state: number[][]): void {
    if (!Array.isArray(state) || state.length !== this.T) {
      throw new Error(`ImportanceTimestepSampler.load: expected a loss history for each of T = ${this.T} steps, got ${Array.isArray(state) ? state.length : typeof state}.`);
    }
    state.forEach((losses, i) => {
      if (!Array.isArray(losses) || losses.length > LOSS_HISTORY_LENGTH || !losses.every(Number.isFinite)) {
        throw new Error(`ImportanceTimestepSampler.load: the history of t = ${i + 1} is not a list of at most ${LOSS_HISTORY_LENGTH} finite losses.`);
      }
      this.history[i] = [...losses];
    });
  }
}
