/**
 * An ARDM's data as pictures: D = H W C uint8 categories (NHWC-flattened, ./transformer.ts) back to
 * the project's images, NHWC float32 in [-1, 1] (x / 127.5 - 1), for the render module's grids and
 * GIFs. A partly decoded state shows its undecoded channels at 0, mid grey.
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * @param values      [N * D] category indices 0..255 (e.g. a sampler frame's values, or samples.dataSync()).
 * @param imageShape  [H, W, C], D = H W C.
 * @param mask        [N * D], 1 = decoded; null when every variable is decoded.
 * @returns           [N, H, W, C] float32 in [-1, 1], owned by the caller.
 */
export function variablesToImages(values: ArrayLike<number>, imageShape: readonly [number, number, number], mask: ArrayLike<number> | null = null): tf.Tensor4D {
  const [height, width, channels] = imageShape;
  const D = height * width * channels;
  if (values.length % D !== 0 || (mask !== null && mask.length !== values.length)) {
    throw new Error(`variablesToImages: ${values.length} values${mask ? ` and ${mask.length} mask entries` : ""} for images of D = ${height} x ${width} x ${channels} = ${D}; pass N * D of each.`);
  }
  const pixels = Float32Array.from(values, (v, k) => (mask === null || mask[k] ? v / 127.5 - 1 : 0));
  return tf.tensor4d(pixels, [values.length / D, height, width, channels]);
}
