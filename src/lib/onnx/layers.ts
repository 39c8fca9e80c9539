/**
 * The library's layers (../model/layers.ts and the attention UNet's) as ONNX nodes, reading the
 * same weights by the same keys. Activations inside the graph are NCHW, the only layout of ONNX's
 * Conv; weights are permuted from the library's TensorFlow layouts when the graph is built.
 * Operators are opset 17's (https://onnx.ai/onnx/operators/).
 */
import type { WeightMap } from "../model/parameters";
import { type OnnxGraphBuilder, permuted } from "./graphBuilder";

/** PyTorch's epsilon for BatchNorm2d and GroupNorm, as ../model/layers.ts. */
const NORM_EPSILON = 1e-5;

/** What every layer needs: the graph it adds to and the model's weights by key. */
export interface OnnxLayerContext {
  g: OnnxGraphBuilder;
  weights: WeightMap;
}

/** A weight by its library key; throws naming it when absent. */
export function weightOf(ctx: OnnxLayerContext, key: string): { shape: number[]; data: Float32Array } {
  const w = ctx.weights[key];
  if (!w) throw new Error(`ONNX export: the weights have no "${key}"; were they read from the same architecture?`);
  return w;
}

/** [C] -> a [C, 1, 1] initializer, broadcasting per channel over an NCHW activation. */
function perChannel(ctx: OnnxLayerContext, key: string): string {
  const w = weightOf(ctx, key);
  return ctx.g.float32(key, [w.data.length, 1, 1], w.data);
}

/** "same" padding of an odd k x k kernel at stride 1: (k - 1) / 2 on every side. */
const samePads = (k: number) => new Array<number>(4).fill((k - 1) / 2);

/**
 * Conv (opset 11) of x [N, in, H, W] with the library's filter [k, k, in, out] as ONNX's
 * [out, in, k, k], its bias, and `pads` [top, left, bottom, right] ("same" at stride 1 by default).
 */
export function conv(ctx: OnnxLayerContext, key: string, x: string, options: { stride?: number; pads?: number[] } = {}): string {
  const w = weightOf(ctx, `${key}.weight`);
  const [k, , cin, cout] = w.shape;
  const filter = ctx.g.float32(`${key}.weight`, [cout, cin, k, k], permuted(w.data, w.shape, [3, 2, 0, 1]));
  const bias = ctx.g.float32(`${key}.bias`, [cout], weightOf(ctx, `${key}.bias`).data);
  const stride = options.stride ?? 1;
  return ctx.g.op("Conv", key, [x, filter, bias], { kernel_shape: [k, k], strides: [stride, stride], pads: options.pads ?? samePads(k) });
}

/**
 * BatchNorm2d(Conv2d(x)) in inference mode folded into one Conv: with s = gamma / sqrt(var + eps),
 *   BN(W * x + b) = (s W) * x + (b - mean) s + beta,
 * the running statistics' function that batchNormAfterBiasInference computes (computed here in
 * float64, stored as float32).
 */
export function convBatchNorm(ctx: OnnxLayerContext, convKey: string, normKey: string, x: string): string {
  const w = weightOf(ctx, `${convKey}.weight`);
  const [k, , cin, cout] = w.shape;
  const bias = weightOf(ctx, `${convKey}.bias`).data;
  const [gamma, beta, mean, variance] = ["weight", "bias", "running_mean", "running_var"].map((name) => weightOf(ctx, `${normKey}.${name}`).data);
  const scale = Float64Array.from(gamma, (g, o) => g / Math.sqrt(variance[o] + NORM_EPSILON));
  const filter = permuted(w.data, w.shape, [3, 2, 0, 1]);
  const perOut = cin * k * k;
  for (let i = 0; i < filter.length; i++) filter[i] *= scale[Math.floor(i / perOut)];
  const foldedBias = Float32Array.from(bias, (b, o) => (b - mean[o]) * scale[o] + beta[o]);
  const filterName = ctx.g.float32(`${convKey}.weight*${normKey}`, [cout, cin, k, k], filter);
  const biasName = ctx.g.float32(`${convKey}.bias*${normKey}`, [cout], foldedBias);
  return ctx.g.op("Conv", `${convKey}+${normKey}`, [x, filterName, biasName], { kernel_shape: [k, k], strides: [1, 1], pads: samePads(k) });
}

/**
 * ConvTranspose (opset 11), PyTorch's ConvTranspose2d: the library's [in, k, k, out] filter as
 * ONNX's [in, out, k, k]. kernel = stride, no padding: ContextUnet's up layers; k 4, stride 2,
 * padding 1: the attention UNet's upsampling (output 2H).
 */
export function convTranspose(ctx: OnnxLayerContext, key: string, x: string, options: { stride: number; pad: number }): string {
  const w = weightOf(ctx, `${key}.weight`);
  const [cin, k, , cout] = w.shape;
  const filter = ctx.g.float32(`${key}.weight`, [cin, cout, k, k], permuted(w.data, w.shape, [0, 3, 1, 2]));
  const bias = ctx.g.float32(`${key}.bias`, [cout], weightOf(ctx, `${key}.bias`).data);
  const { stride, pad } = options;
  return ctx.g.op("ConvTranspose", key, [x, filter, bias], { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] });
}

/** y = x W + b for x [N, in]: Gemm (opset 13) with the library's [in, out] matrix as it is. */
export function linear(ctx: OnnxLayerContext, key: string, x: string): string {
  const w = weightOf(ctx, `${key}.weight`);
  const weight = ctx.g.float32(`${key}.weight`, w.shape, w.data);
  const bias = ctx.g.float32(`${key}.bias`, [w.shape[1]], weightOf(ctx, `${key}.bias`).data);
  return ctx.g.op("Gemm", key, [x, weight, bias]);
}

