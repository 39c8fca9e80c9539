/**
 * The noise schedule: a frozen object of precomputed arrays indexed by the integer step t = 0..T.
 *
 * Computed in float64 (cumulative products of 500 factors lose ~1e-6 in float32) and stored as
 * Float64Array; samplers read single entries as plain numbers. Index 0 is the clean image.
 */

export interface Schedule {
  /** What built it (recorded in checkpoints; scheduleFromConfig rebuilds the same object). */
  readonly config: Readonly<ScheduleConfig>;
  /** Number of diffusion steps T; arrays have T + 1 entries, index t = 0..T. */
  readonly T: number;
  /** beta_t, the variance added at step t (linear: from betaStart at t = 0 to betaEnd at t = T; cosine: beta_0 = 0). */
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

export interface CosineScheduleConfig {
  /** Number of steps T. */
  T: number;
  /** The offset s that keeps beta_t from being tiny near t = 0 (Nichol & Dhariwal: 0.008). */
  offset: number;
  /** beta_t is clipped to at most this, to avoid the singularity at t = T (theirs: 0.999). */
  maxBeta: number;
}

/** A schedule's recipe: the kind and its parameters, as a checkpoint's manifest records it. */
export type ScheduleConfig = ({ kind: "linear" } & LinearScheduleConfig) | ({ kind: "cosine" } & CosineScheduleConfig);

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
  const key = `linear:${T}:${betaStart}:${betaEnd}`;
  const made = schedules.get(key);
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
  const alphaBar = new Float64Array(T + 1);
  let product = 1;
  for (let t = 0; t <= T; t++) {
    beta[t] = betaStart + ((betaEnd - betaStart) * t) / T;
    product *= 1 - beta[t];
    alphaBar[t] = product;
  }
  alphaBar[0] = 1;
  return remember(key, { kind: "linear", T, betaStart, betaEnd }, beta, alphaBar);
}

/** The improved-DDPM recipe's constants (Nichol & Dhariwal 2021, Sec. 3.2): s = 0.008, beta at most 0.999. */
export const COSINE_SCHEDULE_DEFAULTS = Object.freeze({ offset: 0.008, maxBeta: 0.999 });

/**
 * The cosine schedule (Nichol & Dhariwal 2021, eq. 17), defined through alphaBar:
 *   f(t) = cos(((t / T + s) / (1 + s)) * pi / 2)^2,   alphaBar_t = f(t) / f(0),
 *   beta_t = min(1 - alphaBar_t / alphaBar_{t-1}, maxBeta)   for t = 1..T,   beta_0 = 0,
 * and alphaBar_t is then recomputed as prod_{s=1..t} (1 - beta_s) (equal to f(t) / f(0) except
 * where the clip acts, near t = T), as their code does. alphaBar falls linearly in the middle and
 * changes slowly at both ends, where the linear schedule destroys the image too soon.
 */
export function cosineSchedule(config: { T: number } & Partial<CosineScheduleConfig>): Schedule {
  const { T, offset, maxBeta } = { ...COSINE_SCHEDULE_DEFAULTS, ...config };
  const key = `cosine:${T}:${offset}:${maxBeta}`;
  const made = schedules.get(key);
  if (made) return made;
  if (!Number.isInteger(T) || T < 1) throw new Error(`cosineSchedule: T must be a positive integer, got ${T}.`);
  if (!(offset >= 0 && offset < 1)) throw new Error(`cosineSchedule: the offset s must be in [0, 1), got ${offset}.`);
  if (!(maxBeta > 0 && maxBeta < 1)) throw new Error(`cosineSchedule: maxBeta must be in (0, 1), got ${maxBeta}.`);
  const f = (t: number) => Math.cos((((t / T + offset) / (1 + offset)) * Math.PI) / 2) ** 2;
  const beta = new Float64Array(T + 1);
  const alphaBar = new Float64Array(T + 1);
  alphaBar[0] = 1;
  for (let t = 1; t <= T; t++) {
    beta[t] = Math.min(1 - f(t) / f(t - 1), maxBeta);
    alphaBar[t] = alphaBar[t - 1] * (1 - beta[t]);
  }
  return remember(key, { kind: "cosine", T, offset, maxBeta }, beta, alphaBar);
}

/** The schedule a recipe describes (a manifest's "schedule" field); the same object for the same recipe. */
export function scheduleFromConfig(config: ScheduleConfig): Schedule {
  if (config.kind === "linear") return linearSchedule(config);
  if (config.kind === "cosine") return cosineSchedule(config);
  throw new Error(`Unknown schedule kind "${(config as { kind: unknown }).kind}": this library builds "linear" and "cosine".`);
}

/** "linear, T = 500, beta 1e-4..0.02" or "cosine, T = 500, s = 0.008": for messages and labels. */
export function describeSchedule(config: ScheduleConfig): string {
  return config.kind === "linear"
    ? `linear, T = ${config.T}, beta ${config.betaStart}..${config.betaEnd}`
    : `cosine, T = ${config.T}, s = ${config.offset}`;
}

// One object per configuration: device copies are cached per schedule object (scheduleTensors),
// so a checkpoint loaded twice must not make a second schedule.
const schedules = new Map<string, Schedule>();

function remember(key: string, config: ScheduleConfig, beta: Float64Array, alphaBar: Float64Array): Schedule {
  const alpha = beta.map((b) => 1 - b);
  const sqrtAlphaBar = alphaBar.map(Math.sqrt);
  const sqrtOneMinusAlphaBar = alphaBar.map((ab) => Math.sqrt(1 - ab));
  const schedule = Object.freeze({ config: Object.freeze(config), T: config.T, beta, alpha, alphaBar, sqrtAlphaBar, sqrtOneMinusAlphaBar });
  schedules.set(key, schedule);
  return schedule;
}

/** The course's schedule (T = 500), made once. */
export const courseSchedule: Schedule = linearSchedule(COURSE_SCHEDULE_CONFIG);

/** Throws unless t is an integer step of the schedule (0..T). */
export function checkStep(schedule: Schedule, t: number, what = "t"): void {
  if (!Number.isInteger(t) || t < 0 || t > schedule.T) {
    throw new Error(`${what} must be an integer step in 0..${schedule.T}, got ${t}.`);
  }
}
