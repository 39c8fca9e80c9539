/** Training configuration: every default in one place; the course's preset is the default. */
import { type TimestepSampling, TIMESTEP_SAMPLINGS } from "./timestepSampler";

/**
 * The training objective: "simple" is L_simple (Ho et al. 2020, eq. 14, the course's);
 * "hybrid" is L_simple + lambda L_vlb with the mean frozen in L_vlb (Nichol & Dhariwal 2021,
 * Sec. 3.1; lambda = 0.001 as their code: the per-t term times T / 1000); "vlb" is the bound alone.
 */
export type LossKind = "simple" | "hybrid" | "vlb";
export const LOSS_KINDS: readonly LossKind[] = Object.freeze(["simple", "hybrid", "vlb"]);

/** The reverse step's variance: fixed (sigma^2 = beta_t, the course) or learned by the model (eq. 15). */
export type VarianceKind = "fixed" | "learned";
export const VARIANCE_KINDS: readonly VarianceKind[] = Object.freeze(["fixed", "learned"]);

export interface TrainConfig {
  /** Passes over the data (the course: 32). */
  epochs: number;
  /** Images per optimizer step (the course: 100). */
  batchSize: number;
  /** Adam's base learning rate; decayed linearly per epoch: lr (1 - epoch / epochs). */
  learningRate: number;
  /** Train with the class labels as context (the context model) or with zeros (unconditional). */
  useContext: boolean;
  /** Probability that a sample's context is zeroed, so the model also learns "no context" (course: 0.1). */
  contextDropout: number;
  /** Seed of everything random: data order, t, noise, dropout. Same seed + backend = same run. */
  seed: number;
  /** Decay of an exponential moving average of the weights, or null for none (course: none). */
  emaDecay: number | null;
  /** Draw a DDIM-25 sample grid every this many epochs (0 = never). */
  sampleEvery: number;
  /** The objective (course: "simple"). */
  loss: LossKind;
  /** Fixed or learned reverse variance (course: "fixed"); "learned" needs a model with 2C outputs. */
  variance: VarianceKind;
  /** How t is drawn (course: "uniform"). */
  timesteps: TimestepSampling;
}

export const COURSE_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  epochs: 32,
  batchSize: 100,
  learningRate: 1e-3,
  useContext: false,
  contextDropout: 0.1,
  seed: 0,
  emaDecay: null,
  sampleEvery: 0,
  loss: "simple",
  variance: "fixed",
  timesteps: "uniform",
});

/** The course's per-epoch linear decay: lr_e = lr (1 - e / epochs), e = 0..epochs-1. */
export function learningRateAt(config: TrainConfig, epoch: number): number {
  return config.learningRate * (1 - epoch / config.epochs);
}

/** Fills defaults and rejects values that cannot train, naming the field. */
export function resolveTrainConfig(partial: Partial<TrainConfig>): TrainConfig {
  const config = { ...COURSE_TRAIN_CONFIG, ...partial };
  const positiveInteger = (name: keyof TrainConfig) => {
    const v = config[name] as number;
    if (!Number.isInteger(v) || v < 1) throw new Error(`Training config: ${name} must be a positive integer, got ${v}.`);
  };
  positiveInteger("epochs");
  positiveInteger("batchSize");
  if (!(config.learningRate > 0)) throw new Error(`Training config: learningRate must be > 0, got ${config.learningRate}.`);
  if (!(config.contextDropout >= 0 && config.contextDropout < 1)) {
    throw new Error(`Training config: contextDropout must be in [0, 1), got ${config.contextDropout}.`);
  }
  if (!Number.isInteger(config.seed)) throw new Error(`Training config: seed must be an integer, got ${config.seed}.`);
  if (!Number.isInteger(config.sampleEvery) || config.sampleEvery < 0) {
    throw new Error(`Training config: sampleEvery must be a whole number of epochs, got ${config.sampleEvery}.`);
  }
  const oneOf = <K extends "loss" | "variance" | "timesteps">(name: K, allowed: readonly TrainConfig[K][]) => {
    if (!allowed.includes(config[name])) throw new Error(`Training config: ${name} must be one of ${allowed.join(", ")}, got ${JSON.stringify(config[name])}.`);
  };
  oneOf("loss", LOSS_KINDS);
  oneOf("variance", VARIANCE_KINDS);
  oneOf("timesteps", TIMESTEP_SAMPLINGS);
  if (config.variance === "learned" && config.loss === "simple") {
    throw new Error('Training config: a learned variance is trained by the bound only; use loss "hybrid" or "vlb" with variance "learned" (L_simple gives v no gradient).');
  }
  if (config.variance === "fixed" && config.loss === "hybrid") {
    throw new Error('Training config: the hybrid loss freezes the mean in L_vlb, so with a fixed variance its L_vlb part trains nothing; use loss "simple" (or "vlb"), or variance "learned".');
  }
  return config;
}
