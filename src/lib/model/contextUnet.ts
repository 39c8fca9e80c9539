/**
 * The course's ContextUnet: an eps-prediction UNet for 16x16 sprites whose time input is the
 * scalar t / T and whose context is a float vector (one-hot class, a mix, or zeros = none).
 * Context multiplies and time adds, at the two up-sampling stages only (design.md section 1).
 *
 *   x [N,16,16,3] -> init_conv (residual) -> down1 (8x8x64) -> down2 (4x4x128) -> to_vec (1x1x128)
 *   up0: ConvT k4 s4 -> GroupNorm -> ReLU (4x4x128)
 *   up1(cemb1 * up0 + temb1, down2) (8x8x64); up2(cemb2 * up1 + temb2, down1) (16x16x64)
 *   out: Conv3x3 on concat(up2, init_conv) -> GroupNorm -> ReLU -> Conv3x3 -> eps [N,16,16,3]
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkImageBatch } from "./imageBatch";
import {
  applyConvBlock,
  applyDown,
  applyEmbed,
  applyUp,
  convBlockSpecs,
  downSpecs,
  embedSpecs,
  upSpecs,
} from "./blocks";
import {
  type LayerOutput,
  type RunningStatUpdate,
  applyConv,
  applyConvTranspose,
  applyGroupNorm,
  convSpecs,
  convTransposeSpecs,
  gelu,
  groupNormSpecs,
} from "./layers";
import { type ParameterSpec } from "./parameters";
import { ParameterizedNetwork } from "./parameterizedNetwork";
import { learnedVarianceNoise, splitLearnedVarianceOutput } from "./learnedVarianceOutput";

export interface ContextUnetConfig {
  /** Image channels (3, RGB). */
  inChannels: number;
  /** Base feature width n_feat (the course: 64). */
  nFeat: number;
  /** Context vector length n_cfeat (the course: 5 classes). */
  nContext: number;
  /** Image height = width (the course: 16); must be divisible by 4. */
  height: number;
  /**
   * Output channels: inChannels (eps alone, the course) or 2 * inChannels (eps and, per pixel,
   * the raw interpolation r of a learned variance, v = (r + 1) / 2: Nichol & Dhariwal 2021, eq. 15).
   * Absent in older checkpoints, where it means inChannels.
   */
  outChannels: number;
}

/** The course's `ContextUnet(in_channels=3, n_feat=64, n_cfeat=5, height=16)`. */
export const COURSE_UNET_CONFIG: Readonly<ContextUnetConfig> = Object.freeze({
  inChannels: 3,
  nFeat: 64,
  nContext: 5,
  height: 16,
  outChannels: 3,
});

/** A full configuration from a partial one: the course's values, outChannels = inChannels unless given; throws on a bad one. */
export function resolveUnetConfig(partial: Partial<ContextUnetConfig> = {}): Readonly<ContextUnetConfig> {
  const inChannels = partial.inChannels ?? COURSE_UNET_CONFIG.inChannels;
  const config = Object.freeze({ ...COURSE_UNET_CONFIG, outChannels: inChannels, ...partial });
  if (config.height % 4 !== 0) throw new Error(`ContextUnet: height must be divisible by 4, got ${config.height}.`);
  if (config.outChannels !== inChannels && config.outChannels !== 2 * inChannels) {
    throw new Error(`ContextUnet: outChannels must be ${inChannels} (eps) or ${2 * inChannels} (eps and a learned variance), got ${config.outChannels}.`);
  }
  return config;
}

/** GroupNorm groups in up0 and out, as in the course. */
const GROUPS = 8;

function architecture(c: ContextUnetConfig): ParameterSpec[] {
  const nf = c.nFeat;
  return [
    ...convBlockSpecs("init_conv", c.inChannels, nf, true),
    ...downSpecs("down1", nf, nf),
    ...downSpecs("down2", nf, 2 * nf),
    ...embedSpecs("timeembed1", 1, 2 * nf),
    ...embedSpecs("timeembed2", 1, nf),
    ...embedSpecs("contextembed1", c.nContext, 2 * nf),
    ...embedSpecs("contextembed2", c.nContext, nf),
    ...convTransposeSpecs("up0.0", 2 * nf, 2 * nf, c.height / 4),
    ...groupNormSpecs("up0.1", 2 * nf),
    ...upSpecs("up1", 4 * nf, nf),
    ...upSpecs("up2", 2 * nf, nf),
    ...convSpecs("out.0", 2 * nf, nf, 3),
    ...groupNormSpecs("out.1", nf),
    ...convSpecs("out.3", nf, c.outChannels, 3),
  ];
}

