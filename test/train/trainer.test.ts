/**
 * The trainer on a tiny model and data set: learning, checkpoints, resume, bad input, leaks.
 * A small ContextUnet (nFeat 16) keeps a few hundred steps to seconds on any backend.
 */
import { mkdtempSync, readFileSync, readdirSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { epochOrder } from "../../src/lib/data/batches";
import { deriveSeed } from "../../src/lib/data/sprites/prng";
import { addNoise } from "../../src/lib/diffusion/forward";
import { sampleDdim } from "../../src/lib/diffusion/sampling";
import { courseSchedule } from "../../src/lib/diffusion/schedule";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { type RunningStatUpdate, commitStatUpdates } from "../../src/lib/model/layers";
import { Adam } from "../../src/lib/train/adam";
import { loadCheckpoint } from "../../src/lib/train/checkpoint";
import { learningRateAt, resolveTrainConfig } from "../../src/lib/train/config";
import { Trainer, type TrainingData, trainingDraws } from "../../src/lib/train/trainer";
import { loadModel, resumeTraining, saveTrainingCheckpoint } from "../../src/lib/train/trainingCheckpoint";
import { useFastestBackend } from "../helpers/backends";
import { patternImage } from "../helpers/oracle";

const SMALL = { nFeat: 16 };
const DATA_INFO = { fingerprint: "tiny", count: 24, source: "test patterns" };

/** 24 smooth pattern images in 4 classes (phase = class), one-hot labels of 5. */
function tinyData(poison?: (call: number) => boolean): TrainingData {
  let calls = 0;
  return {
    count: 24,
    batch(indices) {
      calls += 1;
      const bad = poison?.(calls) ?? false;
      return tf.tidy(() => {
        const images = Array.from(indices, (i) => patternImage(i % 4, 0.8 - 0.02 * (i % 6)));
        if (bad) images[0][5] = NaN;
        return {
          images: tf.tensor4d(images.flatMap((x) => Array.from(x)), [indices.length, 16, 16, 3]),
          labels: tf.cast(tf.oneHot(tf.tensor1d(Array.from(indices, (i) => i % 4), "int32"), 5), "float32") as tf.Tensor2D,
        };
      });
    },
  };
}

const RUN = { batchSize: 8, useContext: true, seed: 7 };
const MODEL_SEED = 3;

function makeTrainer(epochs: number, data = tinyData()) {
  const model = new ContextUnet(SMALL, MODEL_SEED);
  const trainer = new Trainer(model, data, { epochs, ...RUN });
  return { model, trainer };
}

async function weightBytes(model: ContextUnet): Promise<string[]> {
  const w = await model.getWeights();
  return Object.keys(w)
    .sort()
    .map((k) => Buffer.from(w[k].data.buffer, w[k].data.byteOffset, w[k].data.byteLength).toString("base64"));
}

describe("Trainer", () => {
  beforeAll(async () => {
    await useFastestBackend();
  });

  it("decays the learning rate linearly per epoch, as the course", () => {
    const config = { epochs: 32, learningRate: 1e-3 } as Parameters<typeof learningRateAt>[0];
    expect(learningRateAt(config, 0)).toBe(1e-3);
    expect(learningRateAt(config, 16)).toBeCloseTo(5e-4, 15);
    expect(learningRateAt(config, 31)).toBeCloseTo(1e-3 / 32, 15);
  });

  it("drives the loss well below its start in a few hundred steps", { timeout: 600_000 }, async () => {
    const { model, trainer } = makeTrainer(100); // 3 steps an epoch: 300 steps
    const losses: number[] = [];
    await trainer.run({ onStep: (r) => void losses.push(r.loss) });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(losses.slice(0, 10));
    const last = mean(losses.slice(-50));
    console.info(`[trainer] loss first 10 steps ${first.toFixed(3)}, last 50 ${last.toFixed(3)}`);
    // An untrained net predicts eps no better than 0 does (loss ~ E[eps^2] = 1 or more); one
    // that has learned the data removes most of it at large t, where x_t is mostly eps. Below
    // 40 % of the start is far beyond what noise in 50 averaged steps could fake.
    expect(first).toBeGreaterThan(0.5);
    expect(last).toBeLessThan(0.4 * first);
    trainer.dispose();
    model.dispose();
  });

  it("takes exactly the step a learner writes out by hand with trainingDraws", async () => {
    const { model, trainer } = makeTrainer(1);
    let steps = 0;
    await trainer.run({ shouldStop: () => steps++ >= 1 });
    expect(trainer.position.globalStep).toBe(1);

    const config = resolveTrainConfig({ epochs: 1, ...RUN });
    const byHand = new ContextUnet(SMALL, MODEL_SEED);
    const adam = new Adam(byHand.trainableParameters());
    const firstBatch = epochOrder(tinyData().count, config.seed, 0).slice(0, config.batchSize);
    const { images: x0, labels } = tinyData().batch(firstBatch);
    const { t, noise, context } = trainingDraws(config, courseSchedule.T, 0, labels, x0.shape);
    let statUpdates: RunningStatUpdate[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const xt = addNoise(courseSchedule, x0, Array.from(t), noise);
      const tFraction = tf.div(tf.tensor1d(t, "float32"), courseSchedule.T) as tf.Tensor1D;
      const predicted = byHand.forwardTraining(xt, tFraction, context);
      statUpdates = predicted.statUpdates;
      return tf.mean(tf.squaredDifference(predicted.predNoise, noise)) as tf.Scalar;
    }, byHand.trainableVariables());
    commitStatUpdates(statUpdates);
    adam.apply(grads, learningRateAt(config, 0));
    tf.dispose([x0, labels, noise, ...(context ? [context] : []), value, ...Object.values(grads)]);

    const [expected, actual] = [await model.getWeights(), await byHand.getWeights()];
    expect(Object.keys(actual)).toEqual(Object.keys(expected));
    let largest = 0;
    for (const key of Object.keys(expected)) {
      expected[key].data.forEach((v, i) => (largest = Math.max(largest, Math.abs(actual[key].data[i] - v))));
    }
    console.info(`[trainer] step by hand vs the Trainer's: largest weight difference ${largest}`);
    expect(largest).toBeLessThanOrEqual(1e-6);
    // The step moved the weights (and the running statistics), so the comparison says something.
    const initial = new ContextUnet(SMALL, MODEL_SEED);
    const start = await initial.getWeights();
    expect(Array.from(actual["out.3.weight"].data)).not.toEqual(Array.from(start["out.3.weight"].data));
    expect(Array.from(actual["init_conv.conv1.1.running_var"].data)).not.toEqual(Array.from(start["init_conv.conv1.1.running_var"].data));
    for (const disposable of [trainer, model, adam, byHand, initial]) disposable.dispose();
  });

  it("saves and loads a checkpoint bit for bit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ckpt-"));
    const { model, trainer } = makeTrainer(2);
    await trainer.run();
    await saveTrainingCheckpoint(dir, trainer, DATA_INFO);
    const { model: loaded, manifest } = loadModel(dir);
    expect(await weightBytes(loaded)).toEqual(await weightBytes(model));
    expect(manifest.training?.epoch).toBe(2);
    expect(manifest.architecture).toMatchObject({ name: "ContextUnet", config: { nFeat: 16 } });
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, "float32", 1) as tf.Tensor4D;
    const [a, b] = [model.predictNoise(x, 0.3, null), loaded.predictNoise(x, 0.3, null)];
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([x, a, b]);
    trainer.dispose();
    model.dispose();
    loaded.dispose();
  });

  it("loads the EMA weights by default when the checkpoint keeps them, the raw ones on request, and says which", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ckpt-ema-"));
    const trainer = new Trainer(new ContextUnet(SMALL), tinyData(), { epochs: 1, batchSize: 8, emaDecay: 0.9 });
    await trainer.run();
    await saveTrainingCheckpoint(dir, trainer, DATA_INFO);
    const { ema } = await trainer.readState();
    const [auto, raw] = [loadModel(dir), loadModel(dir, { weights: "raw" })];
    expect([auto.weights, auto.weightsLabel, raw.weights, raw.weightsLabel]).toEqual(["ema", "EMA weights (decay 0.9)", "raw", "raw weights (the checkpoint also keeps an EMA)"]);
    const key = "out.3.weight";
    expect(Array.from((await auto.model.getWeights())[key].data)).toEqual(Array.from(ema![key].data));
    expect(await weightBytes(raw.model)).toEqual(await weightBytes(trainer.model));
    expect(await weightBytes(auto.model)).not.toEqual(await weightBytes(raw.model));
    const plainDir = mkdtempSync(join(tmpdir(), "ckpt-raw-"));
    const { model, trainer: plain } = makeTrainer(1);
    await plain.run();
    await saveTrainingCheckpoint(plainDir, plain, DATA_INFO);
    const fallback = loadModel(plainDir);
    expect([fallback.weights, fallback.weightsLabel]).toEqual(["raw", "raw weights (the checkpoint keeps no EMA)"]);
    expect(() => loadModel(plainDir, { weights: "ema" })).toThrow(/keeps no EMA weights \(it was trained without --ema\)/);
    for (const disposable of [trainer, trainer.model, auto.model, raw.model, plain, model, fallback.model]) disposable.dispose();
  });

  it("draws its sample grids from the EMA weights, a row of 8 per class, and puts the trained weights back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ckpt-grid-"));
    const trainer = new Trainer(new ContextUnet(SMALL), tinyData(), { epochs: 1, batchSize: 8, emaDecay: 0.9, sampleEvery: 1, useContext: true });
    let grid: number[] = [];
    let trainedAtGrid: string[] = [];
    await trainer.run({ onSamples: async (_epoch, samples) => {
      grid = Array.from(samples.dataSync());
      trainedAtGrid = await weightBytes(trainer.model);
    } });
    await saveTrainingCheckpoint(dir, trainer, DATA_INFO);
    const averaged = loadModel(dir, { weights: "ema" });
    const raw = loadModel(dir, { weights: "raw" });
    expect(trainedAtGrid).toEqual(await weightBytes(raw.model));
    // The trainer's grid, drawn again by hand: its seed's fixed noise, 8 sprites per class, class r in row r.
    const draw = async (model: ContextUnet) => {
      const classes = model.config.nContext;
      const context = trainer.config.useContext ? (tf.oneHot(tf.tensor1d(Array.from({ length: 8 * classes }, (_, i) => Math.floor(i / 8)), "int32"), classes) as tf.Tensor2D) : null;
      const count = context ? 8 * classes : 32;
      const { samples } = await sampleDdim(model, courseSchedule, { count, seed: deriveSeed(trainer.config.seed, 0x5a3b) }, context, { steps: 25, saveFrame: () => false });
      const values = Array.from(samples.dataSync());
      tf.dispose([samples, ...(context ? [context] : [])]);
      return values;
    };
    expect(grid).toEqual(await draw(averaged.model));
    expect(grid).not.toEqual(await draw(raw.model));
    for (const disposable of [trainer, trainer.model, averaged.model, raw.model]) disposable.dispose();
  });

  it("resumes to exactly the state the uninterrupted run reaches, even from mid-epoch", async () => {
    const straight = makeTrainer(3);
    const straightLosses: number[] = [];
    await straight.trainer.run({ onStep: (r) => void straightLosses.push(r.loss) });

    const dir = mkdtempSync(join(tmpdir(), "resume-"));
    const first = makeTrainer(3);
    const losses: number[] = [];
    let steps = 0;
    await first.trainer.run({ onStep: (r) => void losses.push(r.loss), shouldStop: () => steps++ >= 4 });
    expect(first.trainer.position).toEqual({ epoch: 1, stepInEpoch: 1, globalStep: 4 });
    const stoppedEpoch = { ...first.trainer.epochSoFar };
    expect(stoppedEpoch.images).toBe(first.trainer.dataCount / first.trainer.stepsPerEpoch); // the second epoch's first batch
    await saveTrainingCheckpoint(dir, first.trainer, DATA_INFO);
    first.trainer.dispose();
    first.model.dispose();

    const second = makeTrainer(3);
    resumeTraining(dir, second.trainer, DATA_INFO);
    expect(second.trainer.epochSoFar).toEqual(stoppedEpoch);
    await second.trainer.run({ onStep: (r) => void losses.push(r.loss) });
    expect(losses).toEqual(straightLosses);
    expect(await weightBytes(second.model)).toEqual(await weightBytes(straight.model));
    // The epoch stopped midway reports all of it: the mean over every batch, the time of both parts.
    expect(second.trainer.history.map((r) => r.meanLoss)).toEqual(straight.trainer.history.map((r) => r.meanLoss));
    const resumed = second.trainer.history[1];
    expect(resumed.imagesPerSecond * resumed.seconds).toBeCloseTo(second.trainer.dataCount, 6);
    expect(resumed.seconds).toBeGreaterThanOrEqual(stoppedEpoch.seconds);
    for (const t of [straight, second]) {
      t.trainer.dispose();
      t.model.dispose();
    }
  });

  it("refuses a truncated checkpoint or one from another run, and leaves it untouched", async () => {
    const dir = mkdtempSync(join(tmpdir(), "refuse-"));
    const { model, trainer } = makeTrainer(1);
    await trainer.run();
    const manifest = await saveTrainingCheckpoint(dir, trainer, DATA_INFO);
    // A crash mid-save leaves only a temporary file beside the intact checkpoint.
    writeFileSync(join(dir, `.${manifest.tensors.file}.123.tmp`), "partial");
    expect(loadCheckpoint(dir).manifest.tensors.sha256).toBe(manifest.tensors.sha256);

    const other = new Trainer(new ContextUnet({ nFeat: 32 }), tinyData(), { epochs: 2, ...RUN });
    const before = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString("base64"));
    expect(() => resumeTraining(dir, other, { ...DATA_INFO, fingerprint: "other" })).toThrow(
      /architecture\.config\.nFeat: checkpoint 16, expected 32[\s\S]*training\.config\.epochs: checkpoint 1, expected 2[\s\S]*data\.fingerprint/,
    );
    expect(readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString("base64"))).toEqual(before);
    other.dispose();
    other.model.dispose();

    truncateSync(join(dir, manifest.tensors.file), 1000);
    expect(() => loadCheckpoint(dir)).toThrow(/has 1000 bytes, the manifest needs \d+: the file is truncated/);
    trainer.dispose();
    model.dispose();
  });

  it("stops on a NaN in the data with a message naming the step, weights unchanged", async () => {
    const { model, trainer } = makeTrainer(2, tinyData((call) => call === 5));
    let before: string[] = [];
    await expect(
      trainer.run({
        onStep: async (r) => {
          if (r.globalStep === 4) before = await weightBytes(model);
        },
      }),
    ).rejects.toThrow(/the loss is NaN at step 4 \(epoch 1, batch 1\)/);
    expect(await weightBytes(model)).toEqual(before);
    trainer.dispose();
    model.dispose();
  });

  it("leaks no tensors across steps, nor once disposed (with EMA too)", async () => {
    const before = tf.memory().numTensors;
    const withAverage = new Trainer(new ContextUnet(SMALL), tinyData(), { epochs: 1, batchSize: 8, emaDecay: 0.99 });
    await withAverage.run();
    withAverage.dispose();
    withAverage.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const { model, trainer } = makeTrainer(3);
    const counts: number[] = [];
    await trainer.run({ onStep: () => void counts.push(tf.memory().numTensors) });
    expect(new Set(counts.slice(1)).size).toBe(1);
    trainer.dispose();
    model.dispose();
  });
});
