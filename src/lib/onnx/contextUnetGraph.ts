/**
 * The course's ContextUnet (../model/contextUnet.ts) as an ONNX graph, in inference mode, from its
 * configuration and weights: the same layers in the same order as its predictNoise, BatchNorm
 * folded into the convs before it with its running statistics.
 *
 *   inputs   x [batch, H, H, C] (NHWC, as the library's), t_fraction [batch] (t / T), context [batch, nContext]
 *   output   noise [batch, H, H, outChannels] (NHWC)
 *
 * Inside, activations are NCHW (ONNX's Conv layout): one Transpose in, one out.
 */
import type { ContextUnet, ContextUnetConfig } from "../model/contextUnet";
import type { WeightMap } from "../model/parameters";
import { ONNX_BATCH, ONNX_INPUT_CONTEXT, ONNX_INPUT_T_FRACTION, ONNX_INPUT_X, ONNX_OUTPUT_NOISE, OnnxGraphBuilder } from "./graphBuilder";
import { type OnnxLayerContext, conv, convBatchNorm, convTranspose, gelu, groupNorm, linear } from "./layers";

/** GroupNorm's groups in up0 and out, and the residual scale 1 / 1.414, as ../model/contextUnet.ts and ../model/blocks.ts. */
const GROUPS = 8;
const RESIDUAL_SCALE = 1 / 1.414;

/** ResidualConvBlock: [Conv3x3 -> BatchNorm -> GELU] x 2, then (shortcut(x) + h) / 1.414 when residual. */
function convBlock(ctx: OnnxLayerContext, key: string, x: string, residual: boolean): string {
  const first = gelu(ctx.g, `${key}.conv1`, convBatchNorm(ctx, `${key}.conv1.0`, `${key}.conv1.1`, x));
  const second = gelu(ctx.g, `${key}.conv2`, convBatchNorm(ctx, `${key}.conv2.0`, `${key}.conv2.1`, first));
  if (!residual) return second;
  const base = ctx.weights[`${key}.shortcut.weight`] ? conv(ctx, `${key}.shortcut`, x) : x;
  return ctx.g.op("Mul", key, [ctx.g.op("Add", key, [base, second]), ctx.g.scalar(RESIDUAL_SCALE)]);
}

const twoBlocks = (ctx: OnnxLayerContext, key: string, x: string) => convBlock(ctx, `${key}.b2`, convBlock(ctx, `${key}.b1`, x, false), false);

/** UnetDown: two conv blocks, then MaxPool 2 (opset 12). */
function down(ctx: OnnxLayerContext, key: string, x: string): string {
  return ctx.g.op("MaxPool", key, [twoBlocks(ctx, key, x)], { kernel_shape: [2, 2], strides: [2, 2] });
}

/** UnetUp: concat(x, skip) on channels, ConvTranspose k2 s2, two conv blocks. */
function up(ctx: OnnxLayerContext, key: string, x: string, skip: string): string {
  const merged = ctx.g.op("Concat", key, [x, skip], { axis: 1 });
  return twoBlocks(ctx, key, convTranspose(ctx, `${key}.up`, merged, { stride: 2, pad: 0 }));
}

/** EmbedFC: Linear -> GELU -> Linear, as [N, width, 1, 1] to broadcast over pixels. */
function embed(ctx: OnnxLayerContext, key: string, x: string): string {
  const hidden = linear(ctx, `${key}.l2`, gelu(ctx.g, `${key}.l1`, linear(ctx, `${key}.l1`, x)));
  const width = ctx.weights[`${key}.l2.bias`].data.length;
  return ctx.g.op("Reshape", key, [hidden, ctx.g.int64([0, width, 1, 1])]);
}

/**
 * The ONNX model's bytes of a ContextUnet of `config` with `weights` (getWeights()'s map: every
 * key of the model, BatchNorm's running statistics included). Pure: nothing of TensorFlow.js.
 */
export function contextUnetOnnx(config: Readonly<ContextUnetConfig>, weights: WeightMap): Uint8Array {
  const g = new OnnxGraphBuilder("ContextUnet");
  const ctx: OnnxLayerContext = { g, weights };
  const { height, inChannels, nContext, outChannels } = config;
  const x = g.op("Transpose", "input", [ONNX_INPUT_X], { perm: [0, 3, 1, 2] });
  const t = g.op("Reshape", "input", [ONNX_INPUT_T_FRACTION, g.int64([-1, 1])]);

  const x0 = convBlock(ctx, "init_conv", x, true);
  const down1 = down(ctx, "down1", x0);
  const down2 = down(ctx, "down2", down1);
  const pool = height / 4;
  const hidden = gelu(g, "to_vec", g.op("AveragePool", "to_vec", [down2], { kernel_shape: [pool, pool], strides: [pool, pool] }));

  const contextEmbed1 = embed(ctx, "contextembed1", ONNX_INPUT_CONTEXT);
  const timeEmbed1 = embed(ctx, "timeembed1", t);
  const contextEmbed2 = embed(ctx, "contextembed2", ONNX_INPUT_CONTEXT);
  const timeEmbed2 = embed(ctx, "timeembed2", t);

  const up0 = g.op("Relu", "up0", [groupNorm(ctx, "up0.1", convTranspose(ctx, "up0.0", hidden, { stride: pool, pad: 0 }), { height: pool, width: pool }, GROUPS)]);
  // h = c_emb * h_up + t_emb at the two up-sampling stages.
  const up1 = up(ctx, "up1", g.op("Add", "up1", [g.op("Mul", "up1", [contextEmbed1, up0]), timeEmbed1]), down2);
  const up2 = up(ctx, "up2", g.op("Add", "up2", [g.op("Mul", "up2", [contextEmbed2, up1]), timeEmbed2]), down1);

  const merged = conv(ctx, "out.0", g.op("Concat", "out", [up2, x0], { axis: 1 }));
  const activated = g.op("Relu", "out", [groupNorm(ctx, "out.1", merged, { height, width: height }, GROUPS)]);
  const prediction = g.op("Transpose", "output", [conv(ctx, "out.3", activated)], { perm: [0, 2, 3, 1] });

  return g.encode(
    [
      { name: ONNX_INPUT_X, dims: [ONNX_BATCH, height, height, inChannels] },
      { name: ONNX_INPUT_T_FRACTION, dims: [ONNX_BATCH] },
      { name: ONNX_INPUT_CONTEXT, dims: [ONNX_BATCH, nContext] },
    ],
    [{ value: prediction, info: { name: ONNX_OUTPUT_NOISE, dims: [ONNX_BATCH, height, height, outChannels] } }],
  );
}

/** The same from a live model: reads its weights (an await), then builds the graph. */
export async function contextUnetToOnnx(model: ContextUnet): Promise<Uint8Array> {
  return contextUnetOnnx(model.config, await model.getWeights());
}
