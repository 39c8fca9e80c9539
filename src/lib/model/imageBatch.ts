/**
 * The one input check every network here makes on its images: a batch [N, H, W, C] in NHWC with
 * the network's size and channels, and a hint when the batch looks NCHW (PyTorch's layout).
 */
import type * as tf from "@tensorflow/tfjs-core";

/** Throws unless `x` is [N, height, height, channels]; `what` names the input in the message. */
export function checkImageBatch(x: tf.Tensor, height: number, channels: number, what: string, note = ""): void {
  if (x.rank === 4 && x.shape[1] === height && x.shape[2] === height && x.shape[3] === channels) return;
  const hint = x.rank === 4 && x.shape[1] === channels ? " It looks NCHW: transpose to NHWC." : "";
  throw new Error(`${what} has shape [${x.shape}], expected [N, ${height}, ${height}, ${channels}] (NHWC${note}).${hint}`);
}
