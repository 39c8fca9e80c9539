/**
 * Diffusion training: the configured objective (L_simple by default; diffusionLoss) on the shared
 * loop of ./epochTrainer.ts (epochs of shuffled batches, Adam, EMA, progress callbacks, a stop flag
 * honoured between steps, a halt on a non-finite loss). Every random draw derives from (seed,
 * step), so a run resumed from a checkpoint continues exactly as the uninterrupted run would have
 * (same backend).
 */
import * as tf from "@tensorflow/tfjs-core";
import { type SpriteDataset, oneHotContexts, sampleTensors } from "../data/dataset";
import { Prng, deriveSeed } from "../data/sprites/prng";
import { sampleDdim } from "../diffusion/sampling";
import { type Schedule, courseSchedule } from "../diffusion/schedule";
import type { ContextUnet } from "../model/contextUnet";
import type { WeightMap } from "../model/parameters";
import type { TrainableNoiseModel } from "../model/trainableNoiseModel";
import { type RunningStatUpdate, commitStatUpdates, discardStatUpdates } from "../model/layers";
import { type TrainConfig, learningRateAt, resolveTrainConfig } from "./config";
import { diffusionLoss } from "./diffusionLoss";
import { type EpochReport, type EpochSoFar, EpochTrainer, type StepGradients, type StepReport, type TrainingPosition } from "./epochTrainer";
import { ImportanceTimestepSampler } from "./timestepSampler";
import { seededNormal } from "../seededNormal";

/** One row of the periodic sample grid: the context its samples share, and what to call it. */
export interface SampleGridRow {
  /** What the row shows, e.g. the caption it was drawn from. */
  readonly title: string;
  /** The context vector of every sample in the row: [contextSize] values, as a label row. */
  readonly context: readonly number[];
}

/** Samples per row of the periodic sample grid (the course's grids have 8 columns). */
export const SAMPLE_GRID_COLUMNS = 8;

/** What the trainer reads: N samples, fetched as tensors by index. */
export interface TrainingData {
  readonly count: number;
  /** Images [B, H, W, C] in [-1, 1] (the sprites' [B, 16, 16, 3]) and labels [B, K] (the sprites' one-hot K = 5, or a caption's token ids) for these indices; caller-owned. */
  batch(indices: Int32Array): { images: tf.Tensor4D; labels: tf.Tensor2D };
  /**
   * The rows of the periodic sample grid, for labels that are not one-hot classes (a caption's
   * token ids, ../text/captionedData.ts): SAMPLE_GRID_COLUMNS samples per row. Absent: the grid
   * draws one-hot contexts, 8 per class (or 32 unconditional samples).
   */
  readonly sampleGridRows?: readonly SampleGridRow[];
}

/** A sprite data set as training data. */
export function spriteTrainingData(dataset: SpriteDataset): TrainingData {
  return { count: dataset.count, batch: (indices) => sampleTensors(dataset, indices) };
}

export type { EpochReport, EpochSoFar, StepReport, TrainingPosition } from "./epochTrainer";

export interface TrainHooks<M extends TrainableNoiseModel = TrainableNoiseModel> {
  onStep?: (report: StepReport) => void | Promise<void>;
  /** Awaited after each epoch (save a checkpoint or draw samples here). */
  onEpoch?: (report: EpochReport, trainer: Trainer<M>) => void | Promise<void>;
  /** Checked between steps; true stops training after the current step. */
  shouldStop?: () => boolean;
  /**
   * Every config.sampleEvery epochs: DDIM-25 samples [N, H, W, C] (the model's image shape) from
   * fixed noise (8 per class with context, a row per class; else 32; with the data's
   * sampleGridRows, 8 per row, row by row), so grids from different epochs compare like for like; drawn with the EMA weights when
   * the run keeps an average (what the commands load by default). `rowTitles`: the titles of the
   * data's sampleGridRows, one per row of 8 samples in order, or null for the other grids.
   * The trainer disposes `samples` after the hook returns.
   */
  onSamples?: (epoch: number, samples: tf.Tensor4D, rowTitles: readonly string[] | null) => void | Promise<void>;
}

/**
 * The random draws of training step `globalStep` (0-based, across epochs), all from
 * (config.seed, globalStep), exactly as the Trainer makes them: a step written out by hand with
 * these draws is the Trainer's step.
 * @param config      the run's configuration (its seed, useContext and contextDropout are used).
 * @param T           the schedule's number of steps.
 * @param labels      [N, nContext] the batch's one-hot labels.
 * @param imageShape  [N, H, W, C] the batch's image shape.
 * @param timesteps   the run's importance sampler of t (config.timesteps "importance"), or null/absent for uniform t.
 * @returns t [N] uniform in 1..T (or drawn by the importance sampler, with its loss weights, else
 *          weights null); noise [N, H, W, C] standard normal; context: the labels with each
 *          row zeroed with probability contextDropout (course: 0.1, so the model also learns "no
 *          context"), or null when !useContext. The caller owns the tensors.
 */
