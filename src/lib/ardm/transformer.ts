/**
 * The ARDM's network for images: a transformer over the H x W pixel positions (Vaswani et al.
 * 2017, "Attention Is All You Need", with the pre-norm blocks of GPT-2 and nn.TransformerEncoderLayer
 * (norm_first = True)), answering every variable's K logits at once as the ARDM core asks
 * (./network.ts). Its PyTorch twin is bench/ardm_torch.py, with the same state_dict keys.
 *
 * Variables. An image of H x W x C uint8 channels is D = L C categorical variables, L = H W,
 * flattened as the NHWC array lies in memory (the project's sprite files): variable
 *   k = position * C + channel,   position = row * W + column.
 *
 * Input (Hoogeboom et al. 2022, Sec. 3: the network sees x ⊙ m and m). Each channel c of a position
 * has its own table of K + 1 embeddings: the K values and a "masked" token. A variable not given
 * (m_k = 0) enters as its channel's masked token, so its hidden value never reaches the network
 * and the mask is read off the tokens. Position l's input is the sum over its channels plus a
 * learned position embedding:
 *   h_l = sum_c E[c (K + 1) + token_(l C + c)] + P[l],   token_k = x_k if m_k = 1, else K.
 * One table of C (K + 1) rows holds the C tables side by side, so the sum over channels is one
 * product of a multi-hot matrix with it: [N L, C (K + 1)] (C ones a row) x [C (K + 1), width]. A
 * gather would be cheaper forward, but its gradient is a scatter (UnsortedSegmentSum) that the
 * wasm backend lacks and the cpu backend runs as one kernel per table row; the product's gradient
 * is a matrix product on every backend (sprites, batch 32: 0.8 GFLOP, ~5 % of the forward).
 *
 * Blocks (pre-norm, no causal mask: every position attends to every other, Vaswani et al. eq. 1):
 *   h <- h + MultiHeadAttention(LayerNorm_1(h))
 *   h <- h + W_2 GELU(W_1 LayerNorm_2(h) + b_1) + b_2        (hidden width mlpRatio * modelWidth)
 * Output: logits_l = W_head LayerNorm(h_l) + b_head, C K per position, read as [C, K]: row
 * position * C + channel of the [N, D, K] logits. Every variable gets logits; the loss reads only
 * the not-given ones.
 *
 * Cost: an L x L score matrix per head and image (sprites: 256^2), and the head's C K = 768
 * outputs per position dominate the logits' memory: N x 768 x 256 floats (0.8 MB a sprite).
 *
 * Initialisation: PyTorch's defaults (nn.Linear, nn.MultiheadAttention, nn.LayerNorm), and N(0, 1)
 * for both embeddings, nn.Embedding's default (the twin draws its position embedding the same way).
 */
import * as tf from "@tensorflow/tfjs-core";
import { multiHeadSelfAttention, attentionSpecs } from "../model/attentionUnet/attention";
import { applyLinear, gelu, linearSpecs } from "../model/layers";
import type { ParameterSpec } from "../model/parameters";
import { type ArdmNetwork, checkArdmNetwork } from "./network";
import { applyLayerNorm, layerNormSpecs } from "./layerNorm";
import { type ArdmTransformerConfig, checkArdmTransformerConfig } from "./transformerConfig";
import { seededNormal } from "../seededNormal";
import { ParameterizedNetwork } from "../model/parameterizedNetwork";

export { ARDM_SPRITE_TRANSFORMER, type ArdmTransformerConfig, checkArdmTransformerConfig } from "./transformerConfig";

/** The embedding tables: drawn from N(0, 1) after creation (ParameterStore's kinds are uniform or constant). */
const EMBEDDING_KEYS = ["value_embedding.weight", "position_embedding"];

/** One block's parameters under nn.TransformerEncoderLayer's names. */
function blockSpecs(key: string, width: number, hidden: number): ParameterSpec[] {
  return [
    ...attentionSpecs(`${key}.self_attn`, width),
    ...linearSpecs(`${key}.linear1`, width, hidden),
    ...linearSpecs(`${key}.linear2`, hidden, width),
    ...layerNormSpecs(`${key}.norm1`, width),
    ...layerNormSpecs(`${key}.norm2`, width),
  ];
}

