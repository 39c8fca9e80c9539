/**
 * The attention UNet against its PyTorch twin (bench/attention_unet_torch.py), built from the same
 * config file, on the same weights (ours, sent in PyTorch's layouts by state_dict name): every
 * block's output, the prediction, the MSE loss to a noise batch, and that loss's gradient with
 * respect to every weight.
 *
 * The measure is max |ours - twin| / max |twin| per tensor: an error relative to the tensor's own
 * scale, so a gradient whose values are all ~1e-6 is held to the same 1e-4 as one of ~1e-1 (an
 * absolute bound would pass anything small), while single entries near zero do not blow it up (a
 * per-element relative bound would fail on float32 rounding of values that cancel). The twin is
 * also run in float64 to show what float32 itself loses: both float32 sides sit at that level.
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DdpmConfig } from "../../src/lib/config/ddpmConfig";
import { formatDdpmConfig } from "../../src/lib/config/ddpmConfigFile";
import { type AttentionUnetConfig, AttentionUnet } from "../../src/lib/model/attentionUnet";
import { permute, toTorchLayout } from "../../src/lib/model/torchLayout";
import { useFastestBackend, useTestBackend } from "../helpers/backends";
import { relativeError } from "../helpers/relativeError";
import { torchUnavailable } from "../helpers/torchReference";
import { TWIN_ENV, TWIN_PYTHON, runTwinDump } from "../helpers/twinDump";

const TWIN = resolve(__dirname, "../../bench/attention_unet_torch.py");
const unavailable = torchUnavailable();
if (unavailable && process.env.CI) throw new Error(`PyTorch reference needed in CI: ${unavailable}`);

/** Seconds to run: 8x8 RGB, down blocks that do and do not downsample, do and do not attend, two layers everywhere. */
const TINY: AttentionUnetConfig = {
  imageSize: 8, imageChannels: 3, downChannels: [8, 16, 16], midChannels: [16, 16], downsample: [true, false], attention: [false, true],
  timeEmbeddingSize: 16, downLayers: 2, midLayers: 2, upLayers: 2, attentionHeads: 2, normGroups: 4, finalChannels: 8,
};
const FILE: DdpmConfig = {
  version: 1,
  description: "the parity test's network",
  dataset: { name: "textures", imageSize: TINY.imageSize, channels: TINY.imageChannels },
  model: (({ imageSize, imageChannels, ...model }) => model)(TINY),
  training: { T: 1000, betaStart: 1e-4, betaEnd: 0.02, batchSize: 3, epochs: 1, learningRate: 1e-4, seed: 0, out: "unused" },
};
/** t = 1, 500 and 1000 of T = 1000. */
const T_FRACTIONS = [0.001, 0.5, 1];
const SHAPE: [number, number, number, number] = [T_FRACTIONS.length, 8, 8, 3];

interface TwinIo {
  out: number[];
  loss: number;
  params: number;
  trace: Record<string, { shape: number[]; data: number[] }>;
  grads: Record<string, number[]>;
}

