/**
 * The training loop: epochs of shuffled batches, one Adam step each on L_simple, with progress
 * callbacks, a stop flag honoured between steps, and a halt on a non-finite loss. Every random
 * draw derives from (seed, step), so a run resumed from a checkpoint continues exactly as the
 * uninterrupted run would have (same backend).
 */
import * as tf from "@tensorflow/tfjs-core";
import { epochOrder } from "../data/batches";
import { type SpriteDataset, sampleTensors } from "../data/dataset";
import { Prng, deriveSeed } from "../data/sprites/prng";
import { sampleDdim } from "../diffusion/sampling";
import { type Schedule, courseSchedule } from "../diffusion/schedule";
import type { ContextUnet } from "../model/contextUnet";
import type { WeightMap } from "../model/parameters";
import { yieldToEventLoop } from "../eventLoop";
import type { RunningStatUpdate } from "../model/layers";
import { Adam } from "./adam";
import { type TrainConfig, learningRateAt, resolveTrainConfig } from "./config";
import { type NoisingDraw, diffusionLoss } from "./diffusionLoss";
import { WeightAverage } from "./ema";

/** What the trainer reads: N samples, fetched as tensors by index. */
export interface TrainingData {
  readonly count: number;
  /** Images [B, 16, 16, 3] in [-1, 1] and one-hot labels [B, 5] for these indices; caller-owned. */
  batch(indices: Int32Array): { images: tf.Tensor4D; labels: tf.Tensor2D };
}

/** A sprite data set as training data. */
export function spriteTrainingData(dataset: SpriteDataset): TrainingData {
  return { count: dataset.count, batch: (indices) => sampleTensors(dataset, indices) };
}

/** Where training stands: completed epochs, batches done in the current one, optimizer steps. */
export interface TrainingPosition {
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
}

export interface StepReport extends TrainingPosition {
  loss: number;
  learningRate: number;
  stepsPerEpoch: number;
  /** Images per second over the last step. */
  imagesPerSecond: number;
}

export interface EpochReport {
  /** The epoch just completed (0-based). */
  epoch: number;
  meanLoss: number;
  seconds: number;
  imagesPerSecond: number;
  learningRate: number;
}

export interface TrainHooks {
  onStep?: (report: StepReport) => void | Promise<void>;
  /** Awaited after each epoch (save a checkpoint or draw samples here). */
  onEpoch?: (report: EpochReport, trainer: Trainer) => void | Promise<void>;
  /** Checked between steps; true stops training after the current step. */
  shouldStop?: () => boolean;
  /**
   * Every config.sampleEvery epochs: DDIM-25 samples [N, 16, 16, 3] from fixed noise (8 per
   * class with context, else 32), so grids from different epochs compare like for like.
   * The trainer disposes `samples` after the hook returns.
   */
  onSamples?: (epoch: number, samples: tf.Tensor4D) => void | Promise<void>;
}

export class Trainer {
  readonly config: TrainConfig;
  readonly position: TrainingPosition = { epoch: 0, stepInEpoch: 0, globalStep: 0 };
  readonly history: EpochReport[] = [];
  private readonly optimizer: Adam;
  private readonly average: WeightAverage | null;
  private readonly trainable: tf.Variable[];

  /** The trainer owns its optimizer state and EMA (dispose() frees them), not the model. */
  constructor(
    readonly model: ContextUnet,
    readonly data: TrainingData,
    config: Partial<TrainConfig> = {},
    readonly schedule: Schedule = courseSchedule,
  ) {
    this.config = resolveTrainConfig(config);
    const store = model.parameters;
    const trainableKeys = store.keys().filter((k) => store.spec(k).trainable);
    this.trainable = trainableKeys.map((k) => store.get(k));
    this.optimizer = new Adam(new Map(trainableKeys.map((k) => [k, store.get(k)])));
    this.average =
      this.config.emaDecay === null ? null : new WeightAverage(new Map(store.keys().map((k) => [k, store.get(k)])), this.config.emaDecay);
  }

  get stepsPerEpoch(): number {
    return Math.ceil(this.data.count / this.config.batchSize);
  }

  get finished(): boolean {
    return this.position.epoch >= this.config.epochs;
  }

  /** Trains until the configured epochs are done or hooks.shouldStop() says stop. */
  async run(hooks: TrainHooks = {}): Promise<{ completed: boolean }> {
    while (!this.finished) {
      const { epoch } = this.position;
      const order = epochOrder(this.data.count, this.config.seed, epoch);
      const learningRate = learningRateAt(this.config, epoch);
      const epochStart = Date.now();
      let lossSum = 0;
      let images = 0;
      while (this.position.stepInEpoch < this.stepsPerEpoch) {
        if (hooks.shouldStop?.()) return { completed: false };
        const from = this.position.stepInEpoch * this.config.batchSize;
        const indices = order.slice(from, Math.min(from + this.config.batchSize, this.data.count));
        const stepStart = Date.now();
        const loss = this.step(indices, learningRate);
        lossSum += loss * indices.length;
        images += indices.length;
        await hooks.onStep?.({
          ...this.position,
          loss,
          learningRate,
          stepsPerEpoch: this.stepsPerEpoch,
          imagesPerSecond: indices.length / Math.max(1e-3, (Date.now() - stepStart) / 1000),
        });
        await yieldToEventLoop();
      }
      const seconds = (Date.now() - epochStart) / 1000;
      const report = { epoch, meanLoss: lossSum / Math.max(1, images), seconds, imagesPerSecond: images / seconds, learningRate };
      this.position.epoch += 1;
      this.position.stepInEpoch = 0;
      this.history.push(report);
      await hooks.onEpoch?.(report, this);
      const { sampleEvery } = this.config;
      if (hooks.onSamples && sampleEvery > 0 && (epoch + 1) % sampleEvery === 0) {
        const samples = await this.sampleGrid();
        await hooks.onSamples(epoch, samples);
        samples.dispose();
      }
    }
    return { completed: true };
  }

