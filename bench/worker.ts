/**
 * One side of one bench case, in its own process so its peak memory is its own:
 *   node --import tsx bench/worker.ts --backend tensorflow --case train --warmup 2 --reps 5
 * Prints one JSON line (a `WorkerResult`), the same shape as contextunet_torch.py's `bench` line:
 * `times_ms` holds one entry per timed repetition, after `warmup` untimed ones.
 *
 * What a repetition is, on the same terms as the PyTorch reference:
 * - train:  one Trainer step at batch 100 (fresh t and noise, forward, L_simple, backward, Adam).
 * - sample: one DDPM step at batch 32 (eval-mode forward + the update), t = 250, clamped to +-5.
 * - ddim:   sampleDdim, 25 steps, 32 sprites, no frames kept.
 * - ddpm:   sampleDdpm stopped after 25 of its 500 steps (x 20 = DDPM-500), no frames kept.
 * - cfg-ddim: DDIM-25 of 32 with classifier-free guidance w = 2 (one doubled-batch forward a step).
 * - classifier-ddim: DDIM-25 of 32 on the zero context with classifier guidance s = 3 (a forward
 *   and the noisy classifier's input gradient a step).
 * - classifier-grad: the noisy classifier's forward + grad_x log p(y | x_t, t), batch 32.
 * - hybrid-train: one Trainer step at batch 100 of improved DDPM (Nichol & Dhariwal 2021): the
 *   6-channel ContextUnet, cosine schedule, hybrid loss L_simple + T/1000 L_vlb (Sec. 3.1), Adam.
 * - learned-sample: one DDPM step at batch 32 on the respaced chain of 50 of the 500 steps
 *   (Sec. 4) with the learned variance (eq. 15): eval-mode forward + posterior step, t = 250 -> 240,
 *   clamped to +-5.
 * - attention-train: one Trainer step of the attention UNet exactly as `npm run train -- --config
 *   configs/mnist.json` makes it (ddpmTrainer: the config's model, linear schedule, batch 64 and
 *   Adam learning rate, no context, L_simple) on synthetic 28x28x1 images.
 * - attention-sample: one DDPM step of that model at batch 32 (eval forward + update), t = T / 2,
 *   clamped to +-5.
 * - attention-ddim: sampleDdim of that model, 25 of its T = 1000 steps, 32 images, no frames kept.
 * - onnx-sample, attention-onnx-sample: sample and attention-sample with eps from ONNX Runtime
 *   (onnxruntime-node, CPU, 2 threads as the reference) running the network's ONNX graph
 *   (src/lib/onnx, built from the same weights); the update stays on the TensorFlow.js backend.
 * - onnx-ddim, attention-onnx-ddim: ddim and attention-ddim the same way: sampleDdim awaiting the
 *   ONNX model's eps at each of its 25 steps (the session built once, before the warm-up).
 * - cfg-onnx-ddim: cfg-ddim with that eps: one doubled-batch ONNX run a step (w = 2).
 * - ardm-train: one training step of the ARDM transformer at the sprites' size
 *   (ARDM_SPRITE_TRANSFORMER, batch 16 of random 16x16x3 uint8 images, the batch of its training
 *   recipe): ardmTrainingLoss (a fresh t and sigma per datum, Eq. 4), its gradient, Adam 1e-3 (the
 *   recipe's peak rate; its warm-up and EMA are left out, as the other training rows leave out EMA).
 * - ardm-step: the ARDM transformer's logits at one decoding step, batch 32 (a fresh random mask,
 *   as a step of sampleArdm sees; the categorical draw itself is not timed).
 * - ardm-conv-train, ardm-conv-step: the same for the ARDM's convolutional UNet (ARDM_SPRITE_CONV_UNET,
 *   about the transformer's size), against bench/ardm_conv_torch.py.
 * - ardm-onnx-step, ardm-conv-onnx-step: ardm-step and ardm-conv-step with the logits from ONNX
 *   Runtime (OnnxArdmNetwork, CPU, 2 threads) running the network's ONNX graph (src/lib/onnx, built
 *   from the same weights): x and the mask read back, the logits handed back as a tensor.
 * - text-train: one Trainer step of the text model (models/text: its caption encoder into the
 *   course's UNet with a 32-wide context) at batch 100 of synthetic sprites and random captions, as
 *   `npm run train -- --text` (the course's recipe, caption dropout 0.1), no EMA as the train row.
 * - text-sample: one DDPM step of that model at batch 32 (eval forward, encoder included, and the
 *   update), t = 250, clamped to +-5; both against bench/caption_encoder_torch.py's text modes.
 * - text-onnx-sample: text-sample with eps from ONNX Runtime (the UNet's graph; the captions
 *   encoded on TensorFlow.js once, as a sampling run's context), against the same PyTorch rows.
 * - matmul: one [n, n] x [n, n] float32 product (the backend's sustained GFLOP/s).
 * The guidance settings match bench/guidance_torch.py's defaults; the improved-DDPM ones
 * bench/improved_ddpm_torch.py's; the attention UNet's bench/attention_unet_torch.py's (same config
 * file); the ARDM's bench/ardm_torch.py's; the text model's bench/caption_encoder_torch.py's. The last two networks' cases are in ./twinNetworks.ts,
 * the timing every case shares in ./timing.ts.
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../src/lib/backend";
import { reverseChainCoefficients } from "../src/lib/diffusion/posterior";
import { sampleDdim, sampleDdpm, stridedPlan } from "../src/lib/diffusion/sampling";
import { type Schedule, cosineSchedule, courseSchedule } from "../src/lib/diffusion/schedule";
import { posteriorStep } from "../src/lib/diffusion/steps";
import { withClassifierFreeGuidance } from "../src/lib/guidance/classifierFreeGuidance";
import { classifierGradient, withClassifierGuidance } from "../src/lib/guidance/classifierGuidance";
import { NoisySpriteClassifier } from "../src/lib/guidance/noisyClassifier";
import { ContextUnet } from "../src/lib/model/contextUnet";
import type { TrainConfig } from "../src/lib/train/config";
import { Trainer } from "../src/lib/train/trainer";
import { DDIM_STEPS, fixedData, syntheticBatch, timeDdpmStep, timeOnnxDdim, timeOnnxDdpmStep, timeReps, timeTrainer } from "./timing";
import { ARDM_TRAIN_BATCH } from "./sides";
import { attentionConfig, timeArdm, timeAttentionSampling, timeAttentionTraining, timeText } from "./twinNetworks";

export type BenchCase =
  | "train"
  | "sample"
  | "ddim"
  | "ddpm"
  | "cfg-ddim"
  | "classifier-ddim"
  | "classifier-grad"
  | "hybrid-train"
  | "learned-sample"
  | "attention-train"
  | "attention-sample"
  | "attention-ddim"
  | "onnx-sample"
  | "attention-onnx-sample"
  | "onnx-ddim"
  | "cfg-onnx-ddim"
  | "attention-onnx-ddim"
  | "ardm-train"
  | "ardm-step"
  | "ardm-conv-train"
  | "ardm-conv-step"
  | "ardm-onnx-step"
  | "ardm-conv-onnx-step"
  | "text-train"
  | "text-sample"
  | "text-onnx-sample"
  | "matmul";

export interface WorkerResult {
  side: "tfjs";
  backend: string;
  provider: string;
  case: BenchCase;
  batch: number;
  times_ms: number[];
  /** Process CPU time (all threads) per timed repetition. */
  cpu_ms: number[];
  /** VmHWM of this process: the most resident memory it ever held. */
  peak_rss_mb: number;
  /** Model steps per timed repetition (ddim and ddpm loops), or the matrix size for matmul. */
  steps?: number;
  n?: number;
  error?: string;
}

