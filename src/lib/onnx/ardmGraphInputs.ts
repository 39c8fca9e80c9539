/**
 * What the ARDM networks' ONNX graphs share (./ardmTransformerGraph.ts, ./ardmConvUnetGraph.ts):
 * their inputs and output, and the masked value embedding both networks start from
 * (../ardm/transformer.ts, ../ardm/convNetwork.ts):
 *
 *   inputs   x [batch, D] float32, the variables' values 0..K-1 as floats (exact integers: an
 *            int32 tensor's values converted; those under mask 0 are never read), variable
 *            k = position * C + channel
 *            mask [batch, D] float32, 1 = given, 0 = to predict (above 0.5 counts as given)
 *   output   logits [batch, D, K]
 *
 * x is float32 rather than int64 because the runtime's typed surface (./runtime.ts) feeds float32
 * tensors only; the graph turns the values into row indices itself.
 */
import { ONNX_BATCH, ONNX_INPUT_X, type OnnxGraphBuilder } from "./graphBuilder";
import { type OnnxLayerContext, weightOf } from "./layers";
import type { OnnxValueInfo } from "./modelProto";

export const ONNX_INPUT_MASK = "mask";
export const ONNX_OUTPUT_LOGITS = "logits";

/** ONNX's TensorProto element types for Cast's `to`. */
const FLOAT = 1;
const INT64 = 7;

/** The graph's inputs x and mask, both [batch, D]. */
export function ardmGraphInputs(D: number): OnnxValueInfo[] {
  return [
    { name: ONNX_INPUT_X, dims: [ONNX_BATCH, D] },
    { name: ONNX_INPUT_MASK, dims: [ONNX_BATCH, D] },
  ];
}

/** The graph's output, logits [batch, D, K], from the value that holds them. */
export function ardmGraphOutput(value: string, D: number, K: number): { value: string; info: OnnxValueInfo } {
  return { value, info: { name: ONNX_OUTPUT_LOGITS, dims: [ONNX_BATCH, D, K] } };
}

/** g_k = 1 where mask_k > 0.5, else 0: [batch, D] float32, as the networks' tf.greater(mask, 0.5). */
export function givenFlags(g: OnnxGraphBuilder): string {
  return g.op("Cast", "given", [g.op("Greater", "given", [ONNX_INPUT_MASK, g.scalar(0.5)])], { to: FLOAT });
}

/**
 * Each position's summed value embeddings, [batch, L, width] (L = D / C positions):
 *   e_l = sum_c E[c (K + 1) + token_(l C + c)],   token_k = (x_k - K) g_k + K  (x_k given, else K),
 * E = the table at `key` [C (K + 1), width]. The TensorFlow.js networks multiply a multi-hot
 * matrix by E so that the gradient is a matrix product; forward only, a Gather of the C rows
 * (then ReduceSum over the channels) reads C rows where the product reads C (K + 1).
 */
export function maskedValueEmbedding(ctx: OnnxLayerContext, key: string, given: string, shape: { positions: number; channels: number; categories: number }): string {
  const { g } = ctx;
  const { positions, channels, categories: K } = shape;
  const table = weightOf(ctx, key);
  const tokens = g.op("Add", "tokens", [g.op("Mul", "tokens", [g.op("Sub", "tokens", [ONNX_INPUT_X, g.scalar(K)]), given]), g.scalar(K)]);
  // Channel c's table starts at row c (K + 1): an offset per channel, broadcast over [batch, L, C].
  const offsets = g.float32(`${key}.channel_offsets`, [channels], Float32Array.from({ length: channels }, (_, c) => c * (K + 1)));
  const rows = g.op("Add", key, [g.op("Reshape", key, [tokens, g.int64([-1, positions, channels])]), offsets]);
  const gathered = g.op("Gather", key, [g.float32(key, table.shape, table.data), g.op("Cast", key, [rows], { to: INT64 })], { axis: 0 }); // [batch, L, C, width]
  return g.op("ReduceSum", key, [gathered, g.int64([2])], { keepdims: 0 });
}
