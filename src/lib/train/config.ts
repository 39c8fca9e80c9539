/** Training configuration: every default in one place; the course's preset is the default. */

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
  return config;
}