/** DDPM-500 is timed as 25 steps; the bench multiplies by T / 25 = 20. */
export const DDPM_TIMED_STEPS = 25;
const GUIDANCE_WEIGHT = 2;
const CLASSIFIER_SCALE = 3;
/** Improved DDPM: the cosine schedule (eq. 17) at the course's T; sampling on 50 of its steps, timed at t = 250. */
const IMPROVED_SCHEDULE = cosineSchedule({ T: 500 });
const IMPROVED_TRAINING: Partial<TrainConfig> = { loss: "hybrid", variance: "learned" };
const LEARNED_SAMPLE_STEPS = 50;
const LEARNED_SAMPLE_T = 250;

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

export function peakRssMb(): number {
  const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

/** ContextUnet Trainer steps on synthetic sprites (see timeTrainer). */
async function timeTraining(model: ContextUnet, batch: number, warmup: number, reps: number, recipe: Partial<TrainConfig> = {}, schedule: Schedule = courseSchedule) {
  const fixed = syntheticBatch(batch, 7);
  const trainer = new Trainer(model, fixedData(fixed, warmup + reps), { epochs: 1, batchSize: batch, useContext: true, emaDecay: null, ...recipe }, schedule);
  try {
    return await timeTrainer(trainer, warmup, reps);
  } finally {
    trainer.dispose();
    tf.dispose([fixed.images, fixed.labels]);
  }
}

async function run(benchCase: BenchCase, warmup: number, reps: number, n: number) {
  if (benchCase === "attention-train") return timeAttentionTraining(warmup, reps, n);
  if (benchCase === "attention-sample" || benchCase === "attention-ddim" || benchCase === "attention-onnx-sample" || benchCase === "attention-onnx-ddim") {
    return timeAttentionSampling(benchCase, warmup, reps, n);
  }
  if (benchCase === "ardm-train" || benchCase === "ardm-step" || benchCase === "ardm-conv-train" || benchCase === "ardm-conv-step") return timeArdm(benchCase, warmup, reps, n);
  if (benchCase === "ardm-onnx-step" || benchCase === "ardm-conv-onnx-step") return timeArdm(benchCase, warmup, reps, n);
  if (benchCase === "text-train" || benchCase === "text-sample" || benchCase === "text-onnx-sample") return timeText(benchCase, warmup, reps, n);
  if (benchCase === "matmul") {
    const a = tf.randomNormal([n, n], 0, 1, "float32", 1) as tf.Tensor2D;
    const b = tf.randomNormal([n, n], 0, 1, "float32", 2) as tf.Tensor2D;
    const result = await timeReps(warmup, reps, () => tf.matMul(a, b).dispose());
    tf.dispose([a, b]);
    return result;
  }
  if (benchCase === "classifier-grad") return timeClassifierGradient(warmup, reps, n);
  const improved = benchCase === "hybrid-train" || benchCase === "learned-sample";
  const model = new ContextUnet(improved ? { outChannels: 6 } : {}, 0);
  const batch = n;
  try {
    if (benchCase === "train") return await timeTraining(model, batch, warmup, reps);
    if (benchCase === "hybrid-train") return await timeTraining(model, batch, warmup, reps, IMPROVED_TRAINING, IMPROVED_SCHEDULE);
    const { labels: context } = syntheticBatch(batch, 3);
    let seed = 11;
    try {
      if (benchCase === "sample") return await timeDdpmStep(model, courseSchedule, context, warmup, reps);
      if (benchCase === "onnx-sample") return await timeOnnxDdpmStep(model, courseSchedule, context, warmup, reps);
      if (benchCase === "onnx-ddim") return await timeOnnxDdim(model, courseSchedule, context, warmup, reps);
      if (benchCase === "cfg-onnx-ddim") return await timeOnnxDdim(model, courseSchedule, context, warmup, reps, batch, GUIDANCE_WEIGHT);
      if (benchCase === "learned-sample") return await timeLearnedVarianceStep(model, context, warmup, reps);
      if (benchCase === "classifier-ddim") return await timeClassifierGuidedDdim(model, warmup, reps, batch);
      const guided = benchCase === "cfg-ddim" ? withClassifierFreeGuidance(model, GUIDANCE_WEIGHT) : model;
      const sampler =
        benchCase === "ddim" || benchCase === "cfg-ddim"
          ? () => sampleDdim(guided, courseSchedule, { count: batch, seed: seed++ }, context, { steps: DDIM_STEPS, saveFrame: () => false })
          : () => {
              let taken = 0;
              return sampleDdpm(model, courseSchedule, { count: batch, seed: seed++ }, context, {
                saveFrame: () => false,
                onStep: () => {
                  taken += 1;
                },
                shouldStop: () => taken >= DDPM_TIMED_STEPS,
              });
            };
      return await timeReps(warmup, reps, async () => {
        const { samples, frames } = await sampler();
        tf.dispose([samples, ...(frames ? [frames] : [])]);
      });
    } finally {
      context.dispose();
    }
  } finally {
    model.dispose();
  }
}

/**
 * One step of DDPM on the respaced chain with the model's learned variance, as sampleDdpm takes it:
 * x_prev = posterior mean at x0^ + exp(log Sigma / 2) z, log Sigma = v log beta' + (1 - v) log betaTilde'
 * (Nichol & Dhariwal 2021, eq. 15; Sec. 4 for beta' on the respaced chain).
 */
async function timeLearnedVarianceStep(model: ContextUnet, context: tf.Tensor2D, warmup: number, reps: number) {
  const schedule = IMPROVED_SCHEDULE;
  const chain = reverseChainCoefficients(schedule, stridedPlan(schedule, LEARNED_SAMPLE_STEPS, "DDPM"));
  const step = chain.find((c) => c.t === LEARNED_SAMPLE_T)!;
  let x = tf.randomNormal([context.shape[0], 16, 16, 3], 0, 1, "float32", 5) as tf.Tensor4D;
  let seed = 11;
  const result = await timeReps(warmup, reps, () => {
    const next = tf.tidy(() => {
      const z = tf.randomNormal(x.shape, 0, 1, "float32", seed++) as tf.Tensor4D;
      const { noise, v } = model.predictNoiseAndVariance(x, LEARNED_SAMPLE_T / schedule.T, context);
      const logVariance = tf.add(tf.mul(v, step.logBeta), tf.mul(tf.sub(1, v), step.logPosteriorVarianceClipped));
      // Clamped as the reference's sample mode, so repeated steps stay bounded.
      return tf.clipByValue(posteriorStep(x, noise, step, schedule, logVariance, z), -5, 5) as tf.Tensor4D;
    });
    x.dispose();
    x = next;
    x.dataSync();
  });
  x.dispose();
  return result;
}

/** Labels 0..4 in turn, as the twin's random ones: the cost does not depend on which. */
const benchLabels = (n: number) => Array.from({ length: n }, (_, i) => i % 5);

async function timeClassifierGradient(warmup: number, reps: number, n: number) {
  const classifier = new NoisySpriteClassifier({}, 0);
  const x = tf.randomNormal([n, 16, 16, 3], 0, 1, "float32", 5) as tf.Tensor4D;
  try {
    return await timeReps(warmup, reps, async () => {
      const gradient = classifierGradient(classifier, x, 0.5, benchLabels(n));
      await gradient.data();
      gradient.dispose();
    });
  } finally {
    tf.dispose(x);
    classifier.dispose();
  }
}

async function timeClassifierGuidedDdim(model: ContextUnet, warmup: number, reps: number, n: number) {
  const classifier = new NoisySpriteClassifier({}, 0);
  const guided = withClassifierGuidance(model, courseSchedule, { classifier, labels: benchLabels(n), scale: CLASSIFIER_SCALE, sampler: "ddim" });
  let seed = 11;
  try {
    return await timeReps(warmup, reps, async () => {
      const { samples, frames } = await sampleDdim(guided, courseSchedule, { count: n, seed: seed++ }, null, { steps: DDIM_STEPS, saveFrame: () => false });
      tf.dispose([samples, ...(frames ? [frames] : [])]);
    });
  } finally {
    classifier.dispose();
  }
}

/** Batch (or matrix size) of a case when --n is not given: the course's 100 for training (and the text model's), the config's for attention-train, the ARDM recipe's for ardm-train and ardm-conv-train, else 32. */
function defaultBatch(benchCase: BenchCase): number {
  if (benchCase === "train" || benchCase === "hybrid-train" || benchCase === "text-train") return 100;
  if (benchCase === "attention-train") return attentionConfig().training.batchSize;
  if (benchCase === "ardm-train" || benchCase === "ardm-conv-train") return ARDM_TRAIN_BATCH;
  return benchCase === "matmul" ? 2048 : 32;
}

async function main(): Promise<void> {
  const benchCase = flag("case", "sample") as BenchCase;
  const warmup = Number(flag("warmup", "2"));
  const reps = Number(flag("reps", "5"));
  const n = Number(flag("n", String(defaultBatch(benchCase))));
  const result: WorkerResult = {
    side: "tfjs",
    backend: flag("backend", "tensorflow"),
    provider: "",
    case: benchCase,
    batch: benchCase === "matmul" ? 0 : n,
    times_ms: [],
    cpu_ms: [],
    peak_rss_mb: 0,
  };
  const ddimCases: BenchCase[] = ["ddim", "cfg-ddim", "classifier-ddim", "attention-ddim", "onnx-ddim", "cfg-onnx-ddim", "attention-onnx-ddim"];
  if (ddimCases.includes(benchCase)) result.steps = DDIM_STEPS;
  if (benchCase === "ddpm") result.steps = DDPM_TIMED_STEPS;
  if (benchCase === "matmul") result.n = n;
  try {
    const choice = await initBackend(result.backend);
    result.provider = choice.provider;
    const { times, cpu } = await run(benchCase, warmup, reps, n);
    result.times_ms = times;
    result.cpu_ms = cpu;
  } catch (error) {
    result.error = String((error as Error).message ?? error).split("\n")[0];
  }
  result.peak_rss_mb = peakRssMb();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main().catch((error) => {
    process.stdout.write(`${JSON.stringify({ error: String(error) })}\n`);
    process.exit(1);
  });
}
