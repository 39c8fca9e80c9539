/**
 * Inpainting, RePaint's jumps and SDEdit against the exact denoiser of a two-point data set
 * (test/helpers/oracle.ts): no training involved, so any miss is the editing code's.
 */
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleDdim, sampleDdpm } from "../../src/lib/diffusion/sampling";
import { courseSchedule as schedule } from "../../src/lib/diffusion/schedule";
import { editingChain, forwardJump } from "../../src/lib/editing/editingChain";
import { imageToImage } from "../../src/lib/editing/imageToImage";
import { inpaint, inpaintMoves } from "../../src/lib/editing/inpaint";
import { maskFromArray, maskPreset } from "../../src/lib/editing/masks";
import { repaintMoves } from "../../src/lib/editing/repaintSchedule";
import { useTestBackend } from "../helpers/backends";
import { MixtureOracle, patternImage } from "../helpers/oracle";

const D = 16 * 16 * 3;

/** Moves grouped by kind and start: how often each reverse step and each jump is made. */
function countMoves(moves: ReturnType<typeof repaintMoves>) {
  const counts = { denoise: new Map<number, number>(), renoise: new Map<number, number>() };
  for (const move of moves) counts[move.kind].set(move.from, (counts[move.kind].get(move.from) ?? 0) + 1);
  return counts;
}

describe("RePaint's jump schedule", () => {
  it("makes every reverse step `resamplings` times when the jump length divides the chain", () => {
    const moves = repaintMoves({ steps: 50, jumpLength: 10, resamplings: 4 });
    const { denoise, renoise } = countMoves(moves);
    for (let p = 1; p <= 50; p++) expect(denoise.get(p)).toBe(4);
    // Jump points 0, 10, 20, 30, 40, each left 3 times, 10 positions up.
    expect([...renoise.entries()].sort((a, b) => a[0] - b[0])).toEqual([[0, 3], [10, 3], [20, 3], [30, 3], [40, 3]]);
    expect(moves.filter((m) => m.kind === "renoise").every((m) => m.to === m.from + 10)).toBe(true);
    expect(moves.length).toBe(4 * 50 + 5 * 3);
  });

  it("walks a connected path from the top to 0, the stretch above the last jump point once", () => {
    const moves = repaintMoves({ steps: 55, jumpLength: 10, resamplings: 3 });
    let position = 55;
    for (const move of moves) {
      expect(move.from).toBe(position);
      position = move.to;
    }
    expect(position).toBe(0);
    const { denoise } = countMoves(moves);
    for (let p = 1; p <= 55; p++) expect(denoise.get(p)).toBe(p <= 50 ? 3 : 1);
    // visit numbers each move's repetitions 0, 1, 2 in order.
    expect(moves.filter((m) => m.kind === "denoise" && m.from === 7).map((m) => m.visit)).toEqual([0, 1, 2]);
  });

  it("is plain replacement with one resampling, and checks its numbers", () => {
    expect(repaintMoves({ steps: 20, jumpLength: 5, resamplings: 1 })).toEqual(inpaintMoves("replace", 20));
    expect(inpaintMoves("replace", 20).map((m) => m.from)).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
    expect(() => repaintMoves({ steps: 20, jumpLength: 25, resamplings: 2 })).toThrow(/jumpLength \(25\) cannot exceed the chain's 20 steps/);
    expect(() => repaintMoves({ steps: 20, jumpLength: 5, resamplings: 0 })).toThrow(/resamplings must be a positive integer, got 0/);
    expect(() => inpaintMoves("replace", 20, { resamplings: 3 })).toThrow(/belong to method "repaint"/);
    expect(() => inpaintMoves("fill" as "replace", 20)).toThrow(/Unknown inpainting method "fill": use one of replace, repaint/);
  });
});

describe("editing chains", () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  it("put DDPM on every step and DDIM on its grid, with an off-grid top first", () => {
    expect(editingChain({ sampler: "ddpm" }, schedule).timesteps).toEqual(Array.from({ length: 501 }, (_, t) => t));
    expect(editingChain({ sampler: "ddim", steps: 25 }, schedule).timesteps.slice(-3)).toEqual([460, 480, 500]);
    expect(editingChain({ sampler: "ddim", steps: 25 }, schedule, 347).timesteps.slice(-3)).toEqual([320, 340, 347]);
  });

  it("jump with the forward process: mean factor sqrt(ab_n / ab_t), variance 1 - ab_n from x_t's marginal", () => {
    const [t, tNext] = [120, 300];
    const x0 = tf.fill([64, 16, 16, 3], 0.5) as tf.Tensor4D;
    const xt = tf.tidy(() => tf.add(tf.mul(x0, schedule.sqrtAlphaBar[t]), tf.mul(tf.randomNormal(x0.shape, 0, 1, "float32", 1), schedule.sqrtOneMinusAlphaBar[t]))) as tf.Tensor4D;
    const jumped = forwardJump(xt, t, tNext, schedule, tf.randomNormal(x0.shape, 0, 1, "float32", 2) as tf.Tensor4D);
    const values = jumped.dataSync() as Float32Array;
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
    // Eq. 4 at tNext in float64: mean sqrt(ab_n) x0 within 4 standard errors, variance 1 - ab_n within 3 %.
    expect(Math.abs(mean - 0.5 * Math.sqrt(schedule.alphaBar[tNext]))).toBeLessThan(4 * Math.sqrt(variance / values.length));
    expect(variance / (1 - schedule.alphaBar[tNext])).toBeGreaterThan(0.97);
    expect(variance / (1 - schedule.alphaBar[tNext])).toBeLessThan(1.03);
    // Without noise the jump only scales: by sqrt(ab_n / ab_t) exactly.
    const zeros = tf.zerosLike(xt);
    const scaled = forwardJump(xt, t, tNext, schedule, zeros);
    const factor = Math.sqrt(schedule.alphaBar[tNext] / schedule.alphaBar[t]);
    const [got, from] = [scaled.dataSync(), xt.dataSync()];
    for (let i = 0; i < 50; i++) expect(got[i]).toBeCloseTo(from[i] * factor, 6);
    expect(() => forwardJump(xt, t, t, schedule, xt)).toThrow(/must be above t/);
    tf.dispose([x0, xt, jumped, zeros, scaled]);
  });
});

