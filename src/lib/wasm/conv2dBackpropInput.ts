/**
 * Conv2DBackpropInput for the wasm backend, replacing its own, which is a plain loop (measured at
 * batch 100, 16x16x64 -> 64, 3x3: 778 ms against 91 ms here). For the forward
 * y[n,a,b,o] = sum_{i,j,c} xpad[n, a*sh + i, b*sw + j, c] W[i,j,c,o], the input gradient is
 *
 *   dx[n,h,w,c] = sum_{i,j,o} dyspread[n, h + top - i, w + left - j, o] W[i,j,c,o]
 *
 * with dy spread `stride` apart (zeros between). Substituting i -> kh-1-i makes it a plain
 * correlation of dyspread, padded by kh-1-top above, with the filter rotated 180 degrees and its
 * channel axes swapped (W'[i,j,o,c] = W[kh-1-i, kw-1-j, c, o]): one XNNPACK convolution.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
} from "@tensorflow/tfjs-core";
import { inputTensor, requireChannelsLast } from "./kernelInputs";
import { padOrCrop, spreadByStride } from "./spatial";

function conv2dBackpropInput(args: { inputs: tf.NamedTensorInfoMap; attrs?: NamedAttrMap }): tf.Tensor4D {
  const dy = inputTensor<tf.Rank.R4>(args.inputs.dy, "dy", Conv2DBackpropInput);
  const filter = inputTensor<tf.Rank.R4>(args.inputs.filter, "filter", Conv2DBackpropInput);
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as Conv2DBackpropInputAttrs;
  requireChannelsLast(dataFormat, Conv2DBackpropInput);
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape, strides, 1, pad, dimRoundingMode);
  const { filterHeight: kh, filterWidth: kw, inHeight, inWidth, padInfo } = info;
  if (dy.shape[1] !== info.outHeight || dy.shape[2] !== info.outWidth || dy.shape[3] !== info.outChannels) {
    throw new Error(
      `${Conv2DBackpropInput} (wasm): dy has shape [${dy.shape}], expected ` +
        `[${info.batchSize}, ${info.outHeight}, ${info.outWidth}, ${info.outChannels}] ` +
        `for input [${inputShape}] and filter [${filter.shape}].`,
    );
  }
  return tf.tidy(() => {
    const spread = spreadByStride(dy, info.strideHeight, info.strideWidth);
    const top = kh - 1 - padInfo.top;
    const left = kw - 1 - padInfo.left;
    // Rows after the last dy row: whatever makes the correlation's output exactly inHeight tall.
    const bottom = inHeight + kh - 1 - spread.shape[1] - top;
    const right = inWidth + kw - 1 - spread.shape[2] - left;
    // Negative margins (padding wider than the filter) are cropped; positive ones go to the convolution.
    const cropped = padOrCrop(spread, {
      top: Math.min(0, top),
      bottom: Math.min(0, bottom),
      left: Math.min(0, left),
      right: Math.min(0, right),
    });
    const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D; // [kh, kw, O, C]
    const padding: backend_util.ExplicitPadding = [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ];
    return tf.conv2d(cropped, rotated, 1, padding);
  });
}

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: "wasm",
  kernelFunc: conv2dBackpropInput as unknown as KernelFunc,
};
