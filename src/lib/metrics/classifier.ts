/**
 * A small sprite classifier: the measuring instrument behind context accuracy and the sprite
 * Frechet distance (SFD). Built like the ContextUnet (named parameters in a ParameterStore, the
 * same conv / BatchNorm / linear layers), and cheap: about 1.5 MFLOP per sprite.
 *
 *   x [N,16,16,3] in [-1, 1] (clipped)
 *   conv1 3x3 3->16, BN, ReLU, MaxPool 2        -> [N, 8, 8, 16]
 *   conv2 3x3 16->32, BN, ReLU, MaxPool 2       -> [N, 4, 4, 32]
 *   conv3 3x3 32->64, BN, ReLU, flatten         -> [N, 1024]
 *   features: Linear 1024->64, ReLU             -> [N, 64]   the penultimate features (SFD)
 *   logits:   Linear 64->5                      -> [N, 5]    classes 0 hero .. 4 side-facing
 *
 * The same code measures the 28x28 sets (MNIST: 1 channel, 10 classes; textures: 3 channels, 6)
 * through the config (imageSetClassifierConfig in imageSetClassifier.ts): `height` 28,
 * `inChannels` and `classes` of the set, and `finalPool`, one more 2x2 max pool after conv3
 * (7x7 -> 3x3, flooring), so the features layer reads 3*3*64 = 576 values instead of 7*7*64 = 3136
 * (37 thousand weights instead of 200 thousand; about 60 thousand parameters, 0.24 MB, in all).
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkImageBatch } from "../model/imageBatch";
import {
  type RunningStatUpdate,
  applyBatchNorm,
  applyConv,
  applyLinear,
  batchNormSpecs,
  convSpecs,
  linearSpecs,
} from "../model/layers";
import type { ParameterSpec } from "../model/parameters";
import { ParameterizedNetwork } from "../model/parameterizedNetwork";

export interface SpriteClassifierConfig {
  /** Image height = width (16; 28 for the 28x28 sets), divisible by 4. */
  height: number;
  /** Image channels (3, RGB; 1 for MNIST). */
  inChannels: number;
  /** Output channels of conv1, conv2, conv3. */
  channels: [number, number, number];
  /** Width of the penultimate feature layer (the vectors SFD fits Gaussians to). */
  featureSize: number;
  /** Number of classes (5, as the course's labels; 10 for MNIST, 6 for the textures). */
  classes: number;
  /**
   * A third 2x2 max pool after conv3 (false for the sprites, whose shipped classifier has none):
   * the flatten is then floor(height / 8)^2 * conv3 channels wide. Saved configs without the
   * field are read as false.
   */
  finalPool: boolean;
}

export const DEFAULT_CLASSIFIER_CONFIG: Readonly<SpriteClassifierConfig> = Object.freeze({
  height: 16,
  inChannels: 3,
  channels: [16, 32, 64] as [number, number, number],
  featureSize: 64,
  classes: 5,
  finalPool: false,
});

/** Side of conv3's output as the features layer sees it: height / 4, or floor(height / 8) after the final pool. */
function flatSide(c: SpriteClassifierConfig): number {
  return c.finalPool ? Math.floor(c.height / 8) : c.height / 4;
}

function architecture(c: SpriteClassifierConfig): ParameterSpec[] {
  const [c1, c2, c3] = c.channels;
  const flat = flatSide(c) * flatSide(c) * c3;
  return [
    ...convSpecs("conv1", c.inChannels, c1, 3),
    ...batchNormSpecs("bn1", c1),
    ...convSpecs("conv2", c1, c2, 3),
    ...batchNormSpecs("bn2", c2),
    ...convSpecs("conv3", c2, c3, 3),
    ...batchNormSpecs("bn3", c3),
    ...linearSpecs("features", flat, c.featureSize),
    ...linearSpecs("logits", c.featureSize, c.classes),
  ];
}

/** What one forward pass gives: both tensors owned by the caller. */
export interface ClassifierOutput {
  /** [N, featureSize] penultimate features (after ReLU). */
  features: tf.Tensor2D;
  /** [N, classes] unnormalised class scores. */
  logits: tf.Tensor2D;
}

export class SpriteClassifier extends ParameterizedNetwork {
  readonly config: Readonly<SpriteClassifierConfig>;

  /** A new classifier with PyTorch's default initialisation from `seed`; call dispose() when done. */
  constructor(config: Partial<SpriteClassifierConfig> = {}, seed = 0) {
    super("SpriteClassifier");
    this.config = Object.freeze({ ...DEFAULT_CLASSIFIER_CONFIG, ...config });
    if (this.config.height % 4 !== 0) throw new Error(`SpriteClassifier: height must be divisible by 4, got ${this.config.height}.`);
    architecture(this.config).forEach((spec, i) => this.parameters.create(spec, seed * 1000 + i));
  }

