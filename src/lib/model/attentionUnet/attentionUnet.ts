/**
 * An unconditional eps-prediction UNet with self-attention in its blocks, for DDPM from scratch
 * at any image size its downsampling divides (Ho et al. 2020, appendix B; the layout of
 * explainingai-code/DDPM-Pytorch's Unet). With widths [C1..Cn] and mid widths [M1..Mm]:
 *
 *   t / T -> sinusoids -> time MLP                                  [N, timeEmbeddingSize]
 *   x [N, S, S, channels] -> conv_in (3x3)                          [N, S, S, C1]
 *   downs.i  (i = 0..n-2): C(i+1) -> C(i+2), halving S when downsample[i], attending when attention[i]; its input is kept as a skip
 *   mids.i   (i = 0..m-2): M(i+1) -> M(i+2) at the bottom resolution
 *   ups.u    (u = 0..n-2, deepest first, i = n-2-u): concat(upsampled x, skip i) 2 C(i+1) -> C(i) (C(0) = finalChannels)
 *   out: GroupNorm -> SiLU -> conv_out (3x3)                       [N, S, S, channels] = eps
 *
 * No BatchNorm: training mode and inference mode are the same function, and forwardTraining
 * returns no running statistics (it exists so the trainer can treat every model alike).
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkImageBatch } from "../imageBatch";
import { type RunningStatUpdate, applyConv, applyGroupNorm, convSpecs, groupNormSpecs } from "../layers";
import { type ParameterSpec } from "../parameters";
import { type UnetBlockContext, type UnetBlockShape, applyDownBlock, applyMidBlock, applyUpBlock, downBlockSpecs, midBlockSpecs, upBlockSpecs } from "./blocks";
import { type AttentionUnetConfig, checkAttentionUnetConfig } from "./config";
import { applyTimeMlp, silu, timeMlpSpecs } from "./timeEmbedding";
import { ParameterizedNetwork } from "../parameterizedNetwork";

/** Every block's shape, in the order the forward pass runs them. */
export function blockShapes(c: AttentionUnetConfig): { downs: UnetBlockShape[]; mids: UnetBlockShape[]; ups: UnetBlockShape[] } {
  const down = c.downChannels;
  const timeSize = c.timeEmbeddingSize;
  const downs = c.downsample.map((resample, i) => ({ cin: down[i], cout: down[i + 1], layers: c.downLayers, timeSize, resample, attends: c.attention[i] }));
  const mids = c.midChannels.slice(1).map((cout, i) => ({ cin: c.midChannels[i], cout, layers: c.midLayers, timeSize, resample: false, attends: true }));
  const ups = downs.map((_, u) => {
    const i = downs.length - 1 - u;
    return { cin: 2 * down[i], cout: i > 0 ? down[i - 1] : c.finalChannels, layers: c.upLayers, timeSize, resample: c.downsample[i], attends: c.attention[i] };
  });
  return { downs, mids, ups };
}

function architecture(c: AttentionUnetConfig): ParameterSpec[] {
  const { downs, mids, ups } = blockShapes(c);
  return [
    ...timeMlpSpecs("time_mlp", c.timeEmbeddingSize),
    ...convSpecs("conv_in", c.imageChannels, c.downChannels[0], 3),
    ...downs.flatMap((shape, i) => downBlockSpecs(`downs.${i}`, shape)),
    ...mids.flatMap((shape, i) => midBlockSpecs(`mids.${i}`, shape)),
    ...ups.flatMap((shape, u) => upBlockSpecs(`ups.${u}`, shape)),
    ...groupNormSpecs("norm_out", c.finalChannels),
    ...convSpecs("conv_out", c.finalChannels, c.imageChannels, 3),
  ];
}

export class AttentionUnet extends ParameterizedNetwork {
  readonly config: Readonly<AttentionUnetConfig>;
  /** The samplers' question: this model predicts eps only; its reverse variance is the schedule's. */
  readonly learnsVariance = false;

  /**
   * Builds the network with PyTorch's default initialisation, reproducible from `seed`; throws
   * naming the first inconsistent field of `config`. The model owns its variables: dispose() it.
   */
  constructor(config: AttentionUnetConfig, seed = 0) {
    super("AttentionUnet");
    this.config = checkAttentionUnetConfig(config);
    architecture(this.config).forEach((spec, i) => this.parameters.create(spec, seed * 10000 + i));
  }

  /** [imageSize, imageSize, imageChannels] of its images (MNIST's [28, 28, 1]). */
  get imageShape(): readonly [number, number, number] {
    return [this.config.imageSize, this.config.imageSize, this.config.imageChannels];
  }

