/**
 * The reverse step's Gaussians in plain numbers: the forward posterior q(x_tPrev | x_t, x_0) and
 * the two variances a model's p(x_tPrev | x_t) interpolates between.
 *
 * A step may skip steps (tPrev < t - 1): it is then a step of the respaced chain of Nichol &
 * Dhariwal 2021, Sec. 4, whose beta is recomputed from the kept alphaBar's,
 *   beta'_t = 1 - alphaBar_t / alphaBar_tPrev,
 * and with tPrev = t - 1 it is the ordinary step. (On the course's linear schedule beta'_t = beta_t
 * for t >= 2; at t = 1 beta'_1 = 1 - alphaBar_1 = 1 - (1 - beta_0)(1 - beta_1), because the course's
 * alphaBar_1 includes beta_0. The course's own DDPM sampler keeps beta_1; ddpmStep is unchanged.)
 */
import type { Schedule } from "./schedule";
import { checkStep } from "./schedule";

export interface ReverseStepCoefficients {
  t: number;
  tPrev: number;
  /** beta' = 1 - alphaBar_t / alphaBar_tPrev: the step's forward variance; sigma^2 = beta' is the "large" choice. */
  beta: number;
  /** betaTilde = (1 - alphaBar_tPrev) / (1 - alphaBar_t) beta' (Ho et al. 2020, eq. 7): q's posterior variance, the "small" choice. */
  posteriorVariance: number;
  /** Posterior mean = meanFromX0 x_0 + meanFromXt x_t (Ho et al. 2020, eq. 7): sqrt(alphaBar_tPrev) beta' / (1 - alphaBar_t). */
  meanFromX0: number;
  /** sqrt(1 - beta') (1 - alphaBar_tPrev) / (1 - alphaBar_t). */
  meanFromXt: number;
  /** log beta': the upper end of a learned variance (Nichol & Dhariwal, eq. 15). */
  logBeta: number;
  /**
   * log betaTilde, the lower end of a learned variance. betaTilde is 0 on the step into
   * tPrev = 0, so there it takes the value of the step above it in the chain, as their code's
   * posterior_log_variance_clipped does (log 0 would make the decoder's variance vanish).
   */
  logPosteriorVarianceClipped: number;
}

function stepCoefficients(schedule: Schedule, t: number, tPrev: number): Omit<ReverseStepCoefficients, "logPosteriorVarianceClipped"> {
  checkStep(schedule, t);
  checkStep(schedule, tPrev, "tPrev");
  if (tPrev >= t) throw new Error(`A reverse step goes down: tPrev (${tPrev}) must be below t (${t}).`);
  const alphaBar = schedule.alphaBar[t];
  const alphaBarPrev = schedule.alphaBar[tPrev];
  const beta = 1 - alphaBar / alphaBarPrev;
  const posteriorVariance = ((1 - alphaBarPrev) / (1 - alphaBar)) * beta;
  return {
    t,
    tPrev,
    beta,
    posteriorVariance,
    meanFromX0: (Math.sqrt(alphaBarPrev) * beta) / (1 - alphaBar),
    meanFromXt: (Math.sqrt(1 - beta) * (1 - alphaBarPrev)) / (1 - alphaBar),
    logBeta: Math.log(beta),
  };
}

/**
 * The coefficients of every step of a chain, given as [t, tPrev] pairs from the top down (the
 * samplers' plans: every step T..1, or DDIM's strided one). Throws unless the chain goes down
 * step by step from one pair's tPrev to the next pair's t.
 */
export function reverseChainCoefficients(schedule: Schedule, plan: ReadonlyArray<readonly [number, number]>): ReverseStepCoefficients[] {
  for (let i = 1; i < plan.length; i++) {
    if (plan[i][0] !== plan[i - 1][1]) {
      throw new Error(`reverseChainCoefficients: step ${i} starts at t = ${plan[i][0]} but the step before ended at ${plan[i - 1][1]}; a chain is connected.`);
    }
  }
  const steps = plan.map(([t, tPrev]) => stepCoefficients(schedule, t, tPrev));
  return steps.map((step, i) => {
    const above = steps[i - 1];
    const variance = step.posteriorVariance > 0 || !above ? step.posteriorVariance : above.posteriorVariance;
    // A one-step chain into t = 0 has nothing above it: fall back to beta' (no log of 0).
    return { ...step, logPosteriorVarianceClipped: Math.log(variance > 0 ? variance : step.beta) };
  });
}

/** The full chain's coefficients, indexed by t (entry 0 unused): every step t -> t - 1. */
export function fullChainCoefficients(schedule: Schedule): ReverseStepCoefficients[] {
  const cached = fullChains.get(schedule);
  if (cached) return cached;
  const plan = Array.from({ length: schedule.T }, (_, i) => [schedule.T - i, schedule.T - i - 1] as [number, number]);
  const byT: ReverseStepCoefficients[] = [];
  for (const step of reverseChainCoefficients(schedule, plan)) byT[step.t] = step;
  fullChains.set(schedule, byT);
  return byT;
}

const fullChains = new WeakMap<Schedule, ReverseStepCoefficients[]>();

/**
 * A learned variance's log (Nichol & Dhariwal 2021, eq. 15):
 *   log Sigma = v log beta' + (1 - v) log betaTilde,
 * v = (raw + 1) / 2 from the network's raw output channel, as their code maps it (v = 0 is the
 * small variance, v = 1 the large one). Numbers here; the samplers apply it to tensors.
 */
export function interpolatedLogVariance(step: ReverseStepCoefficients, v: number): number {
  return v * step.logBeta + (1 - v) * step.logPosteriorVarianceClipped;
}
