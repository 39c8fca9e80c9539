/**
 * The loop every edit shares: walk a list of chain moves (reverse steps down, forward jumps up),
 * optionally pasting the known pixels back after each reverse step, and hand out frames.
 * Inpainting (replacement, RePaint) and image-to-image (SDEdit) differ only in where they start,
 * which moves they make and whether they paste.
 */
import * as tf from "@tensorflow/tfjs-core";
import { deriveSeed } from "../data/sprites/prng";
import { yieldToEventLoop } from "../eventLoop";
import { type Schedule } from "../diffusion/schedule";
import { type NoiseModel, stepNoise } from "../diffusion/sampling";
import { type EditingChain, forwardJump } from "./editingChain";
import type { ChainMove } from "./repaintSchedule";

/** Progress after each move: the move's index (1-based), their count, and where the images now are. */
export interface EditProgress {
  move: number;
  moves: number;
  kind: ChainMove["kind"];
  /** The step t the images are at after the move. */
  t: number;
  /** Model evaluations so far. */
  modelEvaluations: number;
}

export interface EditLoopOptions {
  /** Seed of every fresh noise the loop draws (the same seed repeats the run exactly). */
  seed: number;
  /** Keep the images after this move? Default: keep none. */
  saveFrame?: (progress: EditProgress) => boolean;
  onMove?: (progress: EditProgress) => void | Promise<void>;
  shouldStop?: () => boolean;
}

export interface EditResult {
  /** [N, H, W, C] the images where the loop ended (the edit when completed); the caller owns it. */
  images: tf.Tensor4D;
  /** [F, N, H, W, C] kept frames in order, or null; the caller owns it. */
  frames: tf.Tensor5D | null;
  /** The step t of each frame (jumps make it go up as well as down). */
  frameSteps: number[];
  completed: boolean;
  /** Model evaluations made: the cost of the edit. */
  modelEvaluations: number;
}

/** Pastes the known pixels, noised to t with `noise`, over the generated ones; returns a new tensor. */
export type PasteKnown = (x: tf.Tensor4D, t: number, noise: tf.Tensor4D) => tf.Tensor4D;

/**
 * The fresh noise of one move. A reverse step's z on its first visit is the samplers' own
 * stepNoise(seed, t), so an edit that pastes nothing reproduces the plain sampler bit for bit;
 * later visits and the other uses (pasting, jumping) draw from seeds derived per (use, visit).
 */
export function editNoise(shape: [number, number, number, number], seed: number, use: "step" | "paste" | "jump", visit: number, t: number): tf.Tensor4D {
  const useIndex = { step: 0, paste: 1, jump: 2 }[use];
  return stepNoise(shape, use === "step" && visit === 0 ? seed : deriveSeed(seed, useIndex, visit), t);
}

async function throwIfNotFinite(images: tf.Tensor4D): Promise<void> {
  const values = await images.data();
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new Error(`Edit: the images hold a non-finite value (${values[bad]} at flat index ${bad}); the model's weights or the input image are broken (inputs must lie in [-1, 1]).`);
  }
}

/**
 * Walks `moves` along `chain` from `start` (not disposed): each reverse step asks the model for
 * the noise at t / T and, with `pasteKnown`, pastes the known pixels at the step's new t; each
 * jump re-noises with the forward process. Throws on a non-finite result.
 */
export async function runEditLoop(
  model: NoiseModel,
  schedule: Schedule,
  chain: EditingChain,
  start: tf.Tensor4D,
  context: tf.Tensor2D | null,
  moves: ChainMove[],
  pasteKnown: PasteKnown | null,
  options: EditLoopOptions,
): Promise<EditResult> {
  const { seed } = options;
  let x = start.clone();
  const kept: tf.Tensor4D[] = [];
  const frameSteps: number[] = [];
  let modelEvaluations = 0;
  let done = 0;
  try {
    for (const move of moves) {
      if (options.shouldStop?.()) break;
      const t = chain.timesteps[move.from];
      const tTo = chain.timesteps[move.to];
      const next = tf.tidy(() => {
        if (move.kind === "renoise") return forwardJump(x, t, tTo, schedule, editNoise(x.shape, seed, "jump", move.visit, t));
        const z = chain.drawsNoise(t, tTo) ? editNoise(x.shape, seed, "step", move.visit, t) : null;
        const stepped = chain.reverseStep(x, model.predictNoise(x, t / schedule.T, context), t, tTo, z);
        return pasteKnown ? pasteKnown(stepped, tTo, editNoise(x.shape, seed, "paste", move.visit, tTo)) : stepped;
      });
      x.dispose();
      x = next;
      done += 1;
      if (move.kind === "denoise") modelEvaluations += 1;
      const progress: EditProgress = { move: done, moves: moves.length, kind: move.kind, t: tTo, modelEvaluations };
      if (options.saveFrame?.(progress)) {
        kept.push(x.clone());
        frameSteps.push(tTo);
      }
      await options.onMove?.(progress);
      await yieldToEventLoop();
    }
    await throwIfNotFinite(x);
  } catch (error) {
    tf.dispose([x, ...kept]);
    throw error;
  }
  const frames = kept.length > 0 ? (tf.stack(kept) as tf.Tensor5D) : null;
  tf.dispose(kept);
  return { images: x, frames, frameSteps, completed: done === moves.length, modelEvaluations };
}
