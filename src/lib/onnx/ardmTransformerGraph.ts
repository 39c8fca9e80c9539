/**
 * The ARDM transformer (../ardm/transformer.ts) as an ONNX graph from its configuration and
 * weights: the masked value embedding plus the position embedding, the pre-norm blocks
 * (nn.TransformerEncoderLayer, norm_first = True), the final LayerNorm and the head, in the order
 * of its logits. Inputs x and mask [batch, D], output logits [batch, D, K] (./ardmGraphInputs.ts).
 *
 * The residual stream is kept as rows [batch L, width] (position l of datum n at row n L + l), so
 * every linear layer is one Gemm with its bias; only attention reshapes to [batch, heads, L, d].
 */
import type { ArdmTransformer, ArdmTransformerConfig } from "../ardm/transformer";
import type { WeightMap } from "../model/parameters";
import { ardmGraphInputs, ardmGraphOutput, givenFlags, maskedValueEmbedding } from "./ardmGraphInputs";
import { OnnxGraphBuilder } from "./graphBuilder";
import { type OnnxLayerContext, gelu, layerNorm, linear, multiHeadSelfAttention, weightOf } from "./layers";

/**
 * One pre-norm block on rows h [batch L, width]:
 *   h <- h + MultiHeadAttention(LayerNorm_1(h)),   h <- h + W_2 GELU(W_1 LayerNorm_2(h) + b_1) + b_2.
 */
function block(ctx: OnnxLayerContext, key: string, h: string, attention: { length: number; channels: number; heads: number }): string {
  const { g } = ctx;
  const attended = g.op("Add", key, [h, multiHeadSelfAttention(ctx, `${key}.self_attn`, layerNorm(ctx, `${key}.norm1`, h), attention)]);
  const hidden = gelu(g, `${key}.linear1`, linear(ctx, `${key}.linear1`, layerNorm(ctx, `${key}.norm2`, attended)));
  return g.op("Add", key, [attended, linear(ctx, `${key}.linear2`, hidden)]);
}

/**
 * The ONNX model's bytes of an ArdmTransformer of `config` with `weights` (getWeights()'s map).
 * Pure: nothing of TensorFlow.js.
 */
export function ardmTransformerOnnx(config: Readonly<ArdmTransformerConfig>, weights: WeightMap): Uint8Array {
  const g = new OnnxGraphBuilder("ArdmTransformer");
  const ctx: OnnxLayerContext = { g, weights };
  const { height, width, channels, categories: K, modelWidth, heads } = config;
  const L = height * width;
  const D = L * channels;
  // h_l = sum_c E[c (K + 1) + token_(l C + c)] + P[l].
  const values = maskedValueEmbedding(ctx, "value_embedding.weight", givenFlags(g), { positions: L, channels, categories: K });
  const position = weightOf(ctx, "position_embedding");
  const embedded = g.op("Add", "embedding", [values, g.float32("position_embedding", position.shape, position.data)]);
  let h = g.op("Reshape", "embedding", [embedded, g.int64([-1, modelWidth])]);
  for (let i = 0; i < config.layers; i++) h = block(ctx, `blocks.${i}`, h, { length: L, channels: modelWidth, heads });
  // Position l's C K head outputs are the rows l C + c of [batch, D, K].
  const logits = g.op("Reshape", "head", [linear(ctx, "head", layerNorm(ctx, "norm", h)), g.int64([-1, D, K])]);
  return g.encode(ardmGraphInputs(D), [ardmGraphOutput(logits, D, K)]);
}

/** The same from a live model: reads its weights (an await), then builds the graph. */
export async function ardmTransformerToOnnx(model: ArdmTransformer): Promise<Uint8Array> {
  return ardmTransformerOnnx(model.config, await model.getWeights());
}
