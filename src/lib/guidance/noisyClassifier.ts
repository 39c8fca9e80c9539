/**
 * A classifier of noisy sprites p(y | x_t, t) for classifier guidance (Dhariwal & Nichol 2021,
 * "Diffusion Models Beat GANs", Sec. 4: a classifier trained on noised images, told the step t).
 * Built like the metric classifier (../metrics/classifier.ts): named parameters in a
 * ParameterStore, the ContextUnet's conv / linear / GELU layers, PyTorch's default init.
 *
 *   x_t [N,16,16,3] (not clipped: noisy images leave [-1, 1]),  tFraction = t / T  [N]
 *   conv1 3x3 3->32  + timeembed1(t/T), GELU, AvgPool 2      -> [N, 8, 8, 32]
 *   conv2 3x3 32->64 + timeembed2(t/T), GELU, AvgPool 2      -> [N, 4, 4, 64]
 *   conv3 3x3 64->64 + timeembed3(t/T), GELU, flatten (NHWC) -> [N, 1024]
 *   hidden: Linear 1024->128, GELU                           -> [N, 128]
 *   logits: Linear 128->5                                    -> [N, 5]   classes 0 hero .. 4 side-facing
 * timeembedK is the ContextUnet's EmbedFC, Linear(1, C) GELU Linear(C, C), added per channel.
 * 197,861 parameters (0.8 MB of float32), about 2.1 M multiply-adds per sprite.
 *
 * No BatchNorm: guidance takes input gradients of a whole batch at one t, and batch statistics
 * would couple the samples (and differ between training and use); the network is a pure function
 * of (x_t, t). Average pooling rather than max pooling spreads the input gradient over every
 * pixel instead of one per window, so the guidance direction is smooth.
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkImageBatch } from "../model/imageBatch";
import { applyEmbed, embedSpecs } from "../model/blocks";
import { convSpecs, gelu, linearSpecs } from "../model/layers";
import { type ParameterSpec, ParameterStore } from "../model/parameters";
import type { NoisyClassifierModel } from "./noisyClassifierModel";
import { ParameterizedNetwork } from "../model/parameterizedNetwork";

export interface NoisyClassifierConfig {
  /** Image height = width (16), divisible by 4. */
  height: number;
  /** Image channels (3, RGB). */
  inChannels: number;
  /** Output channels of conv1, conv2, conv3 (each with its own time embedding). */
  channels: [number, number, number];
  /** Width of the hidden layer between the flattened features and the logits. */
  hiddenSize: number;
  /** Number of classes (5, as the course's labels). */
  classes: number;
}

export const DEFAULT_NOISY_CLASSIFIER_CONFIG: Readonly<NoisyClassifierConfig> = Object.freeze({
  height: 16,
  inChannels: 3,
  channels: [32, 64, 64] as [number, number, number],
  hiddenSize: 128,
  classes: 5,
});

/*
 * Convolution and Linear as separate bias adds, not the fused kernels of ../model/layers: the
 * fused kernels' gradient computes the weight gradients too, which guidance (grad_x only) never
 * uses; unfused, autodiff prunes them (the input gradient costs about half as much).
 */
function conv(p: ParameterStore, key: string, x: tf.Tensor4D): tf.Tensor4D {
  return tf.add(tf.conv2d(x, p.get(`${key}.weight`) as tf.Tensor4D, 1, "same"), p.get(`${key}.bias`));
}

function linear(p: ParameterStore, key: string, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(x, p.get(`${key}.weight`) as tf.Tensor2D), p.get(`${key}.bias`));
}

