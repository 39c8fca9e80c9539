/**
 * The attention UNet (../model/attentionUnet) as an ONNX graph from its configuration and weights:
 * the same blocks in the same order as its predictNoise (time MLP, conv_in, downs, mids, ups,
 * GroupNorm -> SiLU -> conv_out), with multi-head self-attention written out as
 * nn.MultiheadAttention computes it.
 *
 *   inputs   x [batch, S, S, C] (NHWC), t_fraction [batch] (t / T); no context (the model is unconditional)
 *   output   noise [batch, S, S, C] (NHWC)
 */
import { type AttentionUnet, blockShapes } from "../model/attentionUnet/attentionUnet";
import type { AttentionUnetConfig } from "../model/attentionUnet/config";
import type { UnetBlockShape } from "../model/attentionUnet/blocks";
import { TIME_SCALE, sinusoidFrequencies } from "../model/attentionUnet/timeEmbedding";
import type { WeightMap } from "../model/parameters";
import { ONNX_BATCH, ONNX_INPUT_T_FRACTION, ONNX_INPUT_X, ONNX_OUTPUT_NOISE, OnnxGraphBuilder } from "./graphBuilder";
import { type OnnxLayerContext, conv, convTranspose, groupNorm, linear, multiHeadSelfAttention, silu, weightOf } from "./layers";

/** What every block shares: the graph and weights, GroupNorm's groups, the heads, SiLU(time embedding) [N, timeSize]. */
interface BlockContext extends OnnxLayerContext {
  groups: number;
  heads: number;
  timeActivated: string;
}

/** An activation [N, C, size, size] by value name. */
type Activation = { value: string; size: number };

/** [N] t / T -> [N, size] sinusoids of 1000 t / T (Vaswani et al. 2017, 3.5), then Linear, SiLU, Linear. */
function timeMlp(ctx: OnnxLayerContext, size: number): string {
  const { g } = ctx;
  const steps = g.op("Reshape", "time_mlp", [g.op("Mul", "time_mlp", [ONNX_INPUT_T_FRACTION, g.scalar(TIME_SCALE)]), g.int64([-1, 1])]);
  const angles = g.op("Mul", "time_mlp", [steps, g.float32("time_mlp.frequencies", [1, size / 2], sinusoidFrequencies(size))]);
  const sinusoids = g.op("Concat", "time_mlp", [g.op("Sin", "time_mlp", [angles]), g.op("Cos", "time_mlp", [angles])], { axis: 1 });
  return linear(ctx, "time_mlp.2", silu(g, "time_mlp.1", linear(ctx, "time_mlp.0", sinusoids)));
}

/** ResNet block: conv1(SiLU(norm1 x)) + time_proj(SiLU temb), then conv2(SiLU(norm2 .)), plus x (or its 1x1 shortcut). */
function resnet(ctx: BlockContext, key: string, x: Activation): Activation {
  const { g } = ctx;
  const area = { height: x.size, width: x.size };
  const first = conv(ctx, `${key}.conv1`, silu(g, `${key}.norm1`, groupNorm(ctx, `${key}.norm1`, x.value, area, ctx.groups)));
  const cout = weightOf(ctx, `${key}.conv1.bias`).data.length;
  const time = g.op("Reshape", `${key}.time_proj`, [linear(ctx, `${key}.time_proj`, ctx.timeActivated), g.int64([0, cout, 1, 1])]);
  const withTime = g.op("Add", key, [first, time]);
  const second = conv(ctx, `${key}.conv2`, silu(g, `${key}.norm2`, groupNorm(ctx, `${key}.norm2`, withTime, area, ctx.groups)));
  const shortcut = ctx.weights[`${key}.shortcut.weight`] ? conv(ctx, `${key}.shortcut`, x.value) : x.value;
  return { value: g.op("Add", key, [second, shortcut]), size: x.size };
}

/**
 * x + MultiheadAttention(GroupNorm(x)) over the L = H W positions (Vaswani et al. 2017, eq. 1):
 * head_h = softmax(q_h k_h^T / sqrt(d)) v_h, heads concatenated, then out_proj
 * (./layers.ts, multiHeadSelfAttention, on the positions as rows [N L, C]).
 */
