/**
 * What the trainer, the training loss, the weight average and checkpoints ask of a network: an
 * eps-prediction model eps_theta(x_t, t / T, context) with named weights. ContextUnet (the
 * course's, 16x16 sprites with a class context) and AttentionUnet (DDPM from scratch, any size,
 * unconditional) both are one; the samplers need less (NoiseModel, ../diffusion/sampling.ts).
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { RunningStatUpdate } from "./layers";
import type { ParameterStore, WeightMap } from "./parameters";

export interface TrainableNoiseModel {
  /** [height, width, channels] of the images it takes and the eps it predicts. */
  readonly imageShape: readonly [number, number, number];
  /** Length of its context vector: the number of classes, or 0 for an unconditional model. */
  readonly contextSize: number;
  /** Does it predict its reverse variance too (improved DDPM's v), beside eps? */
  readonly learnsVariance: boolean;
  /** Every weight and state tensor by its PyTorch-style key (what the weight average copies). */
  readonly parameters: ParameterStore;
  /** Trainable scalars (PyTorch's sum of numel over parameters()). */
  readonly parameterCount: number;
  /** The trainable parameters by key, as Adam's constructor takes them. */
  trainableParameters(): Map<string, tf.Variable>;
  trainableVariables(): tf.Variable[];
  /** eps in x_t [N, H, W, C] at t / T ([N] or a number), inference mode; the caller owns it. */
  predictNoise(x: tf.Tensor4D, tFraction: tf.Tensor1D | number, context: tf.Tensor2D | null): tf.Tensor4D;
  /**
   * The same in training mode, with v when learnsVariance and BatchNorm's running statistics
   * (kept, unassigned; empty without BatchNorm) to commit or discard; the caller owns predNoise and v.
   */
  forwardTraining(x: tf.Tensor4D, tFraction: tf.Tensor1D | number, context: tf.Tensor2D | null): { predNoise: tf.Tensor4D; v?: tf.Tensor4D; statUpdates: RunningStatUpdate[] };
  getWeights(): Promise<WeightMap>;
  /** Loads weights by key; throws listing every missing, unexpected or mis-shaped one. */
  setWeights(weights: WeightMap): void;
  dispose(): void;
}
