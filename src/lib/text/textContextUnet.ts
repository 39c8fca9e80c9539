/**
 * A text-conditioned sprite model: the caption encoder (./captionEncoder.ts) gives the course's
 * ContextUnet its context vector, in place of the one-hot class, and both train together:
 *
 *   eps_theta(x_t, t / T, caption) = ContextUnet(x_t, t / T, CaptionEncoder(tokenize(caption)))
 *
 * The context this model takes is the caption's token ids: [N, maxTokens] float32 (contextSize =
 * maxTokens), as `captionContexts` makes them; the encoder turns them into the UNet's context
 * vectors inside every call. The ids travel where a one-hot class did, so the trainer and the
 * samplers need no change:
 *   - caption dropout: the trainer zeroes whole context rows with probability contextDropout
 *     (trainingDraws in ../train/trainer.ts: labels * keep), and a zeroed row of ids is all pads,
 *     the empty caption, so the model learns the unconditional eps(x_t, t) from it;
 *   - classifier-free guidance's "none" is tf.zerosLike(context) (../guidance/classifierFreeGuidance.ts),
 *     again the empty caption;
 *   - a null context (an unconditional call) means the empty caption too.
 * The training data's labels are then the captions' ids (./captionLabels.ts).
 *
 * Weights: one store over both networks, the encoder's keys under "encoder." and the UNet's under
 * "unet." (as a PyTorch module holding the two), so Adam, the weight average and checkpoints treat
 * it as one network. A checkpoint records the vocabulary beside both configs (architecture.ts), so
 * it rebuilds the tokenizer as well.
 */
import * as tf from "@tensorflow/tfjs-core";
import { deriveSeed } from "../data/sprites/prng";
import { ContextUnet, type ContextUnetConfig, resolveUnetConfig } from "../model/contextUnet";
import type { RunningStatUpdate } from "../model/layers";
import { ParameterStore } from "../model/parameters";
import { ParameterizedNetwork } from "../model/parameterizedNetwork";
import type { TrainableNoiseModel } from "../model/trainableNoiseModel";
import { CAPTION_ENCODER_DEFAULTS, CaptionEncoder, type CaptionEncoderConfig, checkCaptionEncoderConfig } from "./captionEncoder";
import { type EncodeOptions, WordTokenizer } from "./tokenizer";

export interface TextContextUnetConfig {
  /** The tokenizer's words (ids 2, 3, ...): loadSpriteCaptions(dir).vocabulary. */
  vocabulary: string[];
  /** vocabularySize = vocabulary.length + 2. */
  encoder: CaptionEncoderConfig;
  /** nContext = encoder.contextSize. */
  unet: ContextUnetConfig;
}

/** What the constructor takes: the vocabulary, and any sizes that differ from the defaults. */
export interface TextContextUnetOptions {
  vocabulary: readonly string[];
  /** Default CAPTION_ENCODER_DEFAULTS; vocabularySize follows from the vocabulary. */
  encoder?: Partial<CaptionEncoderConfig>;
  /** Default the course's UNet (COURSE_UNET_CONFIG); nContext follows from encoder.contextSize. */
  unet?: Partial<ContextUnetConfig>;
}

/**
 * A full configuration from the options (or a checkpoint's record): the defaults filled in, the
 * vocabulary checked by building its tokenizer, and the sizes the parts share made to agree; a
 * vocabularySize or nContext that contradicts them fails naming both values.
 */
export function resolveTextContextUnetConfig(options: TextContextUnetOptions): TextContextUnetConfig {
  const vocabulary = [...new WordTokenizer(options.vocabulary ?? []).words];
  const vocabularySize = vocabulary.length + 2;
  if (options.encoder?.vocabularySize !== undefined && options.encoder.vocabularySize !== vocabularySize) {
    throw new Error(`TextContextUnet: encoder.vocabularySize is ${options.encoder.vocabularySize}, but the vocabulary's ${vocabulary.length} words and <pad>, <unk> make ${vocabularySize} ids; leave it out.`);
  }
  const encoder = { ...checkCaptionEncoderConfig({ ...CAPTION_ENCODER_DEFAULTS, ...options.encoder, vocabularySize }) };
  if (options.unet?.nContext !== undefined && options.unet.nContext !== encoder.contextSize) {
    throw new Error(`TextContextUnet: unet.nContext is ${options.unet.nContext}, but the UNet's context is the encoder's output, encoder.contextSize = ${encoder.contextSize}; set encoder.contextSize instead.`);
  }
  const unet = { ...resolveUnetConfig({ ...options.unet, nContext: encoder.contextSize }) };
  return { vocabulary, encoder, unet };
}

