/**
 * Halving and doubling H and W, as the reference does: a Conv2d(k = 4, stride 2, padding 1) down,
 * a ConvTranspose2d(k = 4, stride 2, padding 1) up, both at constant width. Both need even sizes
 * on the way down (28 -> 14 -> 7) and give exactly 2H on the way up (7 -> 14 -> 28).
 */
import * as tf from "@tensorflow/tfjs-core";
import { convSpecs, convTransposeSpecs } from "../layers";
import type { ParameterSpec, ParameterStore } from "../parameters";

export function downsampleSpecs(key: string, channels: number): ParameterSpec[] {
  return convSpecs(key, channels, channels, 4);
}

/**
 * x [N, H, W, C] -> [N, H/2, W/2, C]: a 4x4 conv at stride 2 over x padded by one zero pixel
 * on each side. The pad is its own op because native TensorFlow's kernels take only "same" or
 * "valid" padding. The caller owns the result.
 */
export function applyDownsample(p: ParameterStore, key: string, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]);
    return tf.fused.conv2d({ x: padded, filter: p.get(`${key}.weight`) as tf.Tensor4D, strides: 2, pad: "valid", bias: p.get(`${key}.bias`) });
  });
}

export function upsampleSpecs(key: string, channels: number): ParameterSpec[] {
  return convTransposeSpecs(key, channels, channels, 4);
}

/**
 * x [N, H, W, C] -> [N, 2H, 2W, C]: PyTorch's ConvTranspose2d(4, 2, 1), the gradient of the
 * downsampling conv. TensorFlow's "same" padding of that conv (output 2H, kernel 4, stride 2) is
 * one pixel on each side, PyTorch's padding 1. Our convT layout [in, kh, kw, out] becomes
 * conv2dTranspose's [kh, kw, out, in]. The caller owns the result.
 */
export function applyUpsample(p: ParameterStore, key: string, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const filter = tf.transpose(p.get(`${key}.weight`), [1, 2, 3, 0]) as tf.Tensor4D;
    const [n, h, w] = x.shape;
    const y = tf.conv2dTranspose(x, filter, [n, 2 * h, 2 * w, filter.shape[2]], 2, "same");
    return tf.add(y, p.get(`${key}.bias`)) as tf.Tensor4D;
  });
}
