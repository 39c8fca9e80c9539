/**
 * The attention UNet's three kinds of block, each a pair of functions (the parameters it declares,
 * how it applies them) under PyTorch module paths, so `downs.0.resnets.1.conv2.weight` names the
 * same tensor here and in bench/attention_unet_torch.py.
 *
 *   down block  [ResNet -> attention (when it attends)] x downLayers, then a strided conv when it downsamples
 *   mid block   ResNet, then [attention -> ResNet] x midLayers, at constant resolution
 *   up block    ConvTranspose when it upsamples, concat with the skip, [ResNet -> attention (as its down block)] x upLayers
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ParameterSpec, ParameterStore } from "../parameters";
import { applyAttentionBlock, attentionBlockSpecs } from "./attention";
import { applyDownsample, applyUpsample, downsampleSpecs, upsampleSpecs } from "./resample";
import { applyResnet, resnetSpecs } from "./resnet";

/** What the blocks of one forward pass share: the weights, GroupNorm's groups, heads, SiLU(time embedding). */
export interface UnetBlockContext {
  p: ParameterStore;
  normGroups: number;
  attentionHeads: number;
  /** [N, timeEmbeddingSize] SiLU of the time MLP's output; each ResNet projects it to its width. */
  timeActivated: tf.Tensor2D;
}

/** A block's shape: widths in and out, ResNet(+attention) layers, whether they attend, and whether it resamples. */
export interface UnetBlockShape {
  cin: number;
  cout: number;
  layers: number;
  timeSize: number;
  resample: boolean;
  /** Down and up blocks: a self-attention after each ResNet (mid blocks always attend). */
  attends: boolean;
}

function resnet(ctx: UnetBlockContext, key: string, x: tf.Tensor4D): tf.Tensor4D {
  return applyResnet(ctx.p, key, x, ctx.timeActivated, ctx.normGroups);
}

function attention(ctx: UnetBlockContext, key: string, x: tf.Tensor4D): tf.Tensor4D {
  return applyAttentionBlock(ctx.p, key, x, ctx.attentionHeads, ctx.normGroups);
}

/** `layers` ResNet (+ attention when the block attends) pairs, the first ResNet taking cin. */
function pairSpecs(key: string, { cin, cout, layers, timeSize, attends }: UnetBlockShape): ParameterSpec[] {
  return Array.from({ length: layers }, (_, j) => [
    ...resnetSpecs(`${key}.resnets.${j}`, j === 0 ? cin : cout, cout, timeSize),
    ...(attends ? attentionBlockSpecs(`${key}.attentions.${j}`, cout) : []),
  ]).flat();
}

function applyPairs(ctx: UnetBlockContext, key: string, x: tf.Tensor4D, { layers, attends }: UnetBlockShape): tf.Tensor4D {
  let h = x;
  for (let j = 0; j < layers; j++) {
    h = resnet(ctx, `${key}.resnets.${j}`, h);
    if (attends) h = attention(ctx, `${key}.attentions.${j}`, h);
  }
  return h;
}

// ---- Down block: [N, H, W, cin] -> [N, H/2, W/2, cout] (or H, W when it does not downsample) ----

export function downBlockSpecs(key: string, shape: UnetBlockShape): ParameterSpec[] {
  return [...pairSpecs(key, shape), ...(shape.resample ? downsampleSpecs(`${key}.downsample`, shape.cout) : [])];
}

export function applyDownBlock(ctx: UnetBlockContext, key: string, x: tf.Tensor4D, shape: UnetBlockShape): tf.Tensor4D {
  return tf.tidy(() => {
    const h = applyPairs(ctx, key, x, shape);
    return shape.resample ? applyDownsample(ctx.p, `${key}.downsample`, h) : h;
  });
}

// ---- Mid block: [N, H, W, cin] -> [N, H, W, cout] -----------------------------------------------

export function midBlockSpecs(key: string, { cin, cout, layers, timeSize }: UnetBlockShape): ParameterSpec[] {
  const specs = resnetSpecs(`${key}.resnets.0`, cin, cout, timeSize);
  for (let j = 0; j < layers; j++) {
    specs.push(...attentionBlockSpecs(`${key}.attentions.${j}`, cout), ...resnetSpecs(`${key}.resnets.${j + 1}`, cout, cout, timeSize));
  }
  return specs;
}

export function applyMidBlock(ctx: UnetBlockContext, key: string, x: tf.Tensor4D, shape: UnetBlockShape): tf.Tensor4D {
  return tf.tidy(() => {
    let h = resnet(ctx, `${key}.resnets.0`, x);
    for (let j = 0; j < shape.layers; j++) h = resnet(ctx, `${key}.resnets.${j + 1}`, attention(ctx, `${key}.attentions.${j}`, h));
    return h;
  });
}

// ---- Up block: x [N, H, W, cin / 2] and skip [N, 2H, 2W, cin / 2] -> [N, 2H, 2W, cout] ---------
// (without upsampling, x and skip share H and W, and so does the output)

export function upBlockSpecs(key: string, shape: UnetBlockShape): ParameterSpec[] {
  return [...(shape.resample ? upsampleSpecs(`${key}.upsample`, shape.cin / 2) : []), ...pairSpecs(key, shape)];
}

export function applyUpBlock(ctx: UnetBlockContext, key: string, x: tf.Tensor4D, skip: tf.Tensor4D, shape: UnetBlockShape): tf.Tensor4D {
  return tf.tidy(() => {
    const up = shape.resample ? applyUpsample(ctx.p, `${key}.upsample`, x) : x;
    return applyPairs(ctx, key, tf.concat([up, skip], 3), shape);
  });
}
