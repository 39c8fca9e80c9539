/**
 * The attention UNet's ResNet block (He et al. 2016, in the pre-activation order of Ho et al.
 * 2020's model): x -> norm1 -> SiLU -> conv1 (+ the time embedding, projected to the block's
 * width) -> norm2 -> SiLU -> conv2, plus x through a 1x1 conv when the width changes.
 * Departure from the reference: its shortcut is a 1x1 conv in every block; here it is the
 * identity when the width stays (as in Ho et al. and diffusers), a learned 1x1 conv otherwise.
 */
import * as tf from "@tensorflow/tfjs-core";
import { applyConv, applyGroupNorm, applyLinear, convSpecs, groupNormSpecs, linearSpecs } from "../layers";
import type { ParameterSpec, ParameterStore } from "../parameters";
import { silu } from "./timeEmbedding";

export function resnetSpecs(key: string, cin: number, cout: number, timeSize: number): ParameterSpec[] {
  return [
    ...groupNormSpecs(`${key}.norm1`, cin),
    ...convSpecs(`${key}.conv1`, cin, cout, 3),
    ...linearSpecs(`${key}.time_proj`, timeSize, cout),
    ...groupNormSpecs(`${key}.norm2`, cout),
    ...convSpecs(`${key}.conv2`, cout, cout, 3),
    ...(cin === cout ? [] : convSpecs(`${key}.shortcut`, cin, cout, 1)),
  ];
}

/**
 * x [N, H, W, cin] -> [N, H, W, cout], cout being the block's conv1 width; the caller owns the result.
 * @param timeActivated  [N, timeSize] SiLU of the time MLP's output (the reference's t_emb_layers
 *                       apply that SiLU in every block; here it is made once per forward pass).
 */
export function applyResnet(p: ParameterStore, key: string, x: tf.Tensor4D, timeActivated: tf.Tensor2D, normGroups: number): tf.Tensor4D {
  return tf.tidy(() => {
    const first = applyConv(p, `${key}.conv1`, silu(applyGroupNorm(p, `${key}.norm1`, x, normGroups)) as tf.Tensor4D);
    const [n, , , cout] = first.shape;
    const time = tf.reshape(applyLinear(p, `${key}.time_proj`, timeActivated), [n, 1, 1, cout]);
    const withTime = tf.add(first, time) as tf.Tensor4D;
    const second = applyConv(p, `${key}.conv2`, silu(applyGroupNorm(p, `${key}.norm2`, withTime, normGroups)) as tf.Tensor4D);
    const shortcut = x.shape[3] === cout ? x : applyConv(p, `${key}.shortcut`, x);
    return tf.add(second, shortcut) as tf.Tensor4D;
  });
}