export function trainingDraws(
  config: TrainConfig,
  T: number,
  globalStep: number,
  labels: tf.Tensor2D,
  imageShape: number[],
  timesteps: ImportanceTimestepSampler | null = null,
): { t: Int32Array; weights: Float32Array | null; noise: tf.Tensor4D; context: tf.Tensor2D | null } {
  const n = imageShape[0];
  if (imageShape.length !== 4 || labels.shape[0] !== n) {
    throw new Error(`trainingDraws: images [${imageShape}] and labels [${labels.shape}] do not make one batch; pass [N, H, W, C] and [N, classes].`);
  }
  const { seed, useContext, contextDropout } = config;
  const rng = new Prng(deriveSeed(seed, 0x7157, globalStep));
  const importance = timesteps ? timesteps.draw(n, rng) : null;
  const t = importance ? importance.t : Int32Array.from({ length: n }, () => 1 + rng.int(T));
  const keep = Float32Array.from({ length: n }, () => (rng.nextUint32() / 2 ** 32 < contextDropout ? 0 : 1));
  const noiseSeed = deriveSeed(seed, 0x0153, globalStep);
  const noise = seededNormal<tf.Rank.R4>(imageShape as [number, number, number, number], noiseSeed);
  const context = useContext ? tf.tidy(() => tf.mul(labels, tf.tensor2d(keep, [n, 1])) as tf.Tensor2D) : null;
  return { t, weights: importance ? importance.weights : null, noise, context };
}

/** Throws unless there is at least one row and every row's context has the model's `contextSize` values. */
function checkSampleGridRows(rows: readonly SampleGridRow[], contextSize: number): void {
  const wrong = rows.find((row) => row.context.length !== contextSize);
  if (rows.length === 0 || wrong) {
    throw new Error(
      `Trainer: the data's sampleGridRows must be at least one row, each a context of the model's ${contextSize} values; got ` +
        `${wrong ? `"${wrong.title}" with ${wrong.context.length}` : "none"}.`,
    );
  }
}

/**
 * Trains any TrainableNoiseModel: the course's ContextUnet (the default type) or the attention
 * UNet; image shape and context length come from the model and the data. The loop, Adam, EMA and
 * position are the EpochTrainer's; this class adds the diffusion objective and its draws.
 */
export class Trainer<M extends TrainableNoiseModel = ContextUnet> extends EpochTrainer {
  readonly config: TrainConfig;
  private readonly trainable: tf.Variable[];
  /** Importance sampling of t (config.timesteps "importance"), else null. */
  readonly timestepSampler: ImportanceTimestepSampler | null;

  /** The trainer owns its optimizer state and EMA (dispose() frees them), not the model. */
  constructor(
    readonly model: M,
    readonly data: TrainingData,
    config: Partial<TrainConfig> = {},
    readonly schedule: Schedule = courseSchedule,
  ) {
    const resolved = resolveTrainConfig(config);
    const channels = model.imageShape[2];
    if ((resolved.variance === "learned") !== model.learnsVariance) {
      throw new Error(
        `Trainer: the config says variance "${resolved.variance}" but the model ${model.learnsVariance ? "predicts" : "does not predict"} a variance ` +
          `(outChannels = ${model.learnsVariance ? 2 * channels : channels}); build the model with outChannels = ${resolved.variance === "learned" ? 2 * channels : channels}.`,
      );
    }
    if (resolved.useContext && model.contextSize === 0) {
      throw new Error("Trainer: the config says useContext, but the model is unconditional (it takes no context vector); train it with useContext false.");
    }
    if (resolved.useContext && data.sampleGridRows) checkSampleGridRows(data.sampleGridRows, model.contextSize);
    const parameters = model.trainableParameters();
    super(resolved, data.count, model.parameters, parameters);
    this.config = resolved;
    this.trainable = [...parameters.values()];
    this.timestepSampler = this.config.timesteps === "importance" ? new ImportanceTimestepSampler(schedule.T) : null;
  }

  /** Trains until the configured epochs are done or hooks.shouldStop() says stop. */
  run(hooks: TrainHooks<M> = {}): Promise<{ completed: boolean }> {
    const { onEpoch, onSamples } = hooks;
    const { sampleEvery } = this.config;
    return this.runEpochs(
      { ...hooks, onEpoch: onEpoch && ((report) => onEpoch(report, this)) },
      async (epoch) => {
        if (!onSamples || sampleEvery <= 0 || (epoch + 1) % sampleEvery !== 0) return;
        const samples = await this.sampleGrid();
        const rows = this.config.useContext ? this.data.sampleGridRows : undefined;
        await onSamples(epoch, samples, rows ? rows.map((row) => row.title) : null);
        samples.dispose();
      },
    );
  }