function attentionBlock(ctx: BlockContext, key: string, x: Activation): Activation {
  const { g, heads } = ctx;
  const channels = weightOf(ctx, `${key}.norm.weight`).data.length;
  const length = x.size * x.size;
  const normed = groupNorm(ctx, `${key}.norm`, x.value, { height: x.size, width: x.size }, ctx.groups);
  const sequence = g.op("Transpose", key, [g.op("Reshape", key, [normed, g.int64([0, channels, length])])], { perm: [0, 2, 1] }); // [N, L, C]
  const rows = g.op("Reshape", key, [sequence, g.int64([-1, channels])]);
  const attended = multiHeadSelfAttention(ctx, `${key}.attention`, rows, { length, channels, heads });
  const out = g.op("Reshape", key, [attended, g.int64([-1, length, channels])]);
  const image = g.op("Reshape", key, [g.op("Transpose", key, [out], { perm: [0, 2, 1] }), g.int64([0, channels, x.size, x.size])]);
  return { value: g.op("Add", key, [x.value, image]), size: x.size };
}

function pairs(ctx: BlockContext, key: string, x: Activation, { layers, attends }: UnetBlockShape): Activation {
  let h = x;
  for (let j = 0; j < layers; j++) {
    h = resnet(ctx, `${key}.resnets.${j}`, h);
    if (attends) h = attentionBlock(ctx, `${key}.attentions.${j}`, h);
  }
  return h;
}

/**
 * The ONNX model's bytes of an AttentionUnet of `config` with `weights` (getWeights()'s map).
 * Pure: nothing of TensorFlow.js.
 */
export function attentionUnetOnnx(config: Readonly<AttentionUnetConfig>, weights: WeightMap): Uint8Array {
  const g = new OnnxGraphBuilder("AttentionUnet");
  const base: OnnxLayerContext = { g, weights };
  const { downs, mids, ups } = blockShapes(config);
  const timeActivated = silu(g, "time_mlp.activated", timeMlp(base, config.timeEmbeddingSize));
  const ctx: BlockContext = { ...base, groups: config.normGroups, heads: config.attentionHeads, timeActivated };

  const input = g.op("Transpose", "input", [ONNX_INPUT_X], { perm: [0, 3, 1, 2] });
  let h: Activation = { value: conv(ctx, "conv_in", input), size: config.imageSize };
  const skips: Activation[] = [];
  downs.forEach((shape, i) => {
    skips.push(h);
    h = pairs(ctx, `downs.${i}`, h, shape);
    // A 4x4 conv at stride 2 over x padded by one pixel on each side: H -> H / 2.
    if (shape.resample) h = { value: conv(ctx, `downs.${i}.downsample`, h.value, { stride: 2, pads: [1, 1, 1, 1] }), size: h.size / 2 };
  });
  mids.forEach((shape, i) => {
    h = resnet(ctx, `mids.${i}.resnets.0`, h);
    for (let j = 0; j < shape.layers; j++) h = resnet(ctx, `mids.${i}.resnets.${j + 1}`, attentionBlock(ctx, `mids.${i}.attentions.${j}`, h));
  });
  ups.forEach((shape, u) => {
    const skip = skips.pop()!;
    // ConvTranspose2d(4, 2, 1): H -> 2 H.
    const upsampled = shape.resample ? { value: convTranspose(ctx, `ups.${u}.upsample`, h.value, { stride: 2, pad: 1 }), size: h.size * 2 } : h;
    h = pairs(ctx, `ups.${u}`, { value: g.op("Concat", `ups.${u}`, [upsampled.value, skip.value], { axis: 1 }), size: skip.size }, shape);
  });
  const activated = silu(g, "norm_out", groupNorm(ctx, "norm_out", h.value, { height: h.size, width: h.size }, config.normGroups));
  const prediction = g.op("Transpose", "output", [conv(ctx, "conv_out", activated)], { perm: [0, 2, 3, 1] });

  const { imageSize: s, imageChannels: c } = config;
  return g.encode(
    [
      { name: ONNX_INPUT_X, dims: [ONNX_BATCH, s, s, c] },
      { name: ONNX_INPUT_T_FRACTION, dims: [ONNX_BATCH] },
    ],
    [{ value: prediction, info: { name: ONNX_OUTPUT_NOISE, dims: [ONNX_BATCH, s, s, c] } }],
  );
}

/** The same from a live model: reads its weights (an await), then builds the graph. */
export async function attentionUnetToOnnx(model: AttentionUnet): Promise<Uint8Array> {
  return attentionUnetOnnx(model.config, await model.getWeights());
}
