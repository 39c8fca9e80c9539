/**
 * Training an order-agnostic ARDM (Hoogeboom et al. 2022, Algorithm 1) on the shared loop of
 * ../train/epochTrainer.ts: per batch, one draw of (t, sigma) per datum, Eq. 4's loss
 * (ardmTrainingLoss), one Adam step. Every draw comes from (seed, globalStep), so a run resumed
 * from a checkpoint continues exactly as the uninterrupted one (same backend).
 *
 * Data are categorical: a sprite's uint8 channels are its D = 16 x 16 x 3 = 768 variables with
 * K = 256 values, flattened as the NHWC file lies (variable = (row * 16 + column) * 3 + channel),
 * the networks' order (./transformer.ts, ./convNetwork.ts). No [-1, 1] scaling: the values are
 * the categories.
 *
 * The learning rate warms up linearly over the first warmupSteps steps (the transformer's first
 * steps with full-size Adam updates are the unstable ones) and then falls linearly to 0 at the last
 * step, per step rather than per epoch, since a CPU run lasts only a few epochs:
 *   lr_s = lr * min(1, (s + 1) / warmupSteps) * (1 - s / S),   s = 0..S-1, S = epochs * stepsPerEpoch.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type SpriteDataset, imageShapeOf } from "../data/dataset";
import { deriveSeed } from "../data/sprites/prng";
import { type EpochLoopHooks, type EpochReport, type EpochSoFar, EpochTrainer, type StepGradients, type TrainingPosition } from "../train/epochTrainer";
import type { WeightMap } from "../model/parameters";
import { ardmTrainingLoss } from "./loss";
import type { ArdmTrainableNetwork } from "./architectures";

export interface ArdmTrainConfig {
  /** Passes over the data. */
  epochs: number;
  /** Sprites per Adam step. */
  batchSize: number;
  /** Adam's peak learning rate (see the module comment for its schedule). */
  learningRate: number;
  /** Steps of linear warm-up (0: none). */
  warmupSteps: number;
  /** Seed of the data order and of every (t, sigma) draw. Same seed + backend = same run. */
  seed: number;
  /** Decay of an exponential moving average of the weights, or null for none. */
  emaDecay: number | null;
}

/**
 * The recipe for the sprites' transformer (1,023,872 parameters) on this project's 2-core CPU, for
 * about 65-75 minutes with TF_NUM_INTRAOP_THREADS=2 on an otherwise idle machine: 5 epochs of the
 * 24,000-sprite subset the improved-DDPM models trained on (src/cli/train-ardm.ts), batch 16, so
 * 7,500 steps (120,000 sprites seen); Adam 1e-3 after 200 warm-up steps, decayed linearly per
 * step; EMA 0.999. Sized from one-thread measurements (native TensorFlow, batch 16) on the shared
 * machine: 0.85-0.9 s a step with one other training beside it, 0.6 steps/s on 56 % of a core with
 * two other jobs, so about 0.9 s a step per core; two threads at 1.6-1.8 times that give 0.5-0.6 s
 * a step. A busier machine is slower: cap the run with --max-minutes and --resume it.
 */
export const ARDM_TRAIN_DEFAULTS: Readonly<ArdmTrainConfig> = Object.freeze({
  epochs: 5,
  batchSize: 16,
  learningRate: 1e-3,
  warmupSteps: 200,
  seed: 0,
  emaDecay: 0.999,
});

/** Fills defaults and rejects values that cannot train, naming the field and the value. */
export function resolveArdmTrainConfig(partial: Partial<ArdmTrainConfig>): ArdmTrainConfig {
  const known = Object.keys(ARDM_TRAIN_DEFAULTS);
  const unknown = Object.keys(partial).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new Error(`ARDM training config: unknown key ${unknown.map((k) => `"${k}"`).join(", ")}; the keys are ${known.join(", ")}.`);
  const config = { ...ARDM_TRAIN_DEFAULTS, ...partial };
  const wholeAtLeast = (name: "epochs" | "batchSize" | "warmupSteps" | "seed", min: number) => {
    const v = config[name];
    if (!Number.isInteger(v) || v < min) throw new Error(`ARDM training config: ${name} must be a whole number >= ${min}, got ${v}.`);
  };
  wholeAtLeast("epochs", 1);
  wholeAtLeast("batchSize", 1);
  wholeAtLeast("warmupSteps", 0);
  wholeAtLeast("seed", 0);
  if (!(config.learningRate > 0 && Number.isFinite(config.learningRate))) throw new Error(`ARDM training config: learningRate must be a number > 0, got ${config.learningRate}.`);
  if (config.emaDecay !== null && !(config.emaDecay > 0 && config.emaDecay < 1)) {
    throw new Error(`ARDM training config: emaDecay must be in (0, 1) or null (no average), got ${config.emaDecay}.`);
  }
  return config;
}

