/**
 * Spatial rearrangements of NHWC tensors that the gradient kernels share, built from reshape,
 * pad and slice (all of which the wasm backend has).
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * Spreads pixels `stride` apart with zeros between: out[n, a*sh, b*sw, c] = t[n, a, b, c], shape
 * [N, (H-1)*sh + 1, (W-1)*sw + 1, C]. This is the adjoint of taking every sh-th row and sw-th
 * column, as a strided convolution's input gradient needs. Returns t itself for stride 1.
 */
export function spreadByStride(t: tf.Tensor4D, strideHeight: number, strideWidth: number): tf.Tensor4D {
  if (strideHeight === 1 && strideWidth === 1) return t;
  return tf.tidy((): tf.Tensor4D => {
    const [n, h, w, c] = t.shape;
    const cells = tf.pad(tf.reshape(t, [n, h, 1, w, 1, c]), [
      [0, 0],
      [0, 0],
      [0, strideHeight - 1],
      [0, 0],
      [0, strideWidth - 1],
      [0, 0],
    ]);
    const grid = tf.reshape(cells, [n, h * strideHeight, w * strideWidth, c]);
    return tf.slice(grid, [0, 0, 0, 0], [n, (h - 1) * strideHeight + 1, (w - 1) * strideWidth + 1, c]) as tf.Tensor4D;
  });
}

/** Rows/columns to add (positive, zeros) or remove (negative) on each side of H and W. */
export interface Margins {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Crops the negative margins away and pads the positive ones with `value`; returns t itself when all are 0. */
export function padOrCrop(t: tf.Tensor4D, m: Margins, value = 0): tf.Tensor4D {
  if (m.top === 0 && m.bottom === 0 && m.left === 0 && m.right === 0) return t;
  return tf.tidy(() => {
    const [n, h, w, c] = t.shape;
    const cropTop = Math.max(0, -m.top);
    const cropLeft = Math.max(0, -m.left);
    const rows = h - cropTop - Math.max(0, -m.bottom);
    const cols = w - cropLeft - Math.max(0, -m.right);
    if (rows < 0 || cols < 0) {
      throw new Error(`padOrCrop: margins ${JSON.stringify(m)} crop more than the ${h}x${w} image.`);
    }
    const cropped = rows === h && cols === w ? t : tf.slice(t, [0, cropTop, cropLeft, 0], [n, rows, cols, c]);
    const padding: Array<[number, number]> = [
      [0, 0],
      [Math.max(0, m.top), Math.max(0, m.bottom)],
      [Math.max(0, m.left), Math.max(0, m.right)],
      [0, 0],
    ];
    return padding.every(([before, after]) => before === 0 && after === 0) ? cropped : tf.pad(cropped, padding, value);
  });
}
