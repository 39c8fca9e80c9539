/**
 * The ARDM convolutional UNet (../ardm/convNetwork.ts) as an ONNX graph from its configuration and
 * weights: the masked value embedding beside the C given flags, conv_in, the down levels (residual
 * blocks, then the 4x4 stride-2 conv), the up levels (the 4x4 transposed conv, the skip's concat,
 * residual blocks), GroupNorm -> SiLU -> conv_out, in the order of its logits. Inputs x and mask
 * [batch, D], output logits [batch, D, K] (./ardmGraphInputs.ts).
 *
 * Inside, activations are NCHW (ONNX's Conv layout); the output goes back to NHWC once, where
 * [batch, H, W, C K] read row-major is [batch, D, K] (variable (row W + column) C + channel).
 */
import type { ArdmConvUnet, ArdmConvUnetConfig } from "../ardm/convNetwork";
import type { WeightMap } from "../model/parameters";
import { ardmGraphInputs, ardmGraphOutput, givenFlags, maskedValueEmbedding } from "./ardmGraphInputs";
import { OnnxGraphBuilder } from "./graphBuilder";
import { type OnnxLayerContext, conv, convTranspose, groupNorm, silu } from "./layers";

/** An activation [batch, channels, height, width] by value name. */
type Activation = { value: string; height: number; width: number };

/** The time-free residual block: h + conv2(SiLU(norm2(conv1(SiLU(norm1 h))))), h through the 1x1 shortcut when the width changes. */
function residual(ctx: OnnxLayerContext, key: string, x: Activation, groups: number): Activation {
  const { g } = ctx;
  const area = { height: x.height, width: x.width };
  const first = conv(ctx, `${key}.conv1`, silu(g, `${key}.norm1`, groupNorm(ctx, `${key}.norm1`, x.value, area, groups)));
  const second = conv(ctx, `${key}.conv2`, silu(g, `${key}.norm2`, groupNorm(ctx, `${key}.norm2`, first, area, groups)));
  const shortcut = ctx.weights[`${key}.shortcut.weight`] ? conv(ctx, `${key}.shortcut`, x.value) : x.value;
  return { ...x, value: g.op("Add", key, [second, shortcut]) };
}

/** [batch, rows, features] -> NCHW [batch, features, H, W]. */
function toImage(g: OnnxGraphBuilder, scope: string, rows: string, features: number, config: Readonly<ArdmConvUnetConfig>): string {
  return g.op("Reshape", scope, [g.op("Transpose", scope, [rows], { perm: [0, 2, 1] }), g.int64([0, features, config.height, config.width])]);
}

/**
 * The ONNX model's bytes of an ArdmConvUnet of `config` with `weights` (getWeights()'s map).
 * Pure: nothing of TensorFlow.js.
 */
export function ardmConvUnetOnnx(config: Readonly<ArdmConvUnetConfig>, weights: WeightMap): Uint8Array {
  const g = new OnnxGraphBuilder("ArdmConvUnet");
  const ctx: OnnxLayerContext = { g, weights };
  const { height, width, channels, categories: K, levelWidths: w, blocksPerLevel, groups } = config;
  const L = height * width;
  const D = L * channels;
  // input_l = [e_l, g_(l C + 0), ..., g_(l C + C-1)]: the summed value embeddings, then the given flags.
  const given = givenFlags(g);
  const values = toImage(g, "input.values", maskedValueEmbedding(ctx, "value_embedding.weight", given, { positions: L, channels, categories: K }), w[0], config);
  const flags = toImage(g, "input.mask", g.op("Reshape", "input.mask", [given, g.int64([-1, L, channels])]), channels, config);
  let h: Activation = { value: conv(ctx, "conv_in", g.op("Concat", "input", [values, flags], { axis: 1 })), height, width };

  const skips: Activation[] = [];
  for (let i = 0; i < w.length; i++) {
    for (let j = 0; j < blocksPerLevel; j++) h = residual(ctx, `down.${i}.blocks.${j}`, h, groups);
    if (i === w.length - 1) break;
    skips.push(h);
    // A 4x4 conv at stride 2 over h padded by one pixel on each side: H -> H / 2.
    h = { value: conv(ctx, `down.${i}.downsample`, h.value, { stride: 2, pads: [1, 1, 1, 1] }), height: h.height / 2, width: h.width / 2 };
  }
  for (let i = w.length - 2; i >= 0; i--) {
    // ConvTranspose2d(4, 2, 1): H -> 2 H; then the skip's channels after the upsampled ones.
    const upsampled = convTranspose(ctx, `up.${i}.upsample`, h.value, { stride: 2, pad: 1 });
    h = { ...skips[i], value: g.op("Concat", `up.${i}`, [upsampled, skips[i].value], { axis: 1 }) };
    for (let j = 0; j < blocksPerLevel; j++) h = residual(ctx, `up.${i}.blocks.${j}`, h, groups);
  }
  const activated = silu(g, "norm_out", groupNorm(ctx, "norm_out", h.value, { height, width }, groups));
  const nhwc = g.op("Transpose", "output", [conv(ctx, "conv_out", activated)], { perm: [0, 2, 3, 1] });
  const logits = g.op("Reshape", "output", [nhwc, g.int64([-1, D, K])]);
  return g.encode(ardmGraphInputs(D), [ardmGraphOutput(logits, D, K)]);
}

/** The same from a live model: reads its weights (an await), then builds the graph. */
export async function ardmConvUnetToOnnx(model: ArdmConvUnet): Promise<Uint8Array> {
  return ardmConvUnetOnnx(model.config, await model.getWeights());
}
