/**
 * The long loops of the lessons, each with a live progress bar and the notebook's stop button:
 * sampling with any sampler, and training. The loops themselves are the library's (`sample`,
 * `Trainer.run`); this file only watches them, and lets sampling run the network on the fastest
 * engine (ONNX Runtime when it can: ../onnx/samplingEngine.ts), as the commands do.
 */
import * as tf from "@tensorflow/tfjs-core";
import { type NoiseModel, type SampleResult, type SamplerOptions, type SamplerStart } from "../diffusion/sampling";
import { type GuidanceChoice, type SamplerChoice, modelEvaluations, sample, samplerLabel } from "../diffusion/samplers";
import type { Schedule } from "../diffusion/schedule";
import type { EditLoopOptions, EditResult } from "../editing/editLoop";
import type { TrainableNoiseModel } from "../model/trainableNoiseModel";
import { CLASSIFIER_GUIDANCE_NEEDS_TENSORFLOW, type EngineRequest, ardmNetworkEngine, noiseModelEngine } from "../onnx/samplingEngine";
import type { ArdmNetwork } from "../ardm/network";
import { type ArdmSampleOptions, type ArdmSampleResult, sampleArdm } from "../ardm/sampling";
import type { StepReport, Trainer } from "../train/trainer";
import { type ProgressBar, progressBar } from "./progress";
import { watchForStop } from "./stop";

export type SampleRunOptions = SamplerChoice & GuidanceChoice & Omit<SamplerOptions, "onStep" | "shouldStop"> & {
  /** Shown before the bar; default the sampler's label, e.g. "DDIM-25" or "DDIM-25, CFG w = 2". */
  label?: string;
  /**
   * Where the network's forward runs: "auto" (default; ONNX Runtime, its graph built from the
   * model's weights at the call, when it can), "onnx", or "tfjs" (TensorFlow.js: what a cell that
   * compares with the model's own predictNoise bit for bit needs).
   */
  engine?: EngineRequest;
};

/** A finished (or stopped) sampling run, its wall time (the ONNX graph's build included) and the engine it ran on. */
export interface SampleRun {
  /** The sampler's result; the caller disposes result.samples and result.frames. */
  result: SampleResult;
  seconds: number;
  engine: "onnx" | "tfjs";
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
  const { label = samplerLabel(options, schedule), engine: request = "auto", ...choice } = options;
  const total = modelEvaluations(options, schedule);
  const images = "count" in start ? start.count : start.shape[0];
  const began = performance.now();
  const needsTensorFlow = choice.classifierGuidance?.scale ? CLASSIFIER_GUIDANCE_NEEDS_TENSORFLOW : undefined;
  const engine = await noiseModelEngine(model as NoiseModel & object, request, { needsTensorFlow });
  const bar = progressBar({ total, label: engine.engine === "onnx" ? `${label} (ONNX Runtime)` : label, imagesPerStep: images });
  const stop = watchForStop();
  try {
    const result = await sample(engine.model, schedule, start, context, {
      saveFrame: () => false,
      ...choice,
      onStep: ({ step }) => bar.update(step),
      shouldStop: stop.shouldStop,
    });
    const seconds = (performance.now() - began) / 1000;
    if (!result.completed) console.log(`${label}: stopped after ${result.stepsTaken} of ${total} steps, so the images are still partly noise.`);
    return { result, seconds, engine: engine.engine };
  } finally {
    stop.release();
    bar.finish({ stopped: stop.requested });
    await engine.dispose();
  }
}

/** A finished (or stopped) ARDM sampling run, its wall time (the ONNX graph's build included) and its engine. */
export interface ArdmSampleRun {
  /** The loop's result; the caller disposes result.samples. */
  result: ArdmSampleResult;
  seconds: number;
  engine: "onnx" | "tfjs";
}

/**
 * sampleArdm (Hoogeboom et al. 2022, Algorithm 2; k variables a call with perCall) with a progress
 * bar over the network calls and the stop button, the network on the fastest engine (`engine`, as
 * sampleWithProgress). A stopped run leaves its undecoded variables 0 and says so.
 */
export async function sampleArdmWithProgress(network: ArdmNetwork, label: string, options: Omit<ArdmSampleOptions, "onStep" | "shouldStop"> & { engine?: EngineRequest }): Promise<ArdmSampleRun> {
  const { engine: request = "auto", ...sampling } = options;
  const calls = sampling.groups?.length ?? Math.ceil(network.dimensions / (sampling.perCall ?? 1));
  const began = performance.now();
  const engine = await ardmNetworkEngine(network as ArdmNetwork & object, request);
  const bar = progressBar({ total: calls, label: engine.engine === "onnx" ? `${label} (ONNX Runtime)` : label, imagesPerStep: sampling.count });
  const stop = watchForStop();
  try {
    const result = await sampleArdm(engine.model, { ...sampling, onStep: (step) => bar.update(step), shouldStop: stop.shouldStop });
    if (!result.completed) console.log(`${label}: stopped after ${result.stepsTaken} of ${calls} calls; the undecoded channels are 0.`);
    return { result, seconds: (performance.now() - began) / 1000, engine: engine.engine };
  } finally {
    stop.release();
    bar.finish({ stopped: stop.requested });
    await engine.dispose();
  }
}

/** A run's engine in words: "ONNX Runtime", or "TensorFlow.js (tensorflow)" with the backend. */
export function engineLabel(engine: SampleRun["engine"]): string {
  return engine === "onnx" ? "ONNX Runtime" : `TensorFlow.js (${tf.getBackend()})`;
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
