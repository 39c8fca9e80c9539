/** The convolution shapes both gradient kernels of src/lib/wasm are checked on. */
import type * as tf from "@tensorflow/tfjs-core";

export interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: "same" | "valid" | tf.backend_util.ExplicitPadding;
}

/** ContextUnet's 3x3 and 1x1 convolutions, then the strides and paddings tfjs allows. */
export const COMMON_CONV_CASES: ConvCase[] = [
  { name: "3x3 same stride 1 (ContextUnet's)", x: [2, 6, 6, 3], filter: [3, 3, 3, 4], strides: 1, pad: "same" },
  { name: "1x1 same (the shortcut)", x: [2, 5, 5, 3], filter: [1, 1, 3, 4], strides: 1, pad: "same" },
  { name: "3x2 valid", x: [2, 6, 5, 2], filter: [3, 2, 2, 3], strides: 1, pad: "valid" },
  { name: "2x2 same (asymmetric padding)", x: [1, 5, 6, 2], filter: [2, 2, 2, 3], strides: 1, pad: "same" },
  { name: "3x3 same stride 2", x: [2, 7, 6, 2], filter: [3, 3, 2, 3], strides: 2, pad: "same" },
  {
    name: "3x3 valid strides [2, 3] (rows left over)",
    x: [1, 8, 9, 2],
    filter: [3, 3, 2, 2],
    strides: [2, 3],
    pad: "valid",
  },
];
