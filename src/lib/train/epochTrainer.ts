/**
 * What every training run here shares, whatever the network and its objective: epochs of shuffled
 * batches (epochOrder of (seed, epoch)), one Adam step per batch (./adam.ts, PyTorch's), an
 * optional exponential moving average of the weights (./ema.ts), a position (epoch, batch, step)
 * that a checkpoint saves and a resumed run restores, the history of epoch means, a stop flag
 * honoured between steps, and a halt on a non-finite loss before any weight changes.
 *
 * A subclass gives the objective (lossAndGradients, drawing its randomness from (seed, globalStep)
 * so a resumed run continues exactly as the uninterrupted one) and the learning rate at the
 * current position. The DDPM Trainer (./trainer.ts) and the ARDM trainer (../ardm/training.ts)
 * are two.
 */
import * as tf from "@tensorflow/tfjs-core";
import { epochOrder } from "../data/batches";
import { yieldToEventLoop } from "../eventLoop";
import type { ParameterStore, WeightMap } from "../model/parameters";
import { Adam } from "./adam";
import { WeightAverage } from "./ema";

/** Where training stands: completed epochs, batches done in the current one, optimizer steps. */
export interface TrainingPosition {
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
}

/**
 * The current epoch's running totals: zero at an epoch's start, saved in resumable checkpoints, so
 * an epoch stopped and resumed midway still reports its whole mean loss and time.
 */
export interface EpochSoFar {
  images: number;
  /** Sum over the epoch's images of their batch's loss (mean loss = lossSum / images). */
  lossSum: number;
  /** Seconds of training so far, across stops (the time between a stop and the resume is not counted). */
  seconds: number;
}

/** An epoch not begun: what epochSoFar holds between epochs (the loop resets it after each one). */
const EPOCH_NOT_BEGUN: Readonly<EpochSoFar> = Object.freeze({ images: 0, lossSum: 0, seconds: 0 });

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
  /** The learning rate of the epoch's last step (the whole epoch's, under a per-epoch decay). */
  learningRate: number;
}

/** The loop's own settings (each trainer's config has them among its fields). */
export interface EpochLoopConfig {
  epochs: number;
  batchSize: number;
  /** Seed of the data order (and, in the subclass, of every other draw). */
  seed: number;
  /** Decay of an exponential moving average of the weights, or null for none. */
  emaDecay: number | null;
}

export interface EpochLoopHooks {
  onStep?: (report: StepReport) => void | Promise<void>;
  /** Awaited after each epoch, once the position counts it (save a checkpoint here). */
  onEpoch?: (report: EpochReport) => void | Promise<void>;
  /** Checked between steps; true stops training after the current step. */
  shouldStop?: () => boolean;
}

/** One step's loss and gradients, computed but not yet applied; the loop disposes value and grads. */
export interface StepGradients {
  value: tf.Scalar;
  grads: tf.NamedTensorMap;
  /** Called once the loss is known to be finite, before the update (e.g. keep BatchNorm's new statistics). */
  commit?: () => void;
  /** Called instead of commit when the loss is not finite. */
  discard?: () => void;
}

/** The optimizer and EMA state a checkpoint keeps beside the weights. */
export interface LoopState {
  optimizer: WeightMap;
  ema: WeightMap | null;
}

export abstract class EpochTrainer {
  readonly position: TrainingPosition = { epoch: 0, stepInEpoch: 0, globalStep: 0 };
  readonly history: EpochReport[] = [];
  readonly epochSoFar: EpochSoFar = { ...EPOCH_NOT_BEGUN };
  private readonly optimizer: Adam;
  private readonly average: WeightAverage | null;

  /**
   * @param loop       epochs, batch size, seed, EMA decay (checked by the subclass's config).
   * @param dataCount  samples per epoch.
   * @param store      the network's weights: the EMA averages all of them (BatchNorm statistics too).
   * @param trainable  the parameters Adam updates, by key (the keys name the state in checkpoints).
   * The trainer owns its optimizer state and EMA (dispose() frees them), not the network.
   */
  protected constructor(
    private readonly loop: EpochLoopConfig,
    readonly dataCount: number,
    store: ParameterStore,
    trainable: Map<string, tf.Variable>,
  ) {
    this.optimizer = new Adam(trainable);
    this.average = loop.emaDecay === null ? null : new WeightAverage(new Map(store.keys().map((k) => [k, store.get(k)])), loop.emaDecay);
  }

  /** The loss and gradients of the batch `indices` at this.position (see StepGradients). */
  protected abstract lossAndGradients(indices: Int32Array): StepGradients;

