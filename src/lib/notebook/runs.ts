/**
 * The long loops of the lessons, each with a live progress bar and the notebook's stop button:
 * sampling with any sampler, and training. The loops themselves are the library's (`sample`,
 * `Trainer.run`); this file only watches them.
 */
import type * as tf from "@tensorflow/tfjs-core";
import { type NoiseModel, type SampleResult, type SamplerOptions, type SamplerStart } from "../diffusion/sampling";
import { type GuidanceChoice, type SamplerChoice, modelEvaluations, sample, samplerLabel } from "../diffusion/samplers";
import type { Schedule } from "../diffusion/schedule";
import type { EditLoopOptions, EditResult } from "../editing/editLoop";
import type { TrainableNoiseModel } from "../model/trainableNoiseModel";
import type { StepReport, Trainer } from "../train/trainer";
import { type ProgressBar, progressBar } from "./progress";
import { watchForStop } from "./stop";

export type SampleRunOptions = SamplerChoice & GuidanceChoice & Omit<SamplerOptions, "onStep" | "shouldStop"> & {
  /** Shown before the bar; default the sampler's label, e.g. "DDIM-25" or "DDIM-25, CFG w = 2". */
  label?: string;
};

/** A finished (or stopped) sampling run and its wall time. */
export interface SampleRun {
  /** The sampler's result; the caller disposes result.samples and result.frames. */
  result: SampleResult;
  seconds: number;
}

/**
 * Samples like `sample` (same arguments) with a progress bar; the stop button ends the loop after
 * the current step, and a stopped run says how far it got. Frames are kept only when
 * `saveFrame` asks for them.
 */
export async function sampleWithProgress(
  model: NoiseModel,
  schedule: Schedule,
  start: SamplerStart,
  context: tf.Tensor2D | null,
  options: SampleRunOptions,
): Promise<SampleRun> {
  const { label = samplerLabel(options, schedule), ...choice } = options;
  const total = modelEvaluations(options, schedule);
  const images = "count" in start ? start.count : start.shape[0];
  const bar = progressBar({ total, label, imagesPerStep: images });
  const stop = watchForStop();
  try {
    const began = performance.now();
    const result = await sample(model, schedule, start, context, {
      saveFrame: () => false,
      ...choice,
      onStep: ({ step }) => bar.update(step),
      shouldStop: stop.shouldStop,
    });
    const seconds = (performance.now() - began) / 1000;
    if (!result.completed) console.log(`${label}: stopped after ${result.stepsTaken} of ${total} steps, so the images are still partly noise.`);
    return { result, seconds };
  } finally {
    stop.release();
    bar.finish({ stopped: stop.requested });
  }
}

/** A finished (or stopped) edit and its wall time; the caller disposes result.images and result.frames. */
export interface EditRun {
  result: EditResult;
  seconds: number;
}

/**
 * Runs an edit (`inpaint` or `imageToImage`, called by `edit` with the hooks to pass on) with a
 * progress bar over its moves and the notebook's stop button.
 */
export async function editWithProgress(label: string, images: number, edit: (hooks: Pick<EditLoopOptions, "onMove" | "shouldStop">) => Promise<EditResult>): Promise<EditRun> {
  let bar: ProgressBar | null = null;
  const stop = watchForStop();
  try {
    const began = performance.now();
    const result = await edit({
      onMove: ({ move, moves }) => {
        bar ??= progressBar({ total: moves, label, imagesPerStep: images });
        bar.update(move);
      },
      shouldStop: stop.shouldStop,
    });
    if (!result.completed) console.log(`${label}: stopped early, so the images are still partly noise.`);
    return { result, seconds: (performance.now() - began) / 1000 };
  } finally {
    stop.release();
    (bar as ProgressBar | null)?.finish({ stopped: stop.requested });
  }
}

/** What a watched training run reports back. */
export interface TrainingRun {
  /** The loss of every step taken, in order. */
  losses: number[];
  /** Per finished epoch: the step count at its end and its mean loss. */
  epochEnds: Array<{ step: number; meanLoss: number }>;
  seconds: number;
  completed: boolean;
}

/** Runs `trainer` to its end (or the stop button) with a progress bar showing loss and rate. */
export async function trainWithProgress(trainer: Trainer<TrainableNoiseModel>, onStep?: (report: StepReport) => void): Promise<TrainingRun> {
  const total = trainer.config.epochs * trainer.stepsPerEpoch;
  const bar = progressBar({ total, label: "training", imagesPerStep: trainer.config.batchSize });
  const stop = watchForStop();
  const run: TrainingRun = { losses: [], epochEnds: [], seconds: 0, completed: false };
  try {
    const { completed } = await trainer.run({
      onStep: (report) => {
        run.losses.push(report.loss);
        bar.update(report.globalStep, { loss: report.loss, lr: report.learningRate });
        onStep?.(report);
      },
      onEpoch: (report) => void run.epochEnds.push({ step: run.losses.length, meanLoss: report.meanLoss }),
      shouldStop: stop.shouldStop,
    });
    run.completed = completed;
  } finally {
    stop.release();
    bar.finish({ stopped: stop.requested });
    run.seconds = bar.elapsedSeconds;
  }
  return run;
}