function architecture(c: NoisyClassifierConfig): ParameterSpec[] {
  const [c1, c2, c3] = c.channels;
  const flat = (c.height / 4) * (c.height / 4) * c3;
  return [
    ...convSpecs("conv1", c.inChannels, c1, 3),
    ...embedSpecs("timeembed1", 1, c1),
    ...convSpecs("conv2", c1, c2, 3),
    ...embedSpecs("timeembed2", 1, c2),
    ...convSpecs("conv3", c2, c3, 3),
    ...embedSpecs("timeembed3", 1, c3),
    ...linearSpecs("hidden", flat, c.hiddenSize),
    ...linearSpecs("logits", c.hiddenSize, c.classes),
  ];
}

export class NoisySpriteClassifier extends ParameterizedNetwork implements NoisyClassifierModel {
  readonly config: Readonly<NoisyClassifierConfig>;

  /** A new classifier with PyTorch's default initialisation from `seed`; call dispose() when done. */
  constructor(config: Partial<NoisyClassifierConfig> = {}, seed = 0) {
    super("NoisySpriteClassifier");
    this.config = Object.freeze({ ...DEFAULT_NOISY_CLASSIFIER_CONFIG, ...config });
    if (this.config.height % 4 !== 0) throw new Error(`NoisySpriteClassifier: height must be divisible by 4, got ${this.config.height}.`);
    architecture(this.config).forEach((spec, i) => this.parameters.create(spec, seed * 1000 + i));
  }

  /** Number of classes K. */
  get classes(): number {
    return this.config.classes;
  }

  /**
   * [N, K] logits of x_t [N, H, H, C] (NHWC, any range) at per-sample steps: tFraction [N] holds
   * t_i / T in [0, 1]. What training uses (every sample its own t). The caller owns the result.
   */
  forward(x: tf.Tensor4D, tFraction: tf.Tensor1D): tf.Tensor2D {
    this.checkInput(x);
    if (tFraction.rank !== 1 || tFraction.shape[0] !== x.shape[0]) {
      throw new Error(`NoisySpriteClassifier: tFraction has shape [${tFraction.shape}] for a batch of ${x.shape[0]}; pass one t / T per image, shape [${x.shape[0]}].`);
    }
    return tf.tidy(() => this.run(x, tf.reshape(tf.cast(tFraction, "float32"), [-1, 1]) as tf.Tensor2D));
  }

  /** The network on x [N, ...] and t / T as [N, 1], or [1, 1] for one step (its embedding then broadcasts). */
  private run(x: tf.Tensor4D, t: tf.Tensor2D): tf.Tensor2D {
    const p = this.parameters;
    return tf.tidy(() => {
      const block = (h: tf.Tensor4D, k: number) => gelu(tf.add(conv(p, `conv${k}`, h), applyEmbed(p, `timeembed${k}`, t))) as tf.Tensor4D;
      const h1 = tf.avgPool(block(x, 1), 2, 2, "valid");
      const h2 = tf.avgPool(block(h1, 2), 2, 2, "valid");
      const flat = tf.reshape(block(h2, 3), [x.shape[0], -1]) as tf.Tensor2D;
      return linear(p, "logits", gelu(linear(p, "hidden", flat)) as tf.Tensor2D);
    });
  }

  /**
   * [N, K] logits of x_t [N, H, H, C] with one step for the whole batch, tFraction = t / T in
   * [0, 1]: what classifier guidance calls (NoisyClassifierModel). The caller owns the result.
   */
  logits(x: tf.Tensor4D, tFraction: number): tf.Tensor2D {
    if (typeof tFraction !== "number" || !(tFraction >= 0 && tFraction <= 1)) {
      throw new Error(`NoisySpriteClassifier: tFraction must be t / T in [0, 1], got ${tFraction}; pass the step divided by T.`);
    }
    this.checkInput(x);
    // One step for the batch: its time embeddings are computed once and broadcast over the images.
    return tf.tidy(() => this.run(x, tf.fill([1, 1], tFraction) as tf.Tensor2D));
  }

  private checkInput(x: tf.Tensor4D): void {
    const { height, inChannels } = this.config;
    checkImageBatch(x, height, inChannels, "NoisySpriteClassifier: images");
  }
}