  /**
   * Features and logits of a batch, in inference mode (BatchNorm uses its running statistics).
   * @param x  [N, H, H, C] images, NHWC; clipped to [-1, 1] first, as the static grids show
   *           them, so a sampler's slight overshoot is judged as it looks.
   */
  forward(x: tf.Tensor4D): ClassifierOutput {
    const { features, logits } = this.apply(x, false);
    return { features, logits };
  }

  /**
   * The same in training mode: BatchNorm uses batch statistics, and the new running statistics
   * come back unassigned and kept, for the caller to commit (commitStatUpdates) or discard.
   */
  forwardTraining(x: tf.Tensor4D): ClassifierOutput & { statUpdates: RunningStatUpdate[] } {
    const out = this.apply(x, true);
    for (const update of out.statUpdates) tf.keep(update.value);
    return out;
  }

  private apply(x: tf.Tensor4D, training: boolean): ClassifierOutput & { statUpdates: RunningStatUpdate[] } {
    this.checkInput(x);
    const p = this.parameters;
    return tf.tidy(() => {
      const statUpdates: RunningStatUpdate[] = [];
      const block = (h: tf.Tensor4D, conv: string, norm: string) => {
        const normalised = applyBatchNorm(p, norm, applyConv(p, conv, h), training);
        statUpdates.push(...normalised.statUpdates);
        return tf.relu(normalised.y) as tf.Tensor4D;
      };
      const clipped = tf.clipByValue(x, -1, 1) as tf.Tensor4D;
      const h1 = tf.maxPool(block(clipped, "conv1", "bn1"), 2, 2, "valid");
      const h2 = tf.maxPool(block(h1, "conv2", "bn2"), 2, 2, "valid");
      const h3 = this.config.finalPool ? tf.maxPool(block(h2, "conv3", "bn3"), 2, 2, "valid") : block(h2, "conv3", "bn3");
      const flat = tf.reshape(h3, [x.shape[0], -1]) as tf.Tensor2D;
      const features = tf.relu(applyLinear(p, "features", flat)) as tf.Tensor2D;
      return { features, logits: applyLinear(p, "logits", features), statUpdates };
    });
  }

  /** [N, classes] logits (inference mode). The caller owns the result. */
  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.forward(x).logits);
  }

  /** [N, featureSize] penultimate features (inference mode). The caller owns the result. */
  features(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.forward(x).features);
  }

  private checkInput(x: tf.Tensor4D): void {
    const { height, inChannels } = this.config;
    checkImageBatch(x, height, inChannels, "SpriteClassifier: images", ", values in [-1, 1]");
  }
}

/**
 * Lets timers and I/O run between chunks of a long computation: on the cpu backend `await
 * t.data()` resolves at once, so without this a long loop never yields (a notebook's stop button
 * and a test runner's heartbeat would wait for the whole loop).
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Per-sample results of running the classifier over many images (plain arrays, no tensors). */
export interface Classification {
  count: number;
  /** Predicted class per image (argmax of the logits). */
  classes: Uint8Array;
  /** The classifier's confidence per image: its largest class probability, max_k softmax(logits)_k. */
  confidences: Float32Array;
  /** Penultimate features, count x featureSize row-major. */
  features: Float32Array;
  featureSize: number;
}

/**
 * Runs the classifier over `images` [N, H, H, C] (its size: the sprites' [N, 16, 16, 3]) in
 * batches (to bound memory), reading back the predicted classes and features. Disposes everything it makes; `images` stays the caller's.
 */
export async function classifyImages(classifier: SpriteClassifier, images: tf.Tensor4D, batchSize = 500): Promise<Classification> {
  const count = images.shape[0];
  const featureSize = classifier.config.featureSize;
  const classes = new Uint8Array(count);
  const confidences = new Float32Array(count);
  const features = new Float32Array(count * featureSize);
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const [batchFeatures, batchClasses, batchConfidences] = tf.tidy(() => {
      const batch = tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]);
      const out = classifier.forward(batch);
      return [out.features, tf.argMax(out.logits, 1), tf.max(tf.softmax(out.logits), 1)];
    });
    features.set(await batchFeatures.data(), start * featureSize);
    classes.set(await batchClasses.data(), start);
    confidences.set(await batchConfidences.data(), start);
    tf.dispose([batchFeatures, batchClasses, batchConfidences]);
    await yieldToEventLoop();
  }
  return { count, classes, confidences, features, featureSize };
}
