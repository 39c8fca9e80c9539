/**
 * The noise schedule: a frozen object of precomputed arrays indexed by the integer step t = 0..T.
 *
 * Computed in float64 (cumulative products of 500 factors lose ~1e-6 in float32) and stored as
 * Float64Array; samplers read single entries as plain numbers. Index 0 is the clean image.
 */

export interface Schedule {
  /** Number of diffusion steps T; arrays have T + 1 entries, index t = 0..T. */
  readonly T: number;
  /** beta_t, the variance added at step t: linear from betaStart (t = 0) to betaEnd (t = T). */
  readonly beta: Float64Array;
  /** alpha_t = 1 - beta_t. */
  readonly alpha: Float64Array;
  /** alphaBar_t = prod_{s<=t} alpha_s, with alphaBar_0 = 1 (Ho et al. 2020, eq. 4). */
  readonly alphaBar: Float64Array;
  /** sqrt(alphaBar_t): how much of x0 survives in x_t. */
  readonly sqrtAlphaBar: Float64Array;
  /** sqrt(1 - alphaBar_t): the standard deviation of the noise in x_t. */
  readonly sqrtOneMinusAlphaBar: Float64Array;
}

export interface LinearScheduleConfig {
  /** Number of steps T (the course: 500; the MNIST lesson: 1000). */
  T: number;
  /** beta at t = 0 (the course: 1e-4). */
  betaStart: number;
  /** beta at t = T (the course: 0.02). */
  betaEnd: number;
}

/** The course's schedule: T = 500, beta linear from 1e-4 to 0.02. */
export const COURSE_SCHEDULE_CONFIG: Readonly<LinearScheduleConfig> = Object.freeze({
  T: 500,
  betaStart: 1e-4,
  betaEnd: 0.02,
});

/**
 * A linear beta schedule exactly as the course builds it:
 *   beta_t = betaStart + (betaEnd - betaStart) * t / T,  t = 0..T
 *   alphaBar_t = prod_{s=0..t} (1 - beta_s), then alphaBar_0 := 1.
 * (The course's product includes beta_0 = betaStart in every alphaBar_t for t >= 1 and then
 * overwrites alphaBar_0; we keep that so the values match its checkpoints.)
 */
export function linearSchedule(config: LinearScheduleConfig): Schedule {
  const { T, betaStart, betaEnd } = config;
  // One object per configuration: device copies are cached per schedule object
  // (scheduleTensors), so a checkpoint loaded twice must not make a second schedule.
  const key = `${T}:${betaStart}:${betaEnd}`;
  const made = linearSchedules.get(key);
  if (made) return made;
  if (!Number.isInteger(T) || T < 1) {
    throw new Error(`linearSchedule: T must be a positive integer, got ${T}.`);
  }
  if (!(betaStart > 0 && betaEnd < 1 && betaStart <= betaEnd)) {
    throw new Error(
      `linearSchedule: need 0 < betaStart <= betaEnd < 1, got betaStart=${betaStart}, betaEnd=${betaEnd}.`,
    );
  }
  const beta = new Float64Array(T + 1);
  const alpha = new Float64Array(T + 1);
  const alphaBar = new Float64Array(T + 1);
  let product = 1;
  for (let t = 0; t <= T; t++) {
    beta[t] = betaStart + ((betaEnd - betaStart) * t) / T;
    alpha[t] = 1 - beta[t];
    product *= alpha[t];
    alphaBar[t] = product;
  }
  alphaBar[0] = 1;
  const sqrtAlphaBar = alphaBar.map(Math.sqrt);
  const sqrtOneMinusAlphaBar = alphaBar.map((ab) => Math.sqrt(1 - ab));
  const schedule = Object.freeze({ T, beta, alpha, alphaBar, sqrtAlphaBar, sqrtOneMinusAlphaBar });
  linearSchedules.set(key, schedule);
  return schedule;
}

const linearSchedules = new Map<string, Schedule>();

/** The course's schedule (T = 500), made once. */
export const courseSchedule: Schedule = linearSchedule(COURSE_SCHEDULE_CONFIG);

/** Throws unless t is an integer step of the schedule (0..T). */
export function checkStep(schedule: Schedule, t: number, what = "t"): void {
  if (!Number.isInteger(t) || t < 0 || t > schedule.T) {
    throw new Error(`${what} must be an integer step in 0..${schedule.T}, got ${t}.`);
  }
}
