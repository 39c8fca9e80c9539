/**
 * Multi-head self-attention over an image's H x W positions, as PyTorch's
 * nn.MultiheadAttention(C, heads, batch_first=True) computes it (Vaswani et al. 2017, eq. 1 and
 * section 3.2.2), and the attention block around it: GroupNorm, attention, residual.
 *
 *   [q | k | v] = x W_in + b_in                  x [N, L, C], L = H W positions; each [N, L, C]
 *   head_h = softmax(q_h k_h^T / sqrt(d)) v_h    q_h, k_h, v_h: channels h d .. (h + 1) d - 1, d = C / heads
 *   attention(x) = [head_0 | ... ] W_out + b_out
 *
 * Cost: an L x L score matrix per head and image (28 x 28 pixels: 784^2 = 614,656 floats, 2.5 MB),
 * which is why attention usually waits for a downsampled resolution.
 */
import * as tf from "@tensorflow/tfjs-core";
import { applyGroupNorm, groupNormSpecs } from "../layers";
import type { ParameterSpec, ParameterStore } from "../parameters";

/**
 * nn.MultiheadAttention's parameters under its own names. Its initialisation: in_proj_weight
 * xavier_uniform, bound sqrt(6 / (C + 3C)), which is 1 / sqrt(fanIn) for fanIn = 2C / 3; both
 * biases 0; out_proj.weight as any nn.Linear.
 */
export function attentionSpecs(key: string, channels: number): ParameterSpec[] {
  return [
    { key: `${key}.in_proj_weight`, shape: [channels, 3 * channels], kind: "linear", fanIn: (2 * channels) / 3, trainable: true },
    { key: `${key}.in_proj_bias`, shape: [3 * channels], kind: "zeros", trainable: true },
    { key: `${key}.out_proj.weight`, shape: [channels, channels], kind: "linear", fanIn: channels, trainable: true },
    { key: `${key}.out_proj.bias`, shape: [channels], kind: "zeros", trainable: true },
  ];
}

/** [N, L, C] -> [N * heads, L, d]: each head's channels as its own batch entry. */
function splitHeads(x: tf.Tensor2D, n: number, length: number, heads: number): tf.Tensor3D {
  const d = x.shape[1] / heads;
  return tf.reshape(tf.transpose(tf.reshape(x, [n, length, heads, d]), [0, 2, 1, 3]), [n * heads, length, d]);
}

/**
 * Self-attention of every position with every other (see the module comment).
 * @param x      [N, L, C] a sequence per image (here its pixels in row-major order).
 * @param heads  the number of heads; it divides C.
 * @returns  [N, L, C], owned by the caller.
 */
export function multiHeadSelfAttention(p: ParameterStore, key: string, x: tf.Tensor3D, heads: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [n, length, channels] = x.shape;
    const d = channels / heads;
    const projected = tf.fused.matMul({ a: tf.reshape(x, [n * length, channels]), b: p.get(`${key}.in_proj_weight`) as tf.Tensor2D, bias: p.get(`${key}.in_proj_bias`) });
    const [q, k, v] = tf.split(projected, 3, 1).map((part) => splitHeads(part as tf.Tensor2D, n, length, heads));
    // PyTorch scales q before the product: q / sqrt(d), then q k^T.
    const scores = tf.matMul(tf.mul(q, 1 / Math.sqrt(d)), k, false, true);
    const attended = tf.matMul(tf.softmax(scores), v);
    const merged = tf.reshape(tf.transpose(tf.reshape(attended, [n, heads, length, d]), [0, 2, 1, 3]), [n * length, channels]);
    const out = tf.fused.matMul({ a: merged as tf.Tensor2D, b: p.get(`${key}.out_proj.weight`) as tf.Tensor2D, bias: p.get(`${key}.out_proj.bias`) });
    return tf.reshape(out, [n, length, channels]) as tf.Tensor3D;
  });
}

/** The attention block's parameters: `norm` (GroupNorm) and `attention`. */
export function attentionBlockSpecs(key: string, channels: number): ParameterSpec[] {
  return [...groupNormSpecs(`${key}.norm`, channels), ...attentionSpecs(`${key}.attention`, channels)];
}

/** x + attention(GroupNorm(x)) over the H W positions: [N, H, W, C] -> same shape, owned by the caller. */
export function applyAttentionBlock(p: ParameterStore, key: string, x: tf.Tensor4D, heads: number, groups: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const normed = applyGroupNorm(p, `${key}.norm`, x, groups);
    const attended = multiHeadSelfAttention(p, `${key}.attention`, tf.reshape(normed, [n, h * w, c]), heads);
    return tf.add(x, tf.reshape(attended, [n, h, w, c])) as tf.Tensor4D;
  });
}