  /** The course's per-epoch linear decay (./config.ts). */
  protected currentLearningRate(): number {
    return learningRateAt(this.config, this.position.epoch);
  }

  /** The diffusion objective of one batch; BatchNorm's statistics and t's loss history wait for a finite loss. */
  protected lossAndGradients(indices: Int32Array): StepGradients {
    const { images, labels } = this.data.batch(indices);
    const { t, weights, noise, context } = trainingDraws(this.config, this.schedule.T, this.position.globalStep, labels, images.shape, this.timestepSampler);
    let statUpdates: RunningStatUpdate[] = [];
    let perImage: tf.Tensor1D | null = null;
    const objective = { loss: this.config.loss, ...(weights ? { weights } : {}) };
    const { value, grads } = tf.variableGrads(() => {
      const result = diffusionLoss(this.model, this.schedule, images, context, { t, noise }, objective);
      statUpdates = result.statUpdates;
      perImage = result.perImage ?? null;
      return result.loss;
    }, this.trainable);
    tf.dispose([images, labels, noise, ...(context ? [context] : [])]);
    const imageLosses = perImage ? (perImage as tf.Tensor1D).dataSync() : null;
    tf.dispose(perImage ?? []);
    return {
      value,
      grads,
      commit: () => {
        commitStatUpdates(statUpdates);
        if (this.timestepSampler && imageLosses) this.timestepSampler.record(t, imageLosses);
      },
      discard: () => discardStatUpdates(statUpdates),
    };
  }

  /**
   * DDIM-25 from the seed's fixed noise, at the model's image shape: 8 per class (context model),
   * 8 per row of the data's sampleGridRows, or 32 (unconditional), from the EMA weights if kept.
   */
  private async sampleGrid(): Promise<tf.Tensor4D> {
    const context = this.config.useContext ? this.sampleGridContexts() : null;
    const count = context ? context.shape[0] : 32;
    const [height, width, channels] = this.model.imageShape;
    const start = { count, seed: deriveSeed(this.config.seed, 0x5a3b), imageShape: [height, width, channels] as [number, number, number] };
    const draw = async () => (await sampleDdim(this.model, this.schedule, start, context, { steps: 25, saveFrame: () => false })).samples;
    try {
      return await this.withAveragedWeights(draw);
    } finally {
      context?.dispose();
    }
  }

  /**
   * The grid's contexts [count, contextSize], a row of 8 per context: each sampleGridRows row, else
   * each class one-hot (row r = class r, as the grid is drawn 8 to a row); the caller owns it.
   */
  private sampleGridContexts(): tf.Tensor2D {
    const size = this.model.contextSize;
    const rows = this.data.sampleGridRows;
    if (!rows) return oneHotContexts(Array.from({ length: SAMPLE_GRID_COLUMNS * size }, (_, i) => Math.floor(i / SAMPLE_GRID_COLUMNS)), size);
    const values = new Float32Array(rows.length * SAMPLE_GRID_COLUMNS * size);
    rows.forEach((row, r) => {
      for (let c = 0; c < SAMPLE_GRID_COLUMNS; c++) values.set(row.context, (r * SAMPLE_GRID_COLUMNS + c) * size);
    });
    return tf.tensor2d(values, [rows.length * SAMPLE_GRID_COLUMNS, size]);
  }

  /** Everything a resumed run needs beyond the model's own weights (the importance sampler's loss history: null when t is uniform). */
  async readState(): Promise<{ optimizer: WeightMap; ema: WeightMap | null; timestepHistory: number[][] | null }> {
    return { ...(await this.readLoopState()), timestepHistory: this.timestepSampler ? this.timestepSampler.state() : null };
  }

  /** Restores position, history, optimizer state, EMA, the importance sampler's loss history and the stopped epoch's totals from a checkpoint. */
  restore(
    position: TrainingPosition,
    history: EpochReport[],
    optimizer: WeightMap,
    ema: WeightMap | null,
    timestepHistory: number[][] | null = null,
    epochSoFar: EpochSoFar | null = null,
  ): void {
    if (this.timestepSampler) {
      if (!timestepHistory) throw new Error("The checkpoint has no loss history for importance-sampled t but this training uses it; resume with the same --timesteps.");
      this.timestepSampler.load(timestepHistory);
    }
    this.restoreLoop(position, history, optimizer, ema, epochSoFar);
  }
}