  /** 0: the model is unconditional and takes no context vector. */
  readonly contextSize = 0;

  /**
   * Predicts the noise eps in x_t.
   * @param x          [N, S, S, channels] noisy images x_t (NHWC, roughly in [-1, 1] at t = 0).
   * @param tFraction  [N] or a number: t / T in [0, 1].
   * @param context    ignored: the model is unconditional (samplers and trainer pass null).
   * @param options.trace  called with each top-level module's output under its PyTorch name, in
   *                   forward order: time_mlp [N, timeEmbeddingSize], conv_in, downs.0 .. downs.(n-2),
   *                   mids.0 .., ups.0 .., out (the prediction itself). Its tensors belong to the
   *                   enclosing tf.tidy: collect them inside one and return them (or dispose them).
   * @returns          [N, S, S, channels] predicted noise, owned by the caller.
   */
  predictNoise(
    x: tf.Tensor4D,
    tFraction: tf.Tensor1D | number,
    context: tf.Tensor2D | null,
    options: { trace?: (name: string, activation: tf.Tensor) => void } = {},
  ): tf.Tensor4D {
    const { output, traced } = this.forward(x, tFraction, options.trace !== undefined);
    for (const [name, activation] of traced) options.trace!(name, activation);
    return output;
  }

  /**
   * The same prediction for a training step, in the shape the trainer takes from ContextUnet:
   * { predNoise, statUpdates } with no running statistics to commit (there is no BatchNorm).
   * Inputs as predictNoise; the caller owns predNoise.
   */
  forwardTraining(x: tf.Tensor4D, tFraction: tf.Tensor1D | number, context: tf.Tensor2D | null): { predNoise: tf.Tensor4D; statUpdates: RunningStatUpdate[] } {
    return { predNoise: this.forward(x, tFraction, false).output, statUpdates: [] };
  }

  /** The forward pass; with `tracing`, every top-level module's output by name (kept by this tidy, so the caller's scope owns them). */
  private forward(x: tf.Tensor4D, tFraction: tf.Tensor1D | number, tracing: boolean): { output: tf.Tensor4D; traced: Array<[string, tf.Tensor]> } {
    const n = this.checkInputs(x, tFraction);
    const c = this.config;
    const p = this.parameters;
    const { downs, mids, ups } = blockShapes(c);
    return tf.tidy(() => {
      const traced: Array<[string, tf.Tensor]> = [];
      const output = <T extends tf.Tensor>(name: string, y: T): T => {
        if (tracing) traced.push([name, y]);
        return y;
      };
      const t = typeof tFraction === "number" ? (tf.fill([n], tFraction) as tf.Tensor1D) : (tf.reshape(tFraction, [n]) as tf.Tensor1D);
      const timeEmbedding = output("time_mlp", applyTimeMlp(p, "time_mlp", t, c.timeEmbeddingSize));
      const ctx: UnetBlockContext = { p, normGroups: c.normGroups, attentionHeads: c.attentionHeads, timeActivated: silu(timeEmbedding) as tf.Tensor2D };

      let h = output("conv_in", applyConv(p, "conv_in", x));
      const skips: tf.Tensor4D[] = [];
      downs.forEach((shape, i) => {
        skips.push(h);
        h = output(`downs.${i}`, applyDownBlock(ctx, `downs.${i}`, h, shape));
      });
      mids.forEach((shape, i) => (h = output(`mids.${i}`, applyMidBlock(ctx, `mids.${i}`, h, shape))));
      ups.forEach((shape, u) => (h = output(`ups.${u}`, applyUpBlock(ctx, `ups.${u}`, h, skips.pop()!, shape))));

      const activated = silu(applyGroupNorm(p, "norm_out", h, c.normGroups)) as tf.Tensor4D;
      return { output: output("out", applyConv(p, "conv_out", activated)), traced };
    });
  }

  private checkInputs(x: tf.Tensor4D, tFraction: tf.Tensor1D | number): number {
    checkImageBatch(x, this.config.imageSize, this.config.imageChannels, "AttentionUnet: x");
    const n = x.shape[0];
    if (typeof tFraction === "number") {
      if (!Number.isFinite(tFraction)) throw new Error(`AttentionUnet: t/T must be finite, got ${tFraction}.`);
    } else if (tFraction.size !== n) {
      throw new Error(`AttentionUnet: t/T has ${tFraction.size} values for a batch of ${n}; pass one per image.`);
    }
    return n;
  }
}
