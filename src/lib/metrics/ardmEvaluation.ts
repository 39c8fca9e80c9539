/**
 * How good and how fast is an ARDM at k variables per network call? Draws n sprites by
 * Algorithm 2 with parallel groups of k (Hoogeboom et al. 2022, Sec. 3.2; ceil(D / k) calls), in
 * batches, and measures them as the Gaussian models are measured (modelEvaluation.ts): the sprite
 * Frechet distance against n held-out real sprites beside the real-vs-real floor at the same n,
 * the classes they fall in, and the time, as seconds per 32 sprites (the bench's batch).
 *
 * Batch b of B sprites draws its orders and values from deriveSeed(seed, b): the samples depend on
 * the batch size, which the row records. The logits come from ONNX Runtime (OnnxArdmNetwork, from
 * the same weights) when it can (engine "auto", ../onnx/samplingEngine.ts), and the row then
 * records engine "onnx".
 */
import * as tf from "@tensorflow/tfjs-core";
import type { LoadedArdm } from "../ardm/checkpoint";
import { variablesToImages } from "../ardm/images";
import { sampleArdm } from "../ardm/sampling";
import { deriveSeed } from "../data/sprites/prng";
import { type EngineRequest, ardmNetworkEngine } from "../onnx/samplingEngine";
import { SPRITE_CLASS_NAMES } from "../data/sprites/classes";
import type { SpriteClassifier } from "./classifier";
import { classShares, sfdAgainstHeldOut } from "./evaluate";
import { type RealSpriteSet, realSpriteSet } from "./realSprites";

export interface ArdmEvaluationOptions {
  /** The checkpoint folder as given (recorded). */
  checkpoint: string;
  loaded: LoadedArdm;
  /** Variables decoded per network call, 1..D. */
  k: number;
  n: number;
  seed: number;
  /** Sprites per sampling batch (default 50). */
  batch?: number;
  classifier: SpriteClassifier;
  real?: RealSpriteSet;
  /** The engine of the network's forward (default "auto": ONNX Runtime when it can); a row sampled on ONNX Runtime records engine "onnx". */
  engine?: EngineRequest;
  /** Told which engine samples, and why (one line). */
  onEngine?: (reason: string) => void;
  onStep?: (call: number, calls: number, batch: number, batches: number) => void;
}

/** A recorded row (models/evaluation.json's ardm part). */
export interface ArdmEvaluation {
  checkpoint: string;
  epoch: number;
  globalStep: number;
  weights: "ema" | "raw";
  k: number;
  /** Network calls per sprite batch: ceil(D / k). */
  calls: number;
  n: number;
  seed: number;
  batch: number;
  sfd: number;
  sfdFloor: number;
  /** Share of the samples the sprite classifier puts in each class. */
  classShares: Record<string, number>;
  /** Sampling time (the network calls and draws, not the measuring), per 32 sprites and in all. */
  secondsPer32: number;
  samplingSeconds: number;
  backend: string;
  /** "onnx" when the network's forward ran on ONNX Runtime (absent: TensorFlow.js, on `backend`). */
  engine?: "onnx";
}

/** See the module comment. Frees everything it makes. */
export async function evaluateArdm(options: ArdmEvaluationOptions): Promise<ArdmEvaluation> {
  const { loaded, k, n, seed, classifier } = options;
  const { network, manifest } = loaded;
  const batch = options.batch ?? 50;
  const D = network.dimensions;
  if (!Number.isInteger(k) || k < 1 || k > D) throw new Error(`evaluateArdm: k must be a whole number in 1..${D} (variables per network call), got ${k}.`);
  if (!Number.isInteger(n) || n < 2) throw new Error(`evaluateArdm: n must be a whole number >= 2 (500 or more for a reportable distance), got ${n}.`);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`evaluateArdm: batch must be a whole number >= 1, got ${batch}.`);
  const { height, width, channels } = network.config;
  const values = new Int32Array(n * D);
  const batches = Math.ceil(n / batch);
  const calls = Math.ceil(D / k);
  let samplingSeconds = 0;
  const engine = await ardmNetworkEngine(network, options.engine, { what: options.checkpoint });
  options.onEngine?.(engine.reason);
  try {
    for (let b = 0; b < batches; b++) {
      const count = Math.min(batch, n - b * batch);
      const began = Date.now();
      const result = await sampleArdm(engine.model, { count, seed: deriveSeed(seed, b), perCall: k, onStep: (call) => options.onStep?.(call, calls, b + 1, batches) });
      values.set(await result.samples.data(), b * batch * D);
      result.samples.dispose();
      samplingSeconds += (Date.now() - began) / 1000;
    }
  } finally {
    await engine.dispose();
  }
  const images = variablesToImages(values, [height, width, channels]);
  try {
    const { sfd, sfdFloor } = await sfdAgainstHeldOut(classifier, images, seed, options.real ?? realSpriteSet());
    const shares = await classShares(classifier, images);
    return {
      checkpoint: options.checkpoint,
      epoch: manifest.training.epoch,
      globalStep: manifest.training.globalStep,
      weights: loaded.weights,
      k,
      calls,
      n,
      seed,
      batch,
      sfd,
      sfdFloor,
      classShares: Object.fromEntries(SPRITE_CLASS_NAMES.map((name, c) => [name, shares[c]])),
      secondsPer32: (samplingSeconds * 32) / n,
      samplingSeconds,
      backend: tf.getBackend(),
      ...(engine.engine === "onnx" ? { engine: "onnx" as const } : {}),
    };
  } finally {
    images.dispose();
  }
}
