/**
 * The improved-DDPM pieces against their PyTorch twin (bench/improved_ddpm_torch.py, written from
 * openai/improved-diffusion) on the same weights and inputs: ContextUnet's 6-channel output (eps
 * and the raw r of the learned variance, eq. 15), the hybrid loss (Nichol & Dhariwal 2021, Sec. 3.1)
 * with its per-image MSE and bound terms (KL for t >= 2, the discretized decoder at t = 1; cosine
 * schedule, eq. 17), every parameter's gradient, and one learned-variance DDPM step on a respaced
 * chain (Sec. 4). Our weights go to PyTorch (its layouts, by state_dict name).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boundTerms } from "../../src/lib/diffusion/boundTerms";
import { addNoise } from "../../src/lib/diffusion/forward";
import { sampleDdpm, stepNoise } from "../../src/lib/diffusion/sampling";
import { cosineSchedule } from "../../src/lib/diffusion/schedule";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { type RunningStatUpdate, commitStatUpdates, discardStatUpdates } from "../../src/lib/model/layers";
import { permute, toTorchLayout } from "../../src/lib/model/torchLayout";
import { diffusionLoss } from "../../src/lib/train/diffusionLoss";
import { useFastestBackend, useTestBackend } from "../helpers/backends";
import { normRelativeError, relativeError } from "../helpers/relativeError";
import { torchUnavailable } from "../helpers/torchReference";

const PYTHON = "/usr/bin/python3";
const TWIN = resolve(__dirname, "../../bench/improved_ddpm_torch.py");
const unavailable = torchUnavailable();
if (unavailable && process.env.CI) throw new Error(`PyTorch reference needed in CI: ${unavailable}`);

const schedule = cosineSchedule({ T: 500 });
/** t = 1 (the decoder L_0) twice, small, middle and large t up to T (beta clipped to 0.999). */
const STEPS = Int32Array.from([1, 1, 2, 20, 150, 300, 450, 500]);
const N = STEPS.length;
const SHAPE: [number, number, number, number] = [N, 16, 16, 3];
const SAMPLE_STEPS = 50;
const SAMPLE_SEED = 17;

interface TwinIo {
  out_eval: number[];
  out_train: number[];
  mse: number[];
  vb: number[];
  loss: number;
  x_prev: number[];
  sample_t: number;
  sample_t_prev: number;
  decoder_bits_tanh_cdf: number[];
  /** Every parameter's gradient of the hybrid loss, PyTorch layouts, flat. */
  grads: Record<string, number[]>;
  /** The same with the t = 1 images weighted 0. */
  grads_without_decoder: Record<string, number[]>;
  params: number;
}


/** The largest |a_i - b_i| / |b_i|: every image's own term, however small beside the others. */
function worstElementRelativeError(ours: ArrayLike<number>, reference: ArrayLike<number>): number {
  return Math.max(...Array.from(reference, (b, i) => Math.abs(ours[i] - b) / Math.abs(b)));
}

const toNchw = (data: ArrayLike<number>, channels: number) => permute(data, [N, 16, 16, channels], [0, 3, 1, 2]);

/** Channels [from, from + count) of an NCHW batch of `channels`, flat. */
function channelSlice(nchw: ArrayLike<number>, channels: number, from: number, count: number): Float32Array {
  const plane = 16 * 16;
  const source = Float32Array.from(nchw);
  const out = new Float32Array(N * count * plane);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < count; c++) out.set(source.subarray((n * channels + from + c) * plane, (n * channels + from + c + 1) * plane), (n * count + c) * plane);
  }
  return out;
}

