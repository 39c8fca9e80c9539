/**
 * MaxPoolGrad for the wasm backend, replacing its own, which starts each window's running
 * maximum at FLT_MIN (the smallest positive float) instead of -infinity: a window whose values are
 * all negative then passes no gradient at all (measured on tfjs-backend-wasm 4.22; its
 * MaxPoolWithArgmax has the same fault, so it cannot stand in).
 *
 * The gradient routes each window's dy to the window's maximum, the first one in row-major order
 * when several tie (as TensorFlow and tfjs' cpu backend do):
 *
 *   dx[n,h,w,c] = sum over windows (a,b) with argmax(a,b) = (h,w) of dy[n,a,b,c]
 *
 * Windows that tile the input (stride = filter, no padding; ContextUnet's 2x2 pools) take a fast
 * path of broadcasting arithmetic on the input viewed as [N*Ho, kh, Wo, kw, C]. Other windows are
 * handled offset by offset: for each (i, j) in the filter, the input values at (a*sh + i, b*sw + j)
 * are compared with y[n,a,b,c]; the first offset equal to it takes dy, spread back to its input
 * position. Neither uses argmax indices or a scatter.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  MaxPoolGrad,
  type MaxPoolGradAttrs,
  type NamedAttrMap,
} from "@tensorflow/tfjs-core";
import { inputTensor } from "./kernelInputs";
import { padOrCrop, spreadByStride } from "./spatial";

function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; attrs?: NamedAttrMap }): tf.Tensor4D {
  const dy = inputTensor<tf.Rank.R4>(args.inputs.dy, "dy", MaxPoolGrad);
  const x = inputTensor<tf.Rank.R4>(args.inputs.input, "input", MaxPoolGrad);
  const y = inputTensor<tf.Rank.R4>(args.inputs.output, "output", MaxPoolGrad);
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(x.shape, filterSize, strides, 1, pad, dimRoundingMode);
  const { outHeight, outWidth, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo } = info;
  for (const [name, t] of [["dy", dy], ["output", y]] as const) {
    if (t.shape[1] !== outHeight || t.shape[2] !== outWidth || t.shape[0] !== x.shape[0] || t.shape[3] !== x.shape[3]) {
      throw new Error(
        `${MaxPoolGrad} (wasm): ${name} has shape [${t.shape}], expected ` +
          `[${x.shape[0]}, ${outHeight}, ${outWidth}, ${x.shape[3]}] for input [${x.shape}].`,
      );
    }
  }
  const { top, bottom, left, right } = padInfo;
  const tiles = sh === kh && sw === kw && outHeight * kh === x.shape[1] && outWidth * kw === x.shape[2];
  if (tiles && top === 0 && bottom === 0 && left === 0 && right === 0) return tilingWindowsGrad(x, y, dy, kh, kw);
  return tf.tidy(() => {
    // The padded frame holds every window: (out - 1) * stride + filter rows and columns at least.
    const frameHeight = Math.max(padInfo.top + x.shape[1], (outHeight - 1) * sh + kh);
    const frameWidth = Math.max(padInfo.left + x.shape[2], (outWidth - 1) * sw + kw);
    const margins = {
      top: padInfo.top,
      bottom: frameHeight - padInfo.top - x.shape[1],
      left: padInfo.left,
      right: frameWidth - padInfo.left - x.shape[2],
    };
    // Padding is -infinity so it never equals a window's maximum.
    const frame = padOrCrop(x, margins, Number.NEGATIVE_INFINITY);
    const zeros = tf.zerosLike(dy);
    let taken: tf.Tensor = tf.cast(zeros, "bool");
    let dxFrame: tf.Tensor4D | null = null;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        // The (i, j)-th element of every window: frame[n, a*sh + i, b*sw + j, c].
        const element = tf.stridedSlice(
          frame,
          [0, i, j, 0],
          [x.shape[0], i + (outHeight - 1) * sh + 1, j + (outWidth - 1) * sw + 1, x.shape[3]],
          [1, sh, sw, 1],
        );
        const isFirstMax = tf.logicalAnd(tf.equal(element, y), tf.logicalNot(taken));
        taken = tf.logicalOr(taken, isFirstMax);
        const routed = tf.where(isFirstMax, dy, zeros) as tf.Tensor4D;
        // Back to input positions (a*sh + i, b*sw + j) in the frame.
        const spread = spreadByStride(routed, sh, sw);
        const placed = padOrCrop(spread, {
          top: i,
          bottom: frameHeight - i - spread.shape[1],
          left: j,
          right: frameWidth - j - spread.shape[2],
        });
        dxFrame = dxFrame === null ? placed : tf.add<tf.Tensor4D>(dxFrame, placed);
      }
    }
    return padOrCrop(dxFrame as tf.Tensor4D, {
      top: -margins.top,
      bottom: -margins.bottom,
      left: -margins.left,
      right: -margins.right,
    });
  });
}

/**
 * Windows that tile the input, for finite inputs (an infinite maximum gives NaN): with the
 * window's values on axes 1 and 3 of v = x as [N*Ho, kh, Wo, kw, C] and its maximum m broadcast,
 *   isMax = 1 - step(m - v)                      (m - v is 0 exactly at maxima, > 0 elsewhere)
 *   score = isMax * (kh*kw - rowMajorIndex)      (the first maximum scores highest)
 *   first = 1 - step(maxPool(score) - score)     (1 at the first maximum only)
 *   dx    = first * dy                            (dy broadcast over the window)
 * All of it XNNPACK elementwise work and one max-pool, ~10x faster than comparing offsets.
 */
function tilingWindowsGrad(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D, kh: number, kw: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [ho, wo] = [h / kh, w / kw];
    const windows = tf.reshape(x, [n * ho, kh, wo, kw, c]);
    const perWindow = [n * ho, 1, wo, 1, c];
    const isMax = tf.sub(1, tf.step(tf.sub(tf.reshape(y, perWindow), windows)));
    const rank = tf.tensor5d(
      Array.from({ length: kh * kw }, (_, k) => kh * kw - k),
      [1, kh, 1, kw, 1],
    );
    const score = tf.mul(isMax, rank);
    const best = tf.maxPool(tf.reshape(score, x.shape) as tf.Tensor4D, [kh, kw], [kh, kw], "valid");
    const first = tf.sub(1, tf.step(tf.sub(tf.reshape(best, perWindow), score)));
    return tf.reshape(tf.mul(first, tf.reshape(dy, perWindow)), x.shape) as tf.Tensor4D;
  });
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: "wasm",
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