/** The learning rate of step `step` (0-based) of `totalSteps` (see the module comment). */
export function ardmLearningRate(config: ArdmTrainConfig, step: number, totalSteps: number): number {
  const warm = config.warmupSteps > 0 ? Math.min(1, (step + 1) / config.warmupSteps) : 1;
  return config.learningRate * warm * Math.max(0, 1 - step / totalSteps);
}

/** What the ARDM trainer reads: N data of D categorical variables, fetched by index. */
export interface CategoricalData {
  readonly count: number;
  /** D variables per datum. */
  readonly dimensions: number;
  /** [B, D] int32 category indices of these data; caller-owned. */
  batch(indices: Int32Array): tf.Tensor2D;
}

/** A sprite data set as categorical data: each image's uint8 channels, NHWC-flattened (D = H W C, K = 256). */
export function spriteVariables(dataset: SpriteDataset): CategoricalData {
  const dimensions = imageShapeOf(dataset).reduce((a, b) => a * b, 1);
  return {
    count: dataset.count,
    dimensions,
    batch: (indices) => {
      const values = new Int32Array(indices.length * dimensions);
      indices.forEach((index, row) => values.set(dataset.pixels.subarray(index * dimensions, (index + 1) * dimensions), row * dimensions));
      return tf.tensor2d(values, [indices.length, dimensions], "int32");
    },
  };
}

/** The seed of step `globalStep`'s (t, sigma) draws. */
export function ardmStepSeed(seed: number, globalStep: number): number {
  return deriveSeed(seed, 0xa7d4, globalStep);
}

/** Trains either ARDM network (./architectures.ts) on categorical data with Eq. 4's loss (see the module comment). */
export class ArdmTrainer extends EpochTrainer {
  readonly config: ArdmTrainConfig;
  private readonly trainable: tf.Variable[];

  /** The trainer owns its optimizer state and EMA (dispose() frees them), not the network. */
  constructor(
    readonly network: ArdmTrainableNetwork,
    readonly data: CategoricalData,
    config: Partial<ArdmTrainConfig> = {},
  ) {
    const resolved = resolveArdmTrainConfig(config);
    if (data.dimensions !== network.dimensions) {
      throw new Error(`ArdmTrainer: the data have D = ${data.dimensions} variables per datum but the network models D = ${network.dimensions}; build the network for the data's image shape.`);
    }
    const parameters = network.trainableParameters();
    super(resolved, data.count, network.parameters, parameters);
    this.config = resolved;
    this.trainable = [...parameters.values()];
  }

  /** Optimizer steps of the whole run. */
  get totalSteps(): number {
    return this.config.epochs * this.stepsPerEpoch;
  }

  /** Trains until the configured epochs are done or hooks.shouldStop() says stop. */
  run(hooks: EpochLoopHooks = {}): Promise<{ completed: boolean }> {
    return this.runEpochs(hooks);
  }

  protected currentLearningRate(): number {
    return ardmLearningRate(this.config, this.position.globalStep, this.totalSteps);
  }

  /** Eq. 4's batch mean (nats per datum) and its gradients, from this step's (t, sigma) draws. */
  protected lossAndGradients(indices: Int32Array): StepGradients {
    const x = this.data.batch(indices);
    try {
      const seed = ardmStepSeed(this.config.seed, this.position.globalStep);
      return tf.variableGrads(() => ardmTrainingLoss(this.network, x, seed).mean, this.trainable) as StepGradients;
    } finally {
      x.dispose();
    }
  }

  /** The optimizer state and EMA weights (null without EMA) a resumable checkpoint keeps. */
  readState(): Promise<{ optimizer: WeightMap; ema: WeightMap | null }> {
    return this.readLoopState();
  }

  /** Restores position, history, optimizer state, EMA and the stopped epoch's totals from a checkpoint. */
  restore(position: TrainingPosition, history: EpochReport[], optimizer: WeightMap, ema: WeightMap | null, epochSoFar: EpochSoFar | null = null): void {
    this.restoreLoop(position, history, optimizer, ema, epochSoFar);
  }
}