/** The course's UNet; 1,481,027 trainable parameters in its configuration (1,482,758 with a learned variance). */
export class ContextUnet extends ParameterizedNetwork {
  readonly config: Readonly<ContextUnetConfig>;

  /**
   * Builds the network with PyTorch's default initialisation, reproducible from `seed`.
   * The model owns its variables: call dispose() when done with it.
   */
  constructor(config: Partial<ContextUnetConfig> = {}, seed = 0) {
    super("ContextUnet");
    this.config = resolveUnetConfig(config);
    architecture(this.config).forEach((spec, i) => this.parameters.create(spec, seed * 1000 + i));
  }

  /** [height, width, channels] of its images (the course's [16, 16, 3]). */
  get imageShape(): readonly [number, number, number] {
    return [this.config.height, this.config.height, this.config.inChannels];
  }

  /** Length of the context vector, nContext (the course's 5 classes). */
  get contextSize(): number {
    return this.config.nContext;
  }

  /** Does the model predict its reverse variance too (outChannels = 2 * inChannels)? */
  get learnsVariance(): boolean {
    return this.config.outChannels === 2 * this.config.inChannels;
  }

  /**
   * Predicts the noise eps in x_t, in inference mode (BatchNorm uses its running statistics).
   * @param x          [N, H, H, C] noisy images x_t (NHWC, roughly in [-1, 1] at t = 0).
   * @param tFraction  [N] or a number: t / T in [0, 1] (the course feeds the fraction, not t).
   * @param context    [N, nContext] context vectors, or null for "no context" (zeros).
   * @param options.trace  called with each top-level module's output under the course's module
   *                   name, in forward order: init_conv, down1, down2, to_vec, contextembed1,
   *                   timeembed1, contextembed2, timeembed2, up0, up1, up2, out (the embeddings
   *                   as [N, 1, 1, width]). Its tensors belong to the enclosing tf.tidy: collect
   *                   them inside one and return them (or dispose them). "out" is the returned
   *                   prediction itself.
   * @returns          [N, H, H, C] predicted noise, owned by the caller.
   */
  predictNoise(
    x: tf.Tensor4D,
    tFraction: tf.Tensor1D | number,
    context: tf.Tensor2D | null,
    options: { trace?: (name: string, activation: tf.Tensor) => void } = {},
  ): tf.Tensor4D {
    const { trace } = options;
    const { output, traced } = this.forward(x, tFraction, context, false, trace !== undefined);
    for (const [name, activation] of traced) trace!(name, activation);
    if (!this.learnsVariance) return output;
    const noise = learnedVarianceNoise(output, this.config.inChannels);
    // A trace was handed the whole output as "out": it belongs to the caller's tf.tidy then.
    if (trace === undefined) output.dispose();
    return noise;
  }

  /**
   * Eps and the learned variance's interpolation v = (r + 1) / 2 per pixel (eq. 15), in inference
   * mode; throws for a model without a learned variance. Inputs as predictNoise; caller owns both.
   */
  predictNoiseAndVariance(x: tf.Tensor4D, tFraction: tf.Tensor1D | number, context: tf.Tensor2D | null): { noise: tf.Tensor4D; v: tf.Tensor4D } {
    if (!this.learnsVariance) {
      throw new Error(`ContextUnet: this model predicts eps only (outChannels = ${this.config.outChannels}); its variance is fixed. Train with a learned variance (outChannels = ${2 * this.config.inChannels}).`);
    }
    const { output } = this.forward(x, tFraction, context, false, false);
    const split = this.splitOutput(output);
    output.dispose();
    return split;
  }

  /** [N, H, W, 2C] -> eps (first C channels) and v = (r + 1) / 2 (the last C). */
  private splitOutput(output: tf.Tensor4D): { noise: tf.Tensor4D; v: tf.Tensor4D } {
    return splitLearnedVarianceOutput(output, this.config.inChannels);
  }

