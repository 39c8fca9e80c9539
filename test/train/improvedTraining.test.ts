/**
 * Improved-DDPM training (Nichol & Dhariwal 2021): the importance sampler of t (eq. 18), the
 * hybrid loss's frozen mean, the learned-variance model, and runs with every option that train,
 * checkpoint, resume exactly and leak nothing. Tiny model (nFeat 16) and data, as trainer.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { Prng } from "../../src/lib/data/sprites/prng";
import { cosineSchedule, courseSchedule } from "../../src/lib/diffusion/schedule";
import { ContextUnet, resolveUnetConfig } from "../../src/lib/model/contextUnet";
import { MANIFEST_FILE } from "../../src/lib/train/checkpoint";
import { type TrainConfig, resolveTrainConfig } from "../../src/lib/train/config";
import { diffusionLoss } from "../../src/lib/train/diffusionLoss";
import { ImportanceTimestepSampler, LOSS_HISTORY_LENGTH, UNIFORM_SHARE } from "../../src/lib/train/timestepSampler";
import { Trainer, type TrainingData } from "../../src/lib/train/trainer";
import { loadModel, resumeTraining, saveTrainingCheckpoint } from "../../src/lib/train/trainingCheckpoint";
import { useFastestBackend } from "../helpers/backends";
import { patternImage } from "../helpers/oracle";

const DATA_INFO = { fingerprint: "tiny", count: 16, source: "test patterns" };

function tinyData(poisonAt = -1): TrainingData {
  let calls = 0;
  return {
    count: 16,
    batch(indices) {
      calls += 1;
      return tf.tidy(() => {
        const images = Array.from(indices, (i) => patternImage(i % 4, 0.8 - 0.03 * (i % 5)));
        if (calls === poisonAt) images[0][3] = NaN;
        return {
          images: tf.tensor4d(images.flatMap((x) => Array.from(x)), [indices.length, 16, 16, 3]),
          labels: tf.cast(tf.oneHot(tf.tensor1d(Array.from(indices, (i) => i % 4), "int32"), 5), "float32") as tf.Tensor2D,
        };
      });
    },
  };
}

const LEARNED = { loss: "hybrid", variance: "learned", timesteps: "importance" } as const;

type Objective = Pick<TrainConfig, "loss" | "variance" | "timesteps">;

function makeRun(epochs: number, objective: Objective = LEARNED, data = tinyData(), T = 50) {
  const model = new ContextUnet({ nFeat: 16, outChannels: objective.variance === "learned" ? 6 : 3 }, 3);
  const trainer = new Trainer(model, data, { epochs, batchSize: 8, useContext: true, seed: 5, ...objective }, cosineSchedule({ T }));
  return { model, trainer };
}

describe("importance sampling of t (eq. 18)", () => {
  it("is uniform with weight 1 until every t has 10 losses", () => {
    const sampler = new ImportanceTimestepSampler(4);
    for (let k = 0; k < LOSS_HISTORY_LENGTH; k++) sampler.record([1, 2, 3], [1, 2, 3]);
    expect(sampler.warmedUp).toBe(false);
    expect(Array.from(sampler.probabilities())).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(Array.from(sampler.draw(5, new Prng(1)).weights)).toEqual([1, 1, 1, 1, 1]);
  });

  it("then draws t with p_t proportional to sqrt(E[L_t^2]) mixed with 0.001 uniform, weighting by 1 / (T p_t)", () => {
    const sampler = new ImportanceTimestepSampler(3);
    // History per t: t = 1 all 3; t = 2 alternating 1 and 7 (E[L^2] = 25); t = 3 all 0.
    for (let k = 0; k < LOSS_HISTORY_LENGTH + 2; k++) sampler.record([1, 2, 3], [3, k % 2 === 0 ? 1 : 7, 0]);
    expect(sampler.warmedUp).toBe(true);
    const w = [3, 5, 0];
    const expected = w.map((wt) => (1 - UNIFORM_SHARE) * (wt / 8) + UNIFORM_SHARE / 3);
    const p = sampler.probabilities();
    for (let i = 0; i < 3; i++) expect(p[i]).toBeCloseTo(expected[i], 15);
    const { t, weights } = sampler.draw(20000, new Prng(2));
    const counts = [0, 0, 0];
    t.forEach((step, i) => {
      counts[step - 1] += 1;
      expect(weights[i]).toBeCloseTo(1 / (3 * expected[step - 1]), 3);
    });
    // Binomial: 4 standard errors of 20000 draws.
    for (let i = 0; i < 3; i++) expect(Math.abs(counts[i] / 20000 - expected[i])).toBeLessThan(4 * Math.sqrt((expected[i] * (1 - expected[i])) / 20000) + 1e-9);
    // The weighted mean of any f(t) estimates its uniform mean: E_p[f(t) / (T p_t)] = mean_t f(t).
    const f = [10, -4, 30];
    const estimate = Array.from(t).reduce((sum, step, i) => sum + f[step - 1] * weights[i], 0) / t.length;
    expect(Math.abs(estimate - 12)).toBeLessThan(2);
  });

  it("keeps the last 10 losses per t, round-trips its state, and refuses bad input", () => {
    const sampler = new ImportanceTimestepSampler(2);
    for (let k = 0; k < 15; k++) sampler.record([1], [k]);
    expect(sampler.state()[0]).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    const copy = new ImportanceTimestepSampler(2);
    copy.load(sampler.state());
    expect(copy.state()).toEqual(sampler.state());
    expect(() => sampler.record([3], [1])).toThrow(/1\.\.2/);
    expect(() => sampler.record([1], [NaN])).toThrow(/NaN/);
    expect(() => copy.load([[1]])).toThrow(/each of T = 2/);
  });
});

describe("the training config's improved-DDPM options", () => {
  it("fills the course's defaults for old configs and rejects combinations that cannot train", () => {
    expect(resolveTrainConfig({})).toMatchObject({ loss: "simple", variance: "fixed", timesteps: "uniform" });
    expect(() => resolveTrainConfig({ variance: "learned" })).toThrow(/learned variance is trained by the bound/);
    expect(() => resolveTrainConfig({ loss: "hybrid" })).toThrow(/freezes the mean/);
    expect(() => resolveTrainConfig({ loss: "l1" as "simple" })).toThrow(/loss must be one of simple, hybrid, vlb/);
    expect(resolveUnetConfig({})).toMatchObject({ outChannels: 3 });
    expect(resolveUnetConfig({ inChannels: 1 })).toMatchObject({ outChannels: 1 });
    expect(() => resolveUnetConfig({ outChannels: 4 })).toThrow(/outChannels must be 3 .* or 6/);
  });
});

describe("improved-DDPM training", () => {
  beforeAll(async () => {
    await useFastestBackend();
  });

  it("the hybrid loss's bound term trains the variance only: eps's output weights get L_simple's gradient", () => {
    const model = new ContextUnet({ nFeat: 8, outChannels: 6 }, 1);
    const schedule = cosineSchedule({ T: 50 });
    const x0 = tf.tidy(() => tf.tensor4d(Array.from({ length: 4 }, (_, i) => Array.from(patternImage(i, 0.7))).flat(), [4, 16, 16, 3]));
    const draw = { t: Int32Array.from([1, 2, 25, 50]), noise: tf.randomNormal([4, 16, 16, 3], 0, 1, "float32", 3) as tf.Tensor4D };
    const out = model.trainableParameters().get("out.3.weight")!;
    const gradient = (loss: "simple" | "hybrid", weights?: Float32Array) => {
      // "simple" with weights of 1 takes the per-image path: the same mean squared error.
      const { value, grads } = tf.variableGrads(() => {
        const result = diffusionLoss(model, schedule, x0, null, draw, { loss, ...(weights ? { weights } : {}) });
        result.statUpdates.forEach((u) => u.value.dispose());
        tf.dispose(result.perImage ?? []);
        return result.loss;
      }, [out]);
      const g = tf.tidy(() => {
        const [kh, kw, cin] = out.shape;
        return { eps: tf.slice(grads[out.name], [0, 0, 0, 0], [kh, kw, cin, 3]).dataSync(), v: tf.slice(grads[out.name], [0, 0, 0, 3], [kh, kw, cin, 3]).dataSync() };
      });
      tf.dispose([value, ...Object.values(grads)]);
      return g;
    };
    const hybrid = gradient("hybrid");
    const simple = gradient("simple", new Float32Array([1, 1, 1, 1]));
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < hybrid.eps.length; i++) {
      worst = Math.max(worst, Math.abs(hybrid.eps[i] - simple.eps[i]));
      scale = Math.max(scale, Math.abs(simple.eps[i]));
    }
    expect(worst / scale).toBeLessThan(1e-5);
    // ... while the variance channels learn from the bound alone (L_simple gives them nothing).
    expect(Math.max(...Array.from(simple.v).map(Math.abs))).toBe(0);
    expect(Math.max(...Array.from(hybrid.v).map(Math.abs))).toBeGreaterThan(0);
    tf.dispose([x0, draw.noise]);
    model.dispose();
  });

  it("refuses a model whose outputs do not match the configured variance", () => {
    const model = new ContextUnet({ nFeat: 8 }, 1);
    expect(() => new Trainer(model, tinyData(), { loss: "hybrid", variance: "learned" })).toThrow(/outChannels = 6/);
    model.dispose();
  });

  for (const objective of [LEARNED, { loss: "vlb", variance: "fixed", timesteps: "importance" } as const, { loss: "vlb", variance: "learned", timesteps: "uniform" } as const]) {
    it(`trains with loss ${objective.loss}, variance ${objective.variance}, t ${objective.timesteps}, finite and without leaks`, async () => {
      const { model, trainer } = makeRun(2, objective);
      const losses: number[] = [];
      let counts: number[] = [];
      await trainer.run({
        onStep: (r) => {
          losses.push(r.loss);
          counts.push(tf.memory().numTensors);
        },
      });
      expect(losses.every(Number.isFinite)).toBe(true);
      // Flat from the second step on (the first makes Adam's moments and the schedule's cached tensors).
      counts = counts.slice(1);
      expect(Math.max(...counts) - Math.min(...counts)).toBe(0);
      if (objective.timesteps === "importance") expect(trainer.timestepSampler!.state().flat().length).toBe(losses.length * 8);
      trainer.dispose();
      model.dispose();
    });
  }

  it("checkpoints the loss history, resumes to exactly the uninterrupted run, and loads as a learned-variance model on its schedule", async () => {
    const dir = mkdtempSync(join(tmpdir(), "improved-resume-"));
    // T = 3: 8 losses a step fill the 3 x 10 history within the first steps, so the resumed part
    // draws t by importance (checked), from the restored history.
    const run = () => makeRun(5, LEARNED, tinyData(), 3);
    const full = run();
    let warmedAt = -1;
    await full.trainer.run({ onStep: (r) => void (warmedAt < 0 && full.trainer.timestepSampler!.warmedUp && (warmedAt = r.globalStep)) });
    expect(warmedAt).toBeGreaterThanOrEqual(0);
    expect(warmedAt).toBeLessThan(6);
    const wantHistory = full.trainer.timestepSampler!.state();
    const wantWeights = await full.model.getWeights();
    full.trainer.dispose();
    full.model.dispose();

    const first = run();
    let steps = 0;
    await first.trainer.run({ shouldStop: () => steps++ >= 7 });
    expect(first.trainer.timestepSampler!.warmedUp).toBe(true);
    await saveTrainingCheckpoint(dir, first.trainer, DATA_INFO);
    first.trainer.dispose();
    first.model.dispose();

    const second = run();
    resumeTraining(dir, second.trainer, DATA_INFO);
    await second.trainer.run();
    expect(second.trainer.timestepSampler!.state()).toEqual(wantHistory);
    const got = await second.model.getWeights();
    for (const key of Object.keys(wantWeights)) expect(Array.from(got[key].data), key).toEqual(Array.from(wantWeights[key].data));
    await saveTrainingCheckpoint(dir, second.trainer, DATA_INFO);
    second.trainer.dispose();
    second.model.dispose();

    const loaded = loadModel(dir);
    expect(loaded.model.learnsVariance).toBe(true);
    expect(loaded.schedule).toBe(cosineSchedule({ T: 3 }));
    loaded.model.dispose();
  });

  it("resumes a checkpoint written before these options existed (no outChannels, loss, variance, timesteps)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "improved-old-"));
    const model = new ContextUnet({ nFeat: 16 }, 3);
    const trainer = new Trainer(model, tinyData(), { epochs: 1, batchSize: 8, useContext: true, seed: 5 }, courseSchedule);
    await saveTrainingCheckpoint(dir, trainer, DATA_INFO);
    const path = join(dir, MANIFEST_FILE);
    const manifest = JSON.parse(readFileSync(path, "utf8"));
    delete manifest.architecture.config.outChannels;
    for (const key of ["loss", "variance", "timesteps"]) delete manifest.training.config[key];
    writeFileSync(path, JSON.stringify(manifest));
    expect(() => resumeTraining(dir, trainer, DATA_INFO)).not.toThrow();
    trainer.dispose();
    model.dispose();
  });

  it("stops on a NaN with the step named, under the hybrid loss too", async () => {
    const { model, trainer } = makeRun(2, LEARNED, tinyData(2));
    await expect(trainer.run()).rejects.toThrow(/loss is NaN at step 1/);
    trainer.dispose();
    model.dispose();
  });
});