describe("inpainting and SDEdit with the exact denoiser of two points", () => {
  const a = patternImage(0, 0.6);
  const b = patternImage(2.2, 0.6);
  let oracle: MixtureOracle;

  beforeAll(async () => {
    await useTestBackend();
    oracle = new MixtureOracle([a, b], [0.5, 0.5], schedule);
  });
  afterAll(() => oracle.dispose());

  /** For each sample, which point it is nearest and its largest pixel distance to that point. */
  function nearest(images: tf.Tensor4D) {
    const values = images.dataSync();
    const n = images.shape[0];
    return Array.from({ length: n }, (_, i) => {
      const errors = [a, b].map((p) => p.reduce((worst, v, j) => Math.max(worst, Math.abs(values[i * D + j] - v)), 0));
      return errors[0] <= errors[1] ? { k: 0, worst: errors[0] } : { k: 1, worst: errors[1] };
    });
  }

  const known = (n: number) => tf.tidy(() => tf.tile(tf.tensor4d(a, [1, 16, 16, 3]), [n, 1, 1, 1])) as tf.Tensor4D;

  for (const [method, sampler] of [["replace", { sampler: "ddpm" }], ["repaint", { sampler: "ddim", steps: 50, eta: 1 }]] as const) {
    it(`${method} (${sampler.sampler}) completes a half-known point on its own mode, keeping the known half exactly`, async () => {
      const n = 24;
      const images = known(n);
      const mask = maskPreset("left-half");
      const result = await inpaint(oracle, schedule, images, mask, null, { ...sampler, method, seed: 4, repaint: method === "repaint" ? { jumpLength: 5, resamplings: 3 } : undefined });
      // The known right half (a's) decides the mode: with b, the posterior odds at t = 0 are ~e^-1000.
      expect(nearest(result.images).every((s) => s.k === 0 && s.worst < 0.05)).toBe(true);
      const got = result.images.dataSync();
      const want = images.dataSync();
      for (let i = 0; i < got.length; i++) if (mask.known[Math.floor((i % D) / 3)] === 1) expect(got[i]).toBe(want[i]);
      expect(result.modelEvaluations).toBe(method === "replace" ? 500 : 3 * 50);
      tf.dispose([images, result.images]);
    });
  }

  it("with an all-known mask returns the input exactly", async () => {
    const images = tf.tidy(() => tf.tile(tf.tensor4d(b, [1, 16, 16, 3]), [3, 1, 1, 1])) as tf.Tensor4D;
    const allKnown = maskFromArray(new Array(256).fill(1));
    const result = await inpaint(oracle, schedule, images, allKnown, null, { sampler: "ddim", steps: 10, method: "replace", seed: 5 });
    expect(Array.from(result.images.dataSync())).toEqual(Array.from(images.dataSync()));
    tf.dispose([images, result.images]);
  });

  it("with an all-unknown mask is the plain sampler, bit for bit", async () => {
    const images = known(4);
    const none = maskFromArray(new Array(256).fill(0));
    for (const choice of [{ sampler: "ddpm" as const }, { sampler: "ddim" as const, steps: 20, eta: 0.5 }]) {
      const edited = await inpaint(oracle, schedule, images, none, null, { ...choice, method: "replace", seed: 6 });
      const plain = choice.sampler === "ddpm"
        ? await sampleDdpm(oracle, schedule, { count: 4, seed: 6 }, null, { saveFrame: () => false })
        : await sampleDdim(oracle, schedule, { count: 4, seed: 6 }, null, { steps: 20, eta: 0.5, saveFrame: () => false });
      expect(Array.from(edited.images.dataSync())).toEqual(Array.from(plain.samples.dataSync()));
      tf.dispose([edited.images, plain.samples]);
    }
    images.dispose();
  });

  it("RePaint's frames go back up the chain at its jumps", async () => {
    const images = known(2);
    const result = await inpaint(oracle, schedule, images, maskPreset("centre-square"), null, {
      sampler: "ddim", steps: 20, eta: 1, method: "repaint", seed: 7, repaint: { jumpLength: 5, resamplings: 2 }, saveFrame: () => true,
    });
    expect(result.frames!.shape).toEqual([2 * 20 + 4, 2, 16, 16, 3]);
    // Jump points are positions 0, 5, 10, 15: down five grid steps of 25 from 500 to 375, back up to 500, down again.
    expect(result.frameSteps.slice(0, 7)).toEqual([475, 450, 425, 400, 375, 500, 475]);
    tf.dispose([images, result.images, result.frames!]);
  });

  it("SDEdit keeps the input at t0 = 0, stays on its mode for small t0, and forgets it at t0 = T", async () => {
    const n = 40;
    // An input nearer a than b: 0.7 a + 0.3 b.
    const input = tf.tidy(() => tf.tile(tf.add(tf.mul(tf.tensor4d(a, [1, 16, 16, 3]), 0.7), tf.mul(tf.tensor4d(b, [1, 16, 16, 3]), 0.3)), [n, 1, 1, 1])) as tf.Tensor4D;
    const same = await imageToImage(oracle, schedule, input, null, { sampler: "ddim", steps: 25, t0: 0, seed: 8 });
    expect(Array.from(same.images.dataSync())).toEqual(Array.from(input.dataSync()));
    expect(same.modelEvaluations).toBe(0);
    const near = await imageToImage(oracle, schedule, input, null, { sampler: "ddim", steps: 25, t0: 100, seed: 8 });
    expect(near.modelEvaluations).toBe(5);
    expect(nearest(near.images).every((s) => s.k === 0)).toBe(true);
    const far = await imageToImage(oracle, schedule, input, null, { sampler: "ddpm", t0: 500, seed: 8 });
    // At t0 = T only sqrt(ab_T) = 0.08 of the input survives: the modes come back near 50/50.
    const shareA = nearest(far.images).filter((s) => s.k === 0).length / n;
    expect(Math.abs(shareA - 0.5)).toBeLessThan(4 * Math.sqrt(0.25 / n) + 0.1);
    await expect(imageToImage(oracle, schedule, input, null, { sampler: "ddpm", t0: 501, seed: 8 })).rejects.toThrow(/t0 must be an integer step in 0..500/);
    tf.dispose([input, same.images, near.images, far.images]);
  });

  it("runs a context model with classifier-free guidance: one doubled batch per reverse step", async () => {
    const images = known(3);
    const batches: number[] = [];
    const contexts: number[][] = [];
    const recording = {
      predictNoise: (x: tf.Tensor4D, tFraction: number, context: tf.Tensor2D | null) => {
        batches.push(x.shape[0]);
        if (context) contexts.push(Array.from(context.dataSync()));
        return oracle.predictNoise(x, tFraction);
      },
    };
    const context = tf.oneHot(tf.tensor1d([0, 1, 2], "int32"), 5) as tf.Tensor2D;
    const result = await inpaint(recording, schedule, images, maskPreset("right-half"), context, { sampler: "ddim", steps: 10, method: "repaint", repaint: { jumpLength: 5, resamplings: 2 }, guidance: 2, seed: 3 });
    expect(batches).toEqual(new Array(20).fill(6));
    // The doubled batch's contexts: the asked-for ones, then the zero ("none") context.
    expect(contexts[0]).toEqual([...Array.from(context.dataSync()), ...new Array(15).fill(0)]);
    tf.dispose([images, context, result.images]);
  });

  it("rejects a mask that does not fit and guidance without a context; leaks nothing", async () => {
    const images = known(2);
    const small = maskPreset("left-half", { size: 8 });
    await expect(inpaint(oracle, schedule, images, small, null, { sampler: "ddim", steps: 10, method: "replace", seed: 1 })).rejects.toThrow();
    await expect(inpaint(oracle, schedule, images, maskPreset("border"), null, { sampler: "ddim", steps: 10, method: "replace", seed: 1, guidance: 2 })).rejects.toThrow(/needs a context/);
    const run = async () => (await inpaint(oracle, schedule, images, maskPreset("stripes"), null, { sampler: "ddim", steps: 10, eta: 1, method: "repaint", seed: 1, repaint: { jumpLength: 2, resamplings: 2 } })).images.dispose();
    await run();
    const before = tf.memory().numTensors;
    await run();
    expect(tf.memory().numTensors).toBe(before);
    images.dispose();
  });
});