export class TextContextUnet extends ParameterizedNetwork implements TrainableNoiseModel {
  readonly config: Readonly<TextContextUnetConfig>;
  readonly tokenizer: WordTokenizer;
  readonly encoder: CaptionEncoder;
  readonly unet: ContextUnet;

  /**
   * Builds both networks with PyTorch's default initialisation, reproducible from `seed` (the UNet
   * as `new ContextUnet(config.unet, seed)`, the encoder from a seed derived from it); throws on a
   * bad configuration before making any variable. The model owns its variables: dispose() it.
   */
  constructor(options: TextContextUnetOptions, seed = 0) {
    const config = resolveTextContextUnetConfig(options);
    const encoder = new CaptionEncoder(config.encoder, deriveSeed(seed, 0x7e47));
    const unet = new ContextUnet(config.unet, seed);
    super("TextContextUnet", ParameterStore.composite("TextContextUnet", { encoder: encoder.parameters, unet: unet.parameters }));
    this.config = config;
    this.tokenizer = new WordTokenizer(config.vocabulary);
    this.encoder = encoder;
    this.unet = unet;
  }

  /** [height, width, channels] of its images (the UNet's). */
  get imageShape(): readonly [number, number, number] {
    return this.unet.imageShape;
  }

  /** The context's length: maxTokens token ids per caption (the ids are the context; see the module comment). */
  get contextSize(): number {
    return this.config.encoder.maxTokens;
  }

  get learnsVariance(): boolean {
    return this.unet.learnsVariance;
  }

  /**
   * The contexts of some captions: their token ids, [captions.length, maxTokens] float32, owned by
   * the caller. "" is the empty caption (all pads). Throws naming every unknown word unless
   * options.unknown is "unk", and naming a caption longer than maxTokens words.
   */
  captionContexts(captions: readonly string[], options: EncodeOptions = {}): tf.Tensor2D {
    const ids = this.tokenizer.encodeBatch(captions, this.contextSize, options);
    return tf.tensor2d(Float32Array.from(ids), [captions.length, this.contextSize]);
  }

  /** eps in x_t (inference mode); context: token ids [N, maxTokens] or null (the empty caption). Caller owns the result. */
  predictNoise(x: tf.Tensor4D, tFraction: tf.Tensor1D | number, context: tf.Tensor2D | null): tf.Tensor4D {
    return tf.tidy(() => this.unet.predictNoise(x, tFraction, this.encodedContext(x, context)));
  }

  /** eps and the learned variance's v, as ContextUnet's; throws for a model without a learned variance. */
  predictNoiseAndVariance(x: tf.Tensor4D, tFraction: tf.Tensor1D | number, context: tf.Tensor2D | null): { noise: tf.Tensor4D; v: tf.Tensor4D } {
    return tf.tidy(() => this.unet.predictNoiseAndVariance(x, tFraction, this.encodedContext(x, context)));
  }

  /**
   * Training mode, as ContextUnet.forwardTraining, with the caption encoded first (the gradient
   * reaches the encoder through the context). The caller owns predNoise and v; the BatchNorm
   * statistics' values are kept until committed or discarded.
   */
  forwardTraining(
    x: tf.Tensor4D,
    tFraction: tf.Tensor1D | number,
    context: tf.Tensor2D | null,
  ): { predNoise: tf.Tensor4D; v?: tf.Tensor4D; statUpdates: RunningStatUpdate[] } {
    return tf.tidy(() => this.unet.forwardTraining(x, tFraction, this.encodedContext(x, context)));
  }

  /** Frees both networks' variables. */
  override dispose(): void {
    this.encoder.dispose();
    this.unet.dispose();
    this.parameters.dispose();
  }

  /** The UNet's context [N, contextSize of the encoder] from token ids [N, maxTokens] (null: all pads). */
  private encodedContext(x: tf.Tensor4D, context: tf.Tensor2D | null): tf.Tensor2D {
    const n = x.shape[0];
    const maxTokens = this.contextSize;
    if (context !== null && (context.rank !== 2 || context.shape[0] !== n || context.shape[1] !== maxTokens)) {
      throw new Error(
        `TextContextUnet: context has shape [${context.shape}], expected [${n}, ${maxTokens}]: one row of ${maxTokens} token ids per image ` +
          "(model.captionContexts(captions) makes them; a row of zeros, or null, is the empty caption).",
      );
    }
    return this.encoder.encode(context ?? (tf.zeros([n, maxTokens]) as tf.Tensor2D));
  }
}