  /** Adam's learning rate for the step at this.position. */
  protected abstract currentLearningRate(): number;

  get stepsPerEpoch(): number {
    return Math.ceil(this.dataCount / this.loop.batchSize);
  }

  get finished(): boolean {
    return this.position.epoch >= this.loop.epochs;
  }

  /**
   * Trains until the configured epochs are done or hooks.shouldStop() says stop; `afterEpoch` is
   * awaited after hooks.onEpoch (the DDPM trainer draws its sample grids there).
   */
  protected async runEpochs(hooks: EpochLoopHooks, afterEpoch?: (epoch: number) => Promise<void>): Promise<{ completed: boolean }> {
    const { batchSize } = this.loop;
    while (!this.finished) {
      const { epoch } = this.position;
      const order = epochOrder(this.dataCount, this.loop.seed, epoch);
      const tally = this.epochSoFar; // zero, or a resumed epoch's totals
      const started = Date.now();
      const secondsBefore = tally.seconds;
      let learningRate = this.currentLearningRate();
      while (this.position.stepInEpoch < this.stepsPerEpoch) {
        if (hooks.shouldStop?.()) return { completed: false };
        const from = this.position.stepInEpoch * batchSize;
        const indices = order.slice(from, Math.min(from + batchSize, this.dataCount));
        const stepStart = Date.now();
        learningRate = this.currentLearningRate();
        const loss = this.step(indices, learningRate);
        tally.lossSum += loss * indices.length;
        tally.images += indices.length;
        tally.seconds = secondsBefore + (Date.now() - started) / 1000;
        await hooks.onStep?.({
          ...this.position,
          loss,
          learningRate,
          stepsPerEpoch: this.stepsPerEpoch,
          imagesPerSecond: indices.length / Math.max(1e-3, (Date.now() - stepStart) / 1000),
        });
        await yieldToEventLoop();
      }
      const { images, lossSum, seconds } = tally;
      const report = { epoch, meanLoss: lossSum / Math.max(1, images), seconds, imagesPerSecond: images / Math.max(1e-3, seconds), learningRate };
      this.position.epoch += 1;
      this.position.stepInEpoch = 0;
      Object.assign(tally, EPOCH_NOT_BEGUN);
      this.history.push(report);
      await hooks.onEpoch?.(report);
      await afterEpoch?.(epoch);
    }
    return { completed: true };
  }

  /** One optimizer step; returns the loss. Throws, before updating anything, on a non-finite loss. */
  private step(indices: Int32Array, learningRate: number): number {
    const { value, grads, commit, discard } = this.lossAndGradients(indices);
    // One scalar read per step, on purpose: a non-finite loss must stop the step before Adam
    // writes NaN into the weights. Native TensorFlow runs ops synchronously, so it costs ~0.1 ms.
    const loss = value.dataSync()[0];
    value.dispose();
    if (!Number.isFinite(loss)) {
      tf.dispose(Object.values(grads));
      discard?.();
      const { epoch, stepInEpoch, globalStep } = this.position;
      throw new Error(
        `Training stopped: the loss is ${loss} at step ${globalStep} (epoch ${epoch}, batch ${stepInEpoch}). ` +
          "The weights were not updated; check the data for NaN or infinite values, or lower the learning rate.",
      );
    }
    commit?.();
    this.optimizer.apply(grads, learningRate);
    tf.dispose(Object.values(grads));
    this.average?.update(this.position.globalStep);
    this.position.stepInEpoch += 1;
    this.position.globalStep += 1;
    return loss;
  }

  /** Runs `use` with the EMA weights in the network when the run keeps an average, else as is. */
  protected withAveragedWeights<T>(use: () => Promise<T>): Promise<T> {
    return this.average ? this.average.withAveragedWeights(use) : use();
  }

  /** The optimizer's state and the EMA weights (null without EMA), for a checkpoint. */
  protected async readLoopState(): Promise<LoopState> {
    return { optimizer: await this.optimizer.readState(), ema: this.average ? await this.average.read() : null };
  }

  /**
   * Restores position, history, optimizer state and EMA from a checkpoint, and the stopped epoch's
   * totals (absent in checkpoints older than them: the epoch then reports its resumed part only).
   */
  protected restoreLoop(position: TrainingPosition, history: EpochReport[], optimizer: WeightMap, ema: WeightMap | null, epochSoFar: EpochSoFar | null): void {
    Object.assign(this.position, position);
    Object.assign(this.epochSoFar, epochSoFar ?? EPOCH_NOT_BEGUN);
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
