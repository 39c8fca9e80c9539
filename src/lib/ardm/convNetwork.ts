/**
 * The ARDM's convolutional network for images: a small UNet (Ronneberger et al. 2015) over the
 * H x W pixels with the mask as input channels, answering every variable's K logits at once as
 * the ARDM core asks (./network.ts); the alternative issue 17 weighs against the transformer
 * (./transformer.ts) at equal training time. Its PyTorch twin is bench/ardm_conv_torch.py, with
 * the same state_dict keys.
 *
 * Variables, as the transformer's: variable k = position * C + channel, position = row * W + column.
 *
 * Input (Hoogeboom et al. 2022, Sec. 3: the network sees x ⊙ m and m). The transformer's value
 * embedding: each channel has a table of K + 1 rows (the K values and a masked token K), a
 * variable under m = 0 enters as the masked token, so its value never reaches the network; a
 * pixel's features are the sum over its channels, beside its C mask entries as C more channels:
 *   e_l = sum_c E[c (K + 1) + token_(l C + c)],   input_l = [e_l, m_(l C + 0), ..., m_(l C + C-1)].
 *
 * UNet, widths w_0..w_{L-1} (one a resolution, halving H and W each level), B blocks a level:
 *   h = conv_in 3x3(input)                                          [N, H, W, w_0]
 *   down i: B residual blocks to w_i; keep h as skip i; halve (i < L-1; the attention UNet's
 *           4x4 conv at stride 2)
 *   up i = L-2..0: double (its 4x4 transposed conv), concat skip i, B residual blocks to w_i
 *   logits = conv_out 1x1(SiLU(GroupNorm(h)))                       [N, H, W, C K] -> [N, D, K]
 * A residual block is the attention UNet's (../model/attentionUnet/resnet.ts) without its time
 * embedding, since an ARDM's network is told nothing but x ⊙ m and m:
 *   h + conv2 3x3(SiLU(GroupNorm(conv1 3x3(SiLU(GroupNorm(h)))))),   h through a 1x1 conv when the width changes.
 *
 * Reach: each 3x3 conv widens a pixel's view by 2 pixels at 16x16 and 4 at 8x8, so the sprites'
 * UNet's logits see about 40 pixels across, the whole sprite (attention sees it in every block);
 * GroupNorm's image-wide statistics also carry a little of every given value everywhere. The output conv's C K = 768 channels per pixel dominate the
 * logits' memory, as the transformer's head does.
 *
 * Initialisation: PyTorch's defaults (nn.Conv2d, nn.ConvTranspose2d, nn.GroupNorm), N(0, 1) for
 * the value embedding (nn.Embedding's default).
 */
import * as tf from "@tensorflow/tfjs-core";
import { applyDownsample, applyUpsample, downsampleSpecs, upsampleSpecs } from "../model/attentionUnet/resample";
import { silu } from "../model/attentionUnet/timeEmbedding";
import { applyConv, applyGroupNorm, convSpecs, groupNormSpecs } from "../model/layers";
import type { ParameterSpec, ParameterStore } from "../model/parameters";
import { ParameterizedNetwork } from "../model/parameterizedNetwork";
import { seededNormal } from "../seededNormal";
import { type ArdmConvUnetConfig, checkArdmConvUnetConfig } from "./convNetworkConfig";
import { type ArdmNetwork, checkArdmNetwork } from "./network";

export { ARDM_SPRITE_CONV_UNET, type ArdmConvUnetConfig, checkArdmConvUnetConfig } from "./convNetworkConfig";

const EMBEDDING_KEY = "value_embedding.weight";

/** A time-free residual block, cin -> cout, under nn.Module names norm1, conv1, norm2, conv2, shortcut. */
function residualSpecs(key: string, cin: number, cout: number): ParameterSpec[] {
  return [
    ...groupNormSpecs(`${key}.norm1`, cin),
    ...convSpecs(`${key}.conv1`, cin, cout, 3),
    ...groupNormSpecs(`${key}.norm2`, cout),
    ...convSpecs(`${key}.conv2`, cout, cout, 3),
    ...(cin === cout ? [] : convSpecs(`${key}.shortcut`, cin, cout, 1)),
  ];
}

/** x [N, H, W, cin] -> [N, H, W, cout] (see the module comment); the caller owns the result. */
function applyResidual(p: ParameterStore, key: string, x: tf.Tensor4D, groups: number): tf.Tensor4D {
  return tf.tidy(() => {
    const first = applyConv(p, `${key}.conv1`, silu(applyGroupNorm(p, `${key}.norm1`, x, groups)) as tf.Tensor4D);
    const second = applyConv(p, `${key}.conv2`, silu(applyGroupNorm(p, `${key}.norm2`, first, groups)) as tf.Tensor4D);
    const shortcut = x.shape[3] === second.shape[3] ? x : applyConv(p, `${key}.shortcut`, x);
    return tf.add(second, shortcut) as tf.Tensor4D;
  });
}

/** The input width of down level i's block j, and of up level i's block j (after the skip's concat). */
const downInput = (w: number[], i: number, j: number) => (j > 0 ? w[i] : i > 0 ? w[i - 1] : w[0]);
const upInput = (w: number[], i: number, j: number) => (j > 0 ? w[i] : w[i + 1] + w[i]);