  /** The random draws of one step, all from (seed, globalStep). */
  private draw(images: tf.Tensor4D, labels: tf.Tensor2D): { noising: NoisingDraw; context: tf.Tensor2D | null } {
    const n = images.shape[0];
    const { seed, useContext, contextDropout } = this.config;
    const rng = new Prng(deriveSeed(seed, 0x7157, this.position.globalStep));
    const t = Int32Array.from({ length: n }, () => 1 + rng.int(this.schedule.T));
    const keep = Float32Array.from({ length: n }, () => (rng.nextUint32() / 2 ** 32 < contextDropout ? 0 : 1));
    const noise = tf.randomNormal(images.shape, 0, 1, "float32", deriveSeed(seed, 0x0153, this.position.globalStep)) as tf.Tensor4D;
    // Context dropout: zero a sample's label with probability contextDropout (course: 0.1).
    const context = useContext ? tf.tidy(() => tf.mul(labels, tf.tensor2d(keep, [n, 1])) as tf.Tensor2D) : null;
    return { noising: { t, noise }, context };
  }

  /** One optimizer step; returns the loss. Throws, before updating anything, on a non-finite loss. */
  private step(indices: Int32Array, learningRate: number): number {
    const batch = this.data.batch(indices);
    const { noising, context } = this.draw(batch.images, batch.labels);
    // BatchNorm's new running statistics wait here until the loss is known to be finite.
    const statUpdates: RunningStatUpdate[] = [];
    const { value, grads } = tf.variableGrads(
      () => diffusionLoss(this.model, this.schedule, batch.images, context, noising, statUpdates),
      this.trainable,
    );
    tf.dispose([batch.images, batch.labels, noising.noise, ...(context ? [context] : [])]);
    // One scalar read per step, on purpose: a non-finite loss must stop the step before Adam
    // writes NaN into the weights. Native TensorFlow runs ops synchronously, so it costs ~0.1 ms.
    const loss = value.dataSync()[0];
    value.dispose();
    if (!Number.isFinite(loss)) {
      tf.dispose([...Object.values(grads), ...statUpdates.map((u) => u.value)]);
      const { epoch, stepInEpoch, globalStep } = this.position;
      throw new Error(
        `Training stopped: the loss is ${loss} at step ${globalStep} (epoch ${epoch}, batch ${stepInEpoch}). ` +
          "The weights were not updated; check the data for NaN or infinite values, or lower the learning rate.",
      );
    }
    for (const { variable, value: updated } of statUpdates) {
      variable.assign(updated);
      updated.dispose();
    }
    this.optimizer.apply(grads, learningRate);
    tf.dispose(Object.values(grads));
    this.average?.update();
    this.position.stepInEpoch += 1;
    this.position.globalStep += 1;
    return loss;
  }

  /** DDIM-25 from the seed's fixed noise: 8 per class (context model) or 32 (unconditional). */
  private async sampleGrid(): Promise<tf.Tensor4D> {
    const classes = this.model.config.nContext;
    const count = this.config.useContext ? 8 * classes : 32;
    const context = this.config.useContext
      ? tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Array.from({ length: count }, (_, i) => i % classes), "int32"), classes), "float32") as tf.Tensor2D)
      : null;
    const start = { count, seed: deriveSeed(this.config.seed, 0x5a3b) };
    const { samples } = await sampleDdim(this.model, this.schedule, start, context, { steps: 25, saveFrame: () => false });
    context?.dispose();
    return samples;
  }

  /** Everything a resumed run needs beyond the model's own weights. */
  async readState(): Promise<{ optimizer: WeightMap; ema: WeightMap | null }> {
    return { optimizer: await this.optimizer.readState(), ema: this.average ? await this.average.read() : null };
  }

  /** Restores position, history, optimizer state and EMA from a checkpoint. */
  restore(position: TrainingPosition, history: EpochReport[], optimizer: WeightMap, ema: WeightMap | null): void {
    Object.assign(this.position, position);
    this.history.splice(0, this.history.length, ...history);
    this.optimizer.loadState(optimizer, position.globalStep);
    if (this.average) {
      if (!ema) throw new Error("The checkpoint has no EMA weights but this training uses emaDecay; resume without EMA or from an EMA run.");
      this.average.load(ema);
    }
  }

  /** The EMA weights, or null when training without EMA. */
  averagedWeights(): Promise<WeightMap> | null {
    return this.average ? this.average.read() : null;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.average?.dispose();
  }
}