  /**
   * The same prediction in training mode: BatchNorm normalises with the batch's statistics, and
   * the running statistics it would move toward them come back, unassigned, for the caller to
   * commit (commitStatUpdates) or drop (discardStatUpdates), e.g. when the loss is not finite.
   * Inputs as predictNoise. With a learned variance, v = (r + 1) / 2 comes too (else it is absent).
   * The caller owns predNoise and v; the statUpdates' values are kept (they
   * outlive any tf.tidy and tf.variableGrads around this call) until committed or discarded.
   */
  forwardTraining(
    x: tf.Tensor4D,
    tFraction: tf.Tensor1D | number,
    context: tf.Tensor2D | null,
  ): { predNoise: tf.Tensor4D; v?: tf.Tensor4D; statUpdates: RunningStatUpdate[] } {
    const { output, statUpdates } = this.forward(x, tFraction, context, true, false);
    for (const update of statUpdates) tf.keep(update.value);
    if (!this.learnsVariance) return { predNoise: output, statUpdates };
    const { noise, v } = this.splitOutput(output);
    output.dispose();
    return { predNoise: noise, v, statUpdates };
  }

  /** The forward pass in either mode; with `tracing`, every top-level module's output by name. */
  private forward(x: tf.Tensor4D, tFraction: tf.Tensor1D | number, context: tf.Tensor2D | null, training: boolean, tracing: boolean) {
    const n = this.checkInputs(x, tFraction, context);
    const c = this.config;
    const p = this.parameters;
    return tf.tidy(() => {
      const statUpdates: RunningStatUpdate[] = [];
      const traced: Array<[string, tf.Tensor]> = [];
      const withStats = (out: LayerOutput) => {
        statUpdates.push(...out.statUpdates);
        return out.y;
      };
      const output = <T extends tf.Tensor>(name: string, y: T): T => {
        if (tracing) traced.push([name, y]);
        return y;
      };
      const t = (typeof tFraction === "number" ? tf.fill([n, 1], tFraction) : tf.reshape(tFraction, [n, 1])) as tf.Tensor2D;
      const ctx = context ?? (tf.zeros([n, c.nContext]) as tf.Tensor2D);

      const x0 = output("init_conv", withStats(applyConvBlock(p, "init_conv", x, true, training)));
      const down1 = output("down1", withStats(applyDown(p, "down1", x0, training)));
      const down2 = output("down2", withStats(applyDown(p, "down2", down1, training)));
      const hidden = output("to_vec", gelu(tf.avgPool(down2, c.height / 4, c.height / 4, "valid")) as tf.Tensor4D);

      const contextEmbed1 = output("contextembed1", applyEmbed(p, "contextembed1", ctx));
      const timeEmbed1 = output("timeembed1", applyEmbed(p, "timeembed1", t));
      const contextEmbed2 = output("contextembed2", applyEmbed(p, "contextembed2", ctx));
      const timeEmbed2 = output("timeembed2", applyEmbed(p, "timeembed2", t));

      const up0 = output("up0", tf.relu(applyGroupNorm(p, "up0.1", applyConvTranspose(p, "up0.0", hidden), GROUPS)) as tf.Tensor4D);
      const up1In = tf.add(tf.mul(contextEmbed1, up0), timeEmbed1) as tf.Tensor4D;
      const up1 = output("up1", withStats(applyUp(p, "up1", up1In, down2, training)));
      const up2In = tf.add(tf.mul(contextEmbed2, up1), timeEmbed2) as tf.Tensor4D;
      const up2 = output("up2", withStats(applyUp(p, "up2", up2In, down1, training)));

      const merged = applyConv(p, "out.0", tf.concat([up2, x0], 3));
      const activated = tf.relu(applyGroupNorm(p, "out.1", merged, GROUPS)) as tf.Tensor4D;
      const prediction = output("out", applyConv(p, "out.3", activated));
      return { output: prediction, statUpdates, traced };
    });
  }

  private checkInputs(x: tf.Tensor4D, tFraction: tf.Tensor1D | number, context: tf.Tensor2D | null): number {
    const { height, inChannels, nContext } = this.config;
    checkImageBatch(x, height, inChannels, "ContextUnet: x");
    const n = x.shape[0];
    if (typeof tFraction === "number") {
      if (!Number.isFinite(tFraction)) throw new Error(`ContextUnet: t/T must be finite, got ${tFraction}.`);
    } else if (tFraction.size !== n) {
      throw new Error(`ContextUnet: t/T has ${tFraction.size} values for a batch of ${n}; pass one per image.`);
    }
    if (context !== null && (context.rank !== 2 || context.shape[0] !== n || context.shape[1] !== nContext)) {
      throw new Error(
        `ContextUnet: context has shape [${context.shape}], expected [${n}, ${nContext}] ` +
          `(one ${nContext}-vector per image, or null for no context).`,
      );
    }
    return n;
  }
}
