/**
 * Conv2DBackpropFilter for the wasm backend, which has none: the gradient of a 2-D convolution
 * with respect to its filter. For y[n,a,b,o] = sum_{i,j,c} xpad[n, a*sh + i, b*sw + j, c] W[i,j,c,o]:
 *
 *   dW[i,j,c,o] = sum_{n,a,b} xpad[n, a*sh + i, b*sw + j, c] dy[n,a,b,o]
 *
 * which is itself a convolution: x with batch and channels swapped ([C, H, W, N]) correlated with
 * dy as the filter ([Ho, Wo, N, O]), the filter dilated by the forward stride, over the forward
 * padding. One XNNPACK convolution then does all the multiply-adds. Its reduction is long
 * (Ho*Wo*N terms per output), so it runs slower than the forward: over a ContextUnet training step
 * at batch 100, the 21 filter gradients took ~1.8x the 21 forward convolutions. Measured and
 * slower: im2col with one matrix product (3-7x), the batch split into chunks (per-call overhead),
 * a depthwise convolution with channel multiplier O plus a reduction over N.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
} from "@tensorflow/tfjs-core";
import { inputTensor, requireChannelsLast } from "./kernelInputs";

function conv2dBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; attrs?: NamedAttrMap }): tf.Tensor4D {
  const x = inputTensor<tf.Rank.R4>(args.inputs.x, "x", Conv2DBackpropFilter);
  const dy = inputTensor<tf.Rank.R4>(args.inputs.dy, "dy", Conv2DBackpropFilter);
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  requireChannelsLast(dataFormat, Conv2DBackpropFilter);
  const info = backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode);
  const { filterHeight, filterWidth, inChannels, outChannels, padInfo } = info;
  if (dy.shape[1] !== info.outHeight || dy.shape[2] !== info.outWidth || dy.shape[3] !== outChannels) {
    throw new Error(
      `${Conv2DBackpropFilter} (wasm): dy has shape [${dy.shape}], expected ` +
        `[${info.batchSize}, ${info.outHeight}, ${info.outWidth}, ${outChannels}] ` +
        `for x [${x.shape}] and filter [${filterShape}].`,
    );
  }
  return tf.tidy(() => {
    const xByChannel = tf.transpose(x, [3, 1, 2, 0]); // [C, H, W, N]: channels become the batch
    const dyAsFilter = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, O]: contract over n, a, b
    const padding: backend_util.ExplicitPadding = [
      [0, 0],
      [padInfo.top, padInfo.bottom],
      [padInfo.left, padInfo.right],
      [0, 0],
    ];
    // correlation[c, i, j, o] = sum_{a,b,n} xpad[c, i + a*sh, j + b*sw, n] dy[a, b, n, o]: dW for every
    // offset (i, j) the padded input allows; offsets past the filter's size are never used by the forward.
    const correlation = tf.conv2d(xByChannel, dyAsFilter, 1, padding, "NHWC", [info.strideHeight, info.strideWidth]);
    const offsets =
      correlation.shape[1] === filterHeight && correlation.shape[2] === filterWidth
        ? correlation
        : tf.slice(correlation, [0, 0, 0, 0], [inChannels, filterHeight, filterWidth, outChannels]);
    return tf.transpose(offsets, [1, 2, 0, 3]); // [kh, kw, C, O]
  });
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: "wasm",
  kernelFunc: conv2dBackpropFilter as unknown as KernelFunc,
};