describe.skipIf(unavailable !== null)(`improved DDPM matches its PyTorch twin (${unavailable ?? "reference present"})`, () => {
  let io: TwinIo;
  let model: ContextUnet;
  let x0: tf.Tensor4D;
  let noise: tf.Tensor4D;
  let xt: tf.Tensor4D;
  let xT: tf.Tensor4D;
  let context: tf.Tensor2D;

  beforeAll(async () => {
    // Native TensorFlow when present, as test/model/parity.test.ts; SPRITE_DIFFUSION_TEST_BACKEND=cpu picks another.
    if (process.env.SPRITE_DIFFUSION_TEST_BACKEND) await useTestBackend();
    else await useFastestBackend();
    model = new ContextUnet({ outChannels: 6 }, 4);
    // Sprites on the 256-level pixel grid of [-1, 1] (the decoder's bins), about 1 pixel in 128 at -1 or 1.
    x0 = tf.tidy(() => tf.sub(tf.div(tf.randomUniform(SHAPE, 0, 256, "int32", 1), 127.5), 1) as tf.Tensor4D);
    noise = tf.randomNormal(SHAPE, 0, 1, "float32", 2) as tf.Tensor4D;
    xT = tf.randomNormal(SHAPE, 0, 1, "float32", 3) as tf.Tensor4D;
    // One-hot classes 0..4 in turn; the last image has no context.
    context = tf.tensor2d(Float32Array.from({ length: N * 5 }, (_, i) => (Math.floor(i / 5) < N - 1 && i % 5 === Math.floor(i / 5) % 5 ? 1 : 0)), [N, 5]);
    xt = addNoise(schedule, x0, Array.from(STEPS), noise);
    // One training-mode forward moves BatchNorm's running statistics off their initial 0 and 1.
    const warm = model.forwardTraining(xt, tf.div(tf.tensor1d(STEPS, "float32"), schedule.T) as tf.Tensor1D, context);
    commitStatUpdates(warm.statUpdates);
    tf.dispose([warm.predNoise, warm.v!]);

    const dir = mkdtempSync(join(tmpdir(), "improved-ddpm-parity-"));
    try {
      const weights = await model.getWeights();
      const torchWeights = Object.fromEntries(
        Object.entries(weights).map(([key, w]) => [key, { data: Array.from(toTorchLayout(model.parameters.spec(key).kind, w.shape, w.data)) }]),
      );
      writeFileSync(join(dir, "weights.json"), JSON.stringify(torchWeights));
      const z = stepNoise(SHAPE, SAMPLE_SEED, schedule.T);
      const nchw = (x: tf.Tensor4D) => Array.from(toNchw(x.dataSync(), 3));
      const inputs = { T: schedule.T, t: Array.from(STEPS), x0: nchw(x0), noise: nchw(noise), xT: nchw(xT), z: nchw(z), c: Array.from(context.dataSync()), sample_steps: SAMPLE_STEPS };
      z.dispose();
      writeFileSync(join(dir, "inputs.json"), JSON.stringify(inputs));
      const args = [TWIN, "dump", "--weights", join(dir, "weights.json"), "--inputs", join(dir, "inputs.json"), "--out", join(dir, "io.json"), "--threads", "1"];
      execFileSync(PYTHON, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, OMP_NUM_THREADS: "1" } });
      io = JSON.parse(readFileSync(join(dir, "io.json"), "utf8"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  afterAll(() => {
    model?.dispose();
    tf.dispose([x0, noise, xt, xT, context]);
  });

  it("has the twin's parameter count (out.3 gives 6 channels)", () => {
    expect(model.parameterCount).toBe(1_482_758);
    expect(io.params).toBe(model.parameterCount);
  });

  it("gives the same 6-channel output in inference mode, and v = (r + 1) / 2", () => {
    const tFraction = tf.div(tf.tensor1d(STEPS, "float32"), schedule.T) as tf.Tensor1D;
    const raw = tf.tidy(() => {
      const traced: tf.Tensor[] = [];
      tf.dispose(model.predictNoise(xt, tFraction, context, { trace: (name, activation) => name === "out" && traced.push(activation) }));
      return traced[0].clone();
    });
    const { noise: eps, v } = model.predictNoiseAndVariance(xt, tFraction, context);
    const errors = {
      output: relativeError(toNchw(raw.dataSync(), 6), io.out_eval),
      v: relativeError(toNchw(v.dataSync(), 3), channelSlice(io.out_eval, 6, 3, 3).map((r) => (r + 1) / 2)),
      eps: relativeError(toNchw(eps.dataSync(), 3), channelSlice(io.out_eval, 6, 0, 3)),
    };
    console.info(`[improved-ddpm parity] ${tf.getBackend()} inference output ${errors.output.toExponential(2)}, eps ${errors.eps.toExponential(2)}, v ${errors.v.toExponential(2)}`);
    for (const [what, error] of Object.entries(errors)) expect(error, what).toBeLessThan(1e-4);
    tf.dispose([raw, eps, v, tFraction]);
  });

  it("gives the same training-mode output, per-image MSE and bound terms (decoder at t = 1, KL above)", () => {
    const tFraction = tf.div(tf.tensor1d(STEPS, "float32"), schedule.T) as tf.Tensor1D;
    const { predNoise, v, statUpdates } = model.forwardTraining(xt, tFraction, context);
    discardStatUpdates(statUpdates);
    const mse = tf.mean(tf.squaredDifference(predNoise, noise), [1, 2, 3]);
    const vb = boundTerms(schedule, x0, xt, STEPS, predNoise, { kind: "learned", v: v! });
    const errors = {
      eps: relativeError(toNchw(predNoise.dataSync(), 3), channelSlice(io.out_train, 6, 0, 3)),
      v: relativeError(toNchw(v!.dataSync(), 3), channelSlice(io.out_train, 6, 3, 3).map((r) => (r + 1) / 2)),
      mse: worstElementRelativeError(mse.dataSync(), io.mse),
      boundTerms: worstElementRelativeError(vb.dataSync(), io.vb),
    };
    const terms = Array.from(vb.dataSync(), (b, i) => `t=${STEPS[i]}: ${b.toPrecision(6)} (twin ${io.vb[i].toPrecision(6)})`).join(", ");
    console.info(`[improved-ddpm parity] ${tf.getBackend()} training output eps ${errors.eps.toExponential(2)}, v ${errors.v.toExponential(2)}; per image: MSE ${errors.mse.toExponential(2)}, bound terms ${errors.boundTerms.toExponential(2)}`);
    console.info(`[improved-ddpm parity] bound terms in bits/dim: ${terms}`);
    console.info(`[improved-ddpm parity] L_0 with their tanh approximation of Phi instead: ${io.decoder_bits_tanh_cdf.slice(0, 2).map((b) => b.toPrecision(6)).join(", ")} bits/dim`);
    for (const [what, error] of Object.entries(errors)) expect(error, what).toBeLessThan(1e-4);
    tf.dispose([tFraction, predNoise, v!, mse, vb]);
  });

  /**
   * Gradients of the hybrid loss, per-image weighted (`weights`, as diffusionLoss takes them), in
   * PyTorch's layouts beside the twin's, with the loss value and the per-image losses.
   */
  function gradients(weights?: Float32Array) {
    let statUpdates: RunningStatUpdate[] = [];
    let perImage: tf.Tensor1D | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const out = diffusionLoss(model, schedule, x0, context, { t: STEPS, noise }, { loss: "hybrid", weights });
      statUpdates = out.statUpdates;
      perImage = out.perImage;
      return out.loss;
    });
    discardStatUpdates(statUpdates);
    const ours = Object.fromEntries(
      [...model.trainableParameters().keys()].map((key) => {
        const grad = grads[model.parameters.get(key).name];
        return [key, toTorchLayout(model.parameters.spec(key).kind, grad.shape, grad.dataSync())];
      }),
    );
    const result = { loss: value.dataSync()[0], perImage: perImage!.dataSync(), ours };
    tf.dispose([value, perImage!, ...Object.values(grads)]);
    return result;
  }

  /**
   * Norm-relative error of every parameter's gradient (as test/model/parity.test.ts), worst first.
   * The bias of a conv that feeds a BatchNorm has gradient 0 in exact arithmetic (BatchNorm
   * subtracts the batch mean), so both sides hold float32 noise there (~1e-8): it is measured by
   * its size beside its conv's weight gradient instead.
   */
  function gradientErrors(ours: Record<string, Float32Array>, reference: Record<string, number[]>) {
    expect(Object.keys(reference).sort()).toEqual(Object.keys(ours).sort());
    const norm = (values: ArrayLike<number>) => Math.sqrt(Array.from(values).reduce((sum, v) => sum + v * v, 0));
    return Object.keys(reference)
      .map((key) => {
        if (!/conv[12]\.0\.bias$/.test(key)) return { key, error: normRelativeError(ours[key], reference[key]) };
        const weightKey = key.replace(/bias$/, "weight");
        return { key, error: Math.max(norm(ours[key]) / norm(ours[weightKey]), norm(reference[key]) / norm(reference[weightKey])) };
      })
      .sort((a, b) => b.error - a.error);
  }

  const describeWorst = (errors: Array<{ key: string; error: number }>) =>
    `${errors.length} parameter gradients, worst ${errors.slice(0, 3).map((e) => `${e.key} ${e.error.toExponential(2)}`).join(", ")}`;

  it("gives the same hybrid loss and the same gradient of every parameter (t >= 2 images: L_simple + KL terms)", () => {
    const withoutDecoder = Float32Array.from(STEPS, (t) => (t === 1 ? 0 : 1));
    const { ours } = gradients(withoutDecoder);
    const errors = gradientErrors(ours, io.grads_without_decoder);
    console.info(`[improved-ddpm parity] ${tf.getBackend()} hybrid loss, the t = 1 images weighted 0: ${describeWorst(errors)}`);
    for (const { key, error } of errors) expect(error, key).toBeLessThan(1e-4);
  });

  it("gives the same hybrid loss and gradients with the decoder L_0 (t = 1) included", () => {
    const { loss, perImage, ours } = gradients();
    const hybridPerImage = io.mse.map((mse, i) => mse + (io.vb[i] * schedule.T) / 1000);
    expect(worstElementRelativeError(perImage, hybridPerImage)).toBeLessThan(1e-4);
    const lossError = Math.abs(loss - io.loss) / Math.abs(io.loss);
    expect(lossError).toBeLessThan(1e-4);
    const errors = gradientErrors(ours, io.grads);
    console.info(`[improved-ddpm parity] ${tf.getBackend()} hybrid loss ${loss.toPrecision(7)} (twin ${io.loss.toPrecision(7)}, relative ${lossError.toExponential(2)}); ${describeWorst(errors)}`);
    // L_0's gradient divides by a difference of two normal CDFs, Phi(a) - Phi(b), which in the
    // tails is a small difference of two numbers near 0 or 1. Native TensorFlow's Erf kernel is
    // off by up to 2.8e-7 there (measured on [-5, 5]; PyTorch's and the cpu backend's: 4e-8 and
    // 1.7e-7), and that moves these gradients by a few 1e-3 (measured: 3.7e-3 from the twin, 2.7e-3
    // from the twin in float64; init_conv and down1). With a correctly rounded erf in its place,
    // every gradient agrees with float64 to 2e-5, and on the cpu backend with the twin to 1.2e-5:
    // the formulas agree; native erf's rounding does not.
    const bound = tf.getBackend() === "tensorflow" ? 1e-2 : 1e-4;
    for (const { key, error } of errors) expect(error, key).toBeLessThan(bound);
  });

  it("takes the same learned-variance step on the respaced chain (DDPM-50 of 500, its first step)", async () => {
    let taken = 0;
    const { samples } = await sampleDdpm(model, schedule, xT, context, {
      steps: SAMPLE_STEPS,
      seed: SAMPLE_SEED,
      clipDenoised: true, // the cosine schedule's default, as the twin's p_sample (their clip_denoised)
      saveFrame: () => false,
      onStep: () => {
        taken += 1;
      },
      shouldStop: () => taken >= 1,
    });
    expect([io.sample_t, io.sample_t_prev]).toEqual([schedule.T, schedule.T - schedule.T / SAMPLE_STEPS]);
    const error = relativeError(toNchw(samples.dataSync(), 3), io.x_prev);
    console.info(`[improved-ddpm parity] ${tf.getBackend()} learned-variance step t = ${io.sample_t} -> ${io.sample_t_prev}: ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-4);
    samples.dispose();
  });
});