/**
 * GroupNorm (Wu & He 2018) of x [N, C, H, W] (C from its gamma, H and W given) in `groups` groups: x as [N, G, C/G H W], each row
 * normalised by InstanceNormalization (opset 6: (x - mean) / sqrt(var + eps) over the last axis,
 * here with unit scale and zero shift), back to [N, C, H, W], then the per-channel gamma and beta.
 * (opset 18's GroupNormalization took per-group scales until opset 21 redefined it: avoided.)
 */
export function groupNorm(ctx: OnnxLayerContext, key: string, x: string, size: { height: number; width: number }, groups: number): string {
  const { g } = ctx;
  const channels = weightOf(ctx, `${key}.weight`).data.length;
  const grouped = g.op("Reshape", key, [x, g.int64([0, groups, -1])]);
  const unitScale = g.float32(`${key}.group_scale`, [groups], new Float32Array(groups).fill(1));
  const zeroShift = g.float32(`${key}.group_shift`, [groups], new Float32Array(groups));
  const normalised = g.op("InstanceNormalization", key, [grouped, unitScale, zeroShift], { epsilon: { float: NORM_EPSILON } });
  const restored = g.op("Reshape", key, [normalised, g.int64([0, channels, size.height, size.width])]);
  return g.op("Add", key, [g.op("Mul", key, [restored, perChannel(ctx, `${key}.weight`)]), perChannel(ctx, `${key}.bias`)]);
}

/**
 * Exact GELU, x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), in the node pattern PyTorch exports and
 * ONNX Runtime's GeluFusion turns into one kernel (opset 20's Gelu would need a newer opset).
 */
export function gelu(g: OnnxGraphBuilder, scope: string, x: string): string {
  const erf = g.op("Erf", scope, [g.op("Div", scope, [x, g.scalar(Math.SQRT2)])]);
  return g.op("Mul", scope, [g.op("Mul", scope, [x, g.op("Add", scope, [erf, g.scalar(1)])]), g.scalar(0.5)]);
}

/** SiLU(x) = x sigmoid(x). */
export function silu(g: OnnxGraphBuilder, scope: string, x: string): string {
  return g.op("Mul", scope, [x, g.op("Sigmoid", scope, [x])]);
}

/** PyTorch's epsilon for nn.LayerNorm, as ../ardm/layerNorm.ts. */
const LAYER_NORM_EPSILON = 1e-5;

/**
 * nn.LayerNorm over the last axis of x [..., C] (Ba et al. 2016): (x - mean) / sqrt(var + eps)
 * weight + bias, one LayerNormalization node (opset 17, where it entered the standard; ONNX Runtime
 * runs it as one kernel).
 */
export function layerNorm(ctx: OnnxLayerContext, key: string, x: string): string {
  const weight = weightOf(ctx, `${key}.weight`);
  const scale = ctx.g.float32(`${key}.weight`, weight.shape, weight.data);
  const bias = ctx.g.float32(`${key}.bias`, weight.shape, weightOf(ctx, `${key}.bias`).data);
  return ctx.g.op("LayerNormalization", key, [x, scale, bias], { axis: -1, epsilon: { float: LAYER_NORM_EPSILON } });
}

/**
 * nn.MultiheadAttention(C, heads) of a sequence given as rows x [N L, C] (sequence n's position l at
 * row n L + l), returned as rows [N L, C] (Vaswani et al. 2017, eq. 1):
 *   [q | k | v] = x W_in + b_in,   head_h = softmax(q_h k_h^T / sqrt(d)) v_h,   out = [heads] W_out + b_out.
 * q, k and v are three Gemms on the column blocks of in_proj_weight [C, 3C] (a builder node has one
 * output, so no Split), q's 1 / sqrt(d) folded into its weights and bias as PyTorch scales q.
 */
export function multiHeadSelfAttention(ctx: OnnxLayerContext, key: string, x: string, shape: { length: number; channels: number; heads: number }): string {
  const { g } = ctx;
  const { length, channels, heads } = shape;
  const d = channels / heads;
  const w = weightOf(ctx, `${key}.in_proj_weight`).data;
  const b = weightOf(ctx, `${key}.in_proj_bias`).data;
  // part 0, 1, 2 = q, k, v: columns part C .. (part + 1) C - 1, as [N, L, heads, d] permuted by perm.
  const perHead = (part: number, perm: number[]) => {
    const scale = part === 0 ? 1 / Math.sqrt(d) : 1;
    const weight = new Float32Array(channels * channels);
    for (let i = 0; i < channels; i++) for (let j = 0; j < channels; j++) weight[i * channels + j] = w[i * 3 * channels + part * channels + j] * scale;
    const bias = Float32Array.from(b.subarray(part * channels, (part + 1) * channels), (v) => v * scale);
    const name = `${key}.${["q", "k", "v"][part]}`;
    const projected = g.op("Gemm", name, [x, g.float32(`${name}.weight`, [channels, channels], weight), g.float32(`${name}.bias`, [channels], bias)]);
    return g.op("Transpose", name, [g.op("Reshape", name, [projected, g.int64([-1, length, heads, d])])], { perm });
  };
  const q = perHead(0, [0, 2, 1, 3]); // [N, heads, L, d]
  const kTransposed = perHead(1, [0, 2, 3, 1]); // [N, heads, d, L]
  const v = perHead(2, [0, 2, 1, 3]);
  const weights = g.op("Softmax", key, [g.op("MatMul", key, [q, kTransposed])], { axis: -1 });
  const attended = g.op("Transpose", key, [g.op("MatMul", key, [weights, v])], { perm: [0, 2, 1, 3] }); // [N, L, heads, d]
  return linear(ctx, `${key}.out_proj`, g.op("Reshape", key, [attended, g.int64([-1, channels])]));
}