/** Deterministic values in [-1, 1) (a linear congruential generator), for the parameters PyTorch starts at 0 or 1. */
function uniforms(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

/** An NHWC activation as the twin's NCHW, flat (a [N, C] one as it is). */
const toTorchOrder = (x: tf.Tensor) => (x.rank === 4 ? permute(x.dataSync(), x.shape, [0, 3, 1, 2]) : x.dataSync());

describe.skipIf(unavailable !== null)(`AttentionUnet matches its PyTorch twin (${unavailable ?? "reference present"})`, () => {
  let io: TwinIo;
  let io64: TwinIo;
  let model: AttentionUnet;
  let x: tf.Tensor4D;
  let noise: tf.Tensor4D;
  let tFraction: tf.Tensor1D;

  beforeAll(async () => {
    if (process.env.SPRITE_DIFFUSION_TEST_BACKEND) await useTestBackend();
    else await useFastestBackend();
    model = new AttentionUnet(TINY, 7);
    // GroupNorm scales and shifts and the attention biases start at 1 and 0: move them, so that
    // a mix-up among them (or a transposed one) shows.
    const weights = await model.getWeights();
    Object.keys(weights).forEach((key, i) => {
      const kind = model.parameters.spec(key).kind;
      if (kind === "ones" || kind === "zeros") weights[key].data = uniforms(weights[key].data.length, 100 + i).map((u) => (kind === "ones" ? 1 : 0) + 0.5 * u);
    });
    model.setWeights(weights);
    x = tf.randomNormal(SHAPE, 0, 1, "float32", 11) as tf.Tensor4D;
    noise = tf.randomNormal(SHAPE, 0, 1, "float32", 12) as tf.Tensor4D;
    tFraction = tf.tensor1d(T_FRACTIONS);

    const inputs = { x: Array.from(toTorchOrder(x)), noise: Array.from(toTorchOrder(noise)), t_fraction: T_FRACTIONS };
    ({ float32: io, float64: io64 } = runTwinDump<TwinIo>(TWIN, model.parameters, weights, formatDdpmConfig(FILE), inputs));
  });

  afterAll(() => {
    model?.dispose();
    tf.dispose([x, noise, tFraction]);
  });

  it("has the twin's parameter count, here and for every committed config", () => {
    expect(model.parameterCount).toBe(53_155);
    expect(io.params).toBe(model.parameterCount);
    for (const [file, count] of [["mnist.json", 1_122_929], ["mnist-attention-everywhere.json", 292_449], ["textures.json", 1_123_795], ["mnist-full.json", 9_865_729]] as const) {
      const printed = execFileSync(TWIN_PYTHON, [TWIN, "params", "--config", resolve(__dirname, "../../configs", file)], { env: TWIN_ENV });
      expect(JSON.parse(printed.toString()).params, file).toBe(count);
    }
  });

  it("gives every block's output and the prediction to 1e-4 of their scale", () => {
    const errors: Record<string, number> = {};
    const traced: Record<string, Float32Array | Uint8Array | Int32Array> = {};
    tf.tidy(() => {
      model.predictNoise(x, tFraction, null, { trace: (name, activation) => (traced[name] = toTorchOrder(activation)) });
    });
    expect(Object.keys(traced)).toEqual(Object.keys(io.trace));
    for (const [name, reference] of Object.entries(io.trace)) errors[name] = relativeError(traced[name], reference.data);
    console.info(`[attention-unet parity] ${tf.getBackend()} block outputs: ${Object.entries(errors).map(([k, e]) => `${k} ${e.toExponential(2)}`).join(", ")}`);
    console.info(`[attention-unet parity] float32 against the twin in float64, output: ours ${relativeError(traced.out, io64.out).toExponential(2)}, the twin's ${relativeError(io.out, io64.out).toExponential(2)}`);
    for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(1e-4);
    expect(relativeError(traced.out, io.out)).toBeLessThan(1e-4);
  });

  it("gives the MSE loss and its gradient for every weight to 1e-4 of the gradient's scale", () => {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(model.forwardTraining(x, tFraction, null).predNoise, noise)) as tf.Scalar);
    const loss = value.dataSync()[0];
    expect(Math.abs(loss - io.loss) / io.loss).toBeLessThan(1e-5);
    const errors: Array<[string, number, number]> = [];
    for (const key of model.parameters.keys()) {
      const grad = grads[model.parameters.get(key).name];
      const ours = toTorchLayout(model.parameters.spec(key).kind, grad.shape, grad.dataSync());
      errors.push([key, relativeError(ours, io.grads[key]), relativeError(ours, io64.grads[key])]);
    }
    expect(errors.map(([key]) => key).sort()).toEqual(Object.keys(io.grads).sort());
    const worst = errors.reduce((a, b) => (b[1] > a[1] ? b : a));
    const worstTwin = Math.max(...Object.keys(io.grads).map((key) => relativeError(io.grads[key], io64.grads[key])));
    console.info(
      `[attention-unet parity] ${tf.getBackend()} loss ${loss} (twin ${io.loss}); ${errors.length} gradients, worst ${worst[0]} ${worst[1].toExponential(2)}; ` +
        `against float64: ours at most ${Math.max(...errors.map((e) => e[2])).toExponential(2)}, the twin's float32 at most ${worstTwin.toExponential(2)}`,
    );
    for (const [key, error] of errors) expect(error, key).toBeLessThan(1e-4);
    tf.dispose([value, ...Object.values(grads)]);
  });
});