/** Every parameter of the network, in the twin's state_dict order. */
export function ardmConvUnetArchitecture(c: ArdmConvUnetConfig): ParameterSpec[] {
  const w = c.levelWidths;
  const levels = w.length;
  const blocks = (level: string, i: number, input: typeof downInput) =>
    Array.from({ length: c.blocksPerLevel }, (_, j) => residualSpecs(`${level}.${i}.blocks.${j}`, input(w, i, j), w[i])).flat();
  return [
    { key: EMBEDDING_KEY, shape: [c.channels * (c.categories + 1), w[0]], kind: "zeros", trainable: true },
    ...convSpecs("conv_in", w[0] + c.channels, w[0], 3),
    ...w.flatMap((_, i) => [...blocks("down", i, downInput), ...(i < levels - 1 ? downsampleSpecs(`down.${i}.downsample`, w[i]) : [])]),
    ...w.slice(0, -1).flatMap((_, i) => [...upsampleSpecs(`up.${i}.upsample`, w[i + 1]), ...blocks("up", i, upInput)]),
    ...groupNormSpecs("norm_out", w[0]),
    ...convSpecs("conv_out", w[0], c.channels * c.categories, 1),
  ];
}

export class ArdmConvUnet extends ParameterizedNetwork implements ArdmNetwork {
  readonly config: Readonly<ArdmConvUnetConfig>;
  /** D = H W C variables. */
  readonly dimensions: number;
  /** K values per variable. */
  readonly categories: number;

  /**
   * Builds the network with PyTorch's default initialisation, reproducible from `seed`; throws
   * naming the first bad field of `config`. The model owns its variables: dispose() it.
   */
  constructor(config: ArdmConvUnetConfig, seed = 0) {
    super("ArdmConvUnet");
    this.config = checkArdmConvUnetConfig(config);
    const c = this.config;
    this.dimensions = c.height * c.width * c.channels;
    this.categories = c.categories;
    ardmConvUnetArchitecture(c).forEach((spec, i) => {
      const variable = this.parameters.create(spec, seed * 10000 + i);
      if (spec.key === EMBEDDING_KEY) tf.tidy(() => variable.assign(seededNormal(spec.shape, seed * 10000 + i)));
    });
    checkArdmNetwork("ArdmConvUnet", this);
  }

  /**
   * Logits of every variable given the masked image (see the module comment).
   * @param x     [N, D] int32 values in 0..K-1, variable k = position * C + channel; values under
   *              mask 0 are never read (they become the masked token). Given values are not
   *              range-checked here (ardmTrainingLoss and orderAgnosticLoss check x).
   * @param mask  [N, D] float32, 1 = given, 0 = to predict (anything above 0.5 counts as given).
   * @returns     [N, D, K] float32 logits, owned by the caller.
   */
  logits(x: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor3D {
    const c = this.config;
    const D = this.dimensions;
    if (x.rank !== 2 || x.shape[1] !== D || mask.shape.join(",") !== x.shape.join(",")) {
      throw new Error(
        `ArdmConvUnet.logits: x has shape [${x.shape}] and mask [${mask.shape}], but both must be [N, ${D}] ` +
          `(an ${c.height}x${c.width}x${c.channels} image flattened as NHWC: variable = position * ${c.channels} + channel).`,
      );
    }
    const p = this.parameters;
    const w = c.levelWidths;
    return tf.tidy(() => {
      let h = applyConv(p, "conv_in", this.inputFeatures(x, mask));
      const skips: tf.Tensor4D[] = [];
      for (let i = 0; i < w.length; i++) {
        for (let j = 0; j < c.blocksPerLevel; j++) h = applyResidual(p, `down.${i}.blocks.${j}`, h, c.groups);
        if (i === w.length - 1) break;
        skips.push(h);
        h = applyDownsample(p, `down.${i}.downsample`, h);
      }
      for (let i = w.length - 2; i >= 0; i--) {
        h = tf.concat([applyUpsample(p, `up.${i}.upsample`, h), skips[i]], 3) as tf.Tensor4D;
        for (let j = 0; j < c.blocksPerLevel; j++) h = applyResidual(p, `up.${i}.blocks.${j}`, h, c.groups);
      }
      const out = applyConv(p, "conv_out", silu(applyGroupNorm(p, "norm_out", h, c.groups)) as tf.Tensor4D);
      // [N, H, W, C K] read row-major is [N, H W C, K]: variable (row W + column) C + channel.
      return tf.reshape(out, [x.shape[0], D, c.categories]) as tf.Tensor3D;
    });
  }

  /** [N, H, W, w_0 + C]: each pixel's summed value embeddings beside its C mask entries; caller-owned. */
  private inputFeatures(x: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor4D {
    const { height: H, width: W, channels: C, categories: K, levelWidths } = this.config;
    const n = x.shape[0];
    return tf.tidy(() => {
      // The transformer's input: token = x where given, K where not, (x - K) g + K in int32; the
      // sum over a pixel's channels is one product of a multi-hot [N H W, C (K + 1)] with the table.
      const given = tf.cast(tf.greater(mask, 0.5), "int32");
      const maskedToken = tf.scalar(K, "int32");
      const tokens = tf.add(tf.mul(tf.sub(tf.cast(x, "int32"), maskedToken), given), maskedToken);
      const multiHot = tf.reshape(tf.oneHot(tf.reshape(tokens, [n * H * W, C]), K + 1, 1, 0, "float32"), [n * H * W, C * (K + 1)]);
      const values = tf.reshape(tf.matMul(multiHot as tf.Tensor2D, this.parameters.get(EMBEDDING_KEY) as tf.Tensor2D), [n, H, W, levelWidths[0]]);
      return tf.concat([values, tf.reshape(tf.cast(given, "float32"), [n, H, W, C])], 3) as tf.Tensor4D;
    });
  }
}