/** Every parameter of the network, in the twin's state_dict order. */
export function ardmTransformerArchitecture(c: ArdmTransformerConfig): ParameterSpec[] {
  const positions = c.height * c.width;
  return [
    { key: "position_embedding", shape: [positions, c.modelWidth], kind: "zeros", trainable: true },
    { key: "value_embedding.weight", shape: [c.channels * (c.categories + 1), c.modelWidth], kind: "zeros", trainable: true },
    ...Array.from({ length: c.layers }, (_, i) => blockSpecs(`blocks.${i}`, c.modelWidth, c.mlpRatio * c.modelWidth)).flat(),
    ...layerNormSpecs("norm", c.modelWidth),
    ...linearSpecs("head", c.modelWidth, c.channels * c.categories),
  ];
}

export class ArdmTransformer extends ParameterizedNetwork implements ArdmNetwork {
  readonly config: Readonly<ArdmTransformerConfig>;
  /** D = H W C variables. */
  readonly dimensions: number;
  /** K values per variable. */
  readonly categories: number;

  /**
   * Builds the network with PyTorch's default initialisation, reproducible from `seed`; throws
   * naming the first bad field of `config`. The model owns its variables: dispose() it.
   */
  constructor(config: ArdmTransformerConfig, seed = 0) {
    super("ArdmTransformer");
    this.config = checkArdmTransformerConfig(config);
    const c = this.config;
    this.dimensions = c.height * c.width * c.channels;
    this.categories = c.categories;
    ardmTransformerArchitecture(c).forEach((spec, i) => {
      const variable = this.parameters.create(spec, seed * 10000 + i);
      if (EMBEDDING_KEYS.includes(spec.key)) tf.tidy(() => variable.assign(seededNormal(spec.shape, seed * 10000 + i)));
    });
    checkArdmNetwork("ArdmTransformer", this);
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
        `ArdmTransformer.logits: x has shape [${x.shape}] and mask [${mask.shape}], but both must be [N, ${D}] ` +
          `(an ${c.height}x${c.width}x${c.channels} image flattened as NHWC: variable = position * ${c.channels} + channel).`,
      );
    }
    const n = x.shape[0];
    const L = c.height * c.width;
    const p = this.parameters;
    return tf.tidy(() => {
      // token = x where given, K (the masked token) where not: (x - K) m + K, in int32 throughout.
      const given = tf.cast(tf.greater(mask, 0.5), "int32");
      const maskedToken = tf.scalar(c.categories, "int32");
      const tokens = tf.add(tf.mul(tf.sub(tf.cast(x, "int32"), maskedToken), given), maskedToken);
      // [N L, C, K + 1] one-hots read as [N L, C (K + 1)]: channel c's one sits at row c (K + 1) + token.
      const multiHot = tf.reshape(tf.oneHot(tf.reshape(tokens, [n * L, c.channels]), c.categories + 1, 1, 0, "float32"), [n * L, c.channels * (c.categories + 1)]);
      const values = tf.matMul(multiHot as tf.Tensor2D, p.get("value_embedding.weight") as tf.Tensor2D);
      let h = tf.add(tf.reshape(values, [n, L, c.modelWidth]), p.get("position_embedding")) as tf.Tensor3D;
      for (let i = 0; i < c.layers; i++) h = this.block(`blocks.${i}`, h);
      const normed = applyLayerNorm(p, "norm", tf.reshape(h, [n * L, c.modelWidth]) as tf.Tensor2D);
      return tf.reshape(applyLinear(p, "head", normed), [n, D, c.categories]) as tf.Tensor3D;
    });
  }

  /** One pre-norm block, nn.TransformerEncoderLayer(norm_first=True, activation="gelu", dropout=0): [N, L, W] -> same, owned by the caller. */
  private block(key: string, h: tf.Tensor3D): tf.Tensor3D {
    const p = this.parameters;
    const [n, L, width] = h.shape;
    return tf.tidy(() => {
      const attended = tf.add(h, multiHeadSelfAttention(p, `${key}.self_attn`, applyLayerNorm(p, `${key}.norm1`, h), this.config.heads));
      const flat = tf.reshape(attended, [n * L, width]) as tf.Tensor2D;
      const hidden = gelu(applyLinear(p, `${key}.linear1`, applyLayerNorm(p, `${key}.norm2`, flat))) as tf.Tensor2D;
      return tf.reshape(tf.add(flat, applyLinear(p, `${key}.linear2`, hidden)), [n, L, width]) as tf.Tensor3D;
    });
  }

}
