/**
 * The ARDM trainer on the shared loop (src/lib/ardm/training.ts) and its checkpoints: a tiny
 * transformer (width 16, one block) on eight generated sprites at the sprites' size (D = 768,
 * K = 256) lowers Eq. 4's loss on held draws, resumes from a mid-epoch checkpoint to exactly the
 * uninterrupted run, keeps the tensor count flat, stops on a NaN loss with a message and the
 * weights untouched, and refuses bad options with messages that say what to do.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadArdm, resumeArdmTraining, saveArdmCheckpoint } from "../../src/lib/ardm/checkpoint";
import { ardmTrainingLoss } from "../../src/lib/ardm/loss";
import { ArdmTrainer, type ArdmTrainConfig, ardmLearningRate, resolveArdmTrainConfig, spriteVariables } from "../../src/lib/ardm/training";
import { ArdmTransformer, type ArdmTransformerConfig } from "../../src/lib/ardm/transformer";
import type { SpriteDataset } from "../../src/lib/data/dataset";
import { generateSpriteSet } from "../../src/lib/data/sprites/generate";
import type { WeightMap } from "../../src/lib/model/parameters";
import type { DataInfo } from "../../src/lib/train/trainingCheckpoint";
import { parseArdmNllArgs } from "../../src/cli/ardm-nll";
import { parseSampleArdmArgs } from "../../src/cli/sample-ardm";
import { parseTrainArdmArgs } from "../../src/cli/train-ardm";
import { useFastestBackend } from "../helpers/backends";

/** 31,744 parameters. */
const TINY: ArdmTransformerConfig = { height: 16, width: 16, channels: 3, categories: 256, modelWidth: 16, layers: 1, heads: 2, mlpRatio: 2 };
/** 8 sprites, batch 4: two steps an epoch. */
const RECIPE: Partial<ArdmTrainConfig> = { epochs: 3, batchSize: 4, learningRate: 1e-2, warmupSteps: 2, seed: 1, emaDecay: 0.9 };
const DATA_INFO: DataInfo = { fingerprint: "tiny", count: 8, source: "generated" };

describe("ArdmTrainer", () => {
  let sprites: SpriteDataset;
  let folder: string;

  beforeAll(async () => {
    await useFastestBackend();
    const set = generateSpriteSet({ seed: 3, count: 8, variantsPerBase: 2 });
    sprites = { count: 8, pixels: set.images, classes: set.classes, source: { images: "generated", labels: null } };
    folder = mkdtempSync(join(tmpdir(), "ardm-training-"));
  });

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const makeTrainer = (recipe: Partial<ArdmTrainConfig> = RECIPE) => {
    const network = new ArdmTransformer(TINY, 0);
    return { network, trainer: new ArdmTrainer(network, spriteVariables(sprites), recipe) };
  };
  const free = (run: ReturnType<typeof makeTrainer>) => {
    run.trainer.dispose();
    run.network.dispose();
  };
  /** Eq. 4's loss (bits/dim) of all 8 sprites, averaged over fixed draws of (t, sigma). */
  const heldBitsPerDim = (network: ArdmTransformer) => {
    const x = spriteVariables(sprites).batch(Int32Array.from({ length: 8 }, (_, i) => i));
    const bits = [101, 102, 103].map((seed) => {
      const loss = ardmTrainingLoss(network, x, seed);
      const value = loss.bitsPerDim.dataSync()[0];
      tf.dispose([loss.perDatum, loss.mean, loss.bitsPerDim]);
      return value;
    });
    x.dispose();
    return bits.reduce((a, b) => a + b) / bits.length;
  };
  const expectSameWeights = (a: WeightMap, b: WeightMap) => {
    expect(Object.keys(a)).toEqual(Object.keys(b));
    for (const key of Object.keys(a)) expect(Buffer.from(a[key].data.buffer).equals(Buffer.from(b[key].data.buffer)), key).toBe(true);
  };

  it("warms the learning rate up, then decays it linearly per step to 0", () => {
    const config = resolveArdmTrainConfig({ learningRate: 1e-3, warmupSteps: 4 });
    expect([0, 1, 3, 4, 50, 99].map((s) => ardmLearningRate(config, s, 100))).toEqual([
      1e-3 * 0.25 * 1, 1e-3 * 0.5 * 0.99, 1e-3 * 1 * 0.97, 1e-3 * 0.96, 1e-3 * 0.5, 1e-3 * (1 - 99 / 100),
    ]);
  });

  it("lowers Eq. 4's loss on held draws, with a flat tensor count across steps", async () => {
    const run = makeTrainer();
    expect(run.network.parameterCount).toBe(31_744);
    const before = heldBitsPerDim(run.network);
    const counts: number[] = [];
    const { completed } = await run.trainer.run({ onStep: () => void counts.push(tf.memory().numTensors) });
    expect(completed).toBe(true);
    expect(run.trainer.position).toEqual({ epoch: 3, stepInEpoch: 0, globalStep: 6 });
    expect(new Set(counts.slice(1)).size).toBe(1); // after the first step's kept constants
    const after = heldBitsPerDim(run.network);
    console.info(`[ardm trainer] ${tf.getBackend()} held loss ${before.toFixed(3)} -> ${after.toFixed(3)} bits/dim in 6 steps`);
    expect(after).toBeLessThan(before - 0.3);
    const start = tf.memory().numTensors;
    free(run);
    expect(tf.memory().numTensors).toBeLessThan(start);
  }, 60_000);

  it("resumes from a mid-epoch checkpoint to exactly the uninterrupted run's losses and weights", async () => {
    const straight = makeTrainer();
    const straightLosses: number[] = [];
    await straight.trainer.run({ onStep: (r) => void straightLosses.push(r.loss) });

    const first = makeTrainer();
    const firstLosses: number[] = [];
    const { completed } = await first.trainer.run({ shouldStop: () => first.trainer.position.globalStep === 3, onStep: (r) => void firstLosses.push(r.loss) });
    expect(completed).toBe(false);
    const dir = join(folder, "resume");
    await saveArdmCheckpoint(dir, first.trainer, DATA_INFO);
    free(first);

    const second = makeTrainer();
    resumeArdmTraining(dir, second.trainer, DATA_INFO);
    expect(second.trainer.position).toEqual({ epoch: 1, stepInEpoch: 1, globalStep: 3 });
    const secondLosses: number[] = [];
    await second.trainer.run({ onStep: (r) => void secondLosses.push(r.loss) });
    expect([...firstLosses, ...secondLosses]).toEqual(straightLosses);
    // The epoch stopped midway reports the mean over all its batches, as the uninterrupted run's does.
    expect(second.trainer.history.map((r) => r.meanLoss)).toEqual(straight.trainer.history.map((r) => r.meanLoss));
    expectSameWeights(await second.network.getWeights(), await straight.network.getWeights());
    expectSameWeights((await second.trainer.averagedWeights())!, (await straight.trainer.averagedWeights())!);

    // Saved at the end, the checkpoint loads the EMA weights by default and the trained ones on request.
    await saveArdmCheckpoint(dir, second.trainer, DATA_INFO);
    const ema = loadArdm(dir);
    const raw = loadArdm(dir, { weights: "raw" });
    expect([ema.weights, raw.weights]).toEqual(["ema", "raw"]);
    expect(ema.weightsLabel).toBe("EMA weights (decay 0.9)");
    expectSameWeights(await ema.network.getWeights(), (await straight.trainer.averagedWeights())!);
    expectSameWeights(await raw.network.getWeights(), await straight.network.getWeights());
    [ema.network, raw.network].forEach((n) => n.dispose());
    free(straight);
    free(second);
  }, 60_000);

  it("refuses to resume another run's checkpoint, naming each difference", async () => {
    const run = makeTrainer();
    const dir = join(folder, "other");
    await saveArdmCheckpoint(dir, run.trainer, DATA_INFO);
    const other = makeTrainer({ ...RECIPE, learningRate: 1e-3 });
    expect(() => resumeArdmTraining(dir, other.trainer, { ...DATA_INFO, fingerprint: "else" })).toThrow(
      /Cannot resume[\s\S]*training\.config\.learningRate: checkpoint 0\.01, expected 0\.001[\s\S]*data\.fingerprint: checkpoint "tiny", expected "else"/,
    );
    expect(other.trainer.position.globalStep).toBe(0);
    await saveArdmCheckpoint(dir, run.trainer, DATA_INFO, true);
    expect(() => resumeArdmTraining(dir, run.trainer, DATA_INFO)).toThrow(/weights only/);
    free(run);
    free(other);
  });

  it("stops on a NaN loss with a message naming the step, the weights untouched", async () => {
    const run = makeTrainer();
    const weights = await run.network.getWeights();
    const broken = { ...weights, "head.bias": { shape: weights["head.bias"].shape, data: new Float32Array(weights["head.bias"].data.length).fill(NaN) } };
    run.network.setWeights(broken);
    const start = tf.memory().numTensors;
    await expect(run.trainer.run()).rejects.toThrow(/Training stopped: the loss is NaN at step 0 \(epoch 0, batch 0\)\. The weights were not updated/);
    expect(tf.memory().numTensors).toBe(start);
    expectSameWeights(await run.network.getWeights(), broken);
    expect(run.trainer.position.globalStep).toBe(0);
    free(run);
  });

  it("npm run sample-ardm draws a grid and a GIF from a checkpoint", async () => {
    const run = makeTrainer();
    const dir = join(folder, "sample");
    await saveArdmCheckpoint(dir, run.trainer, DATA_INFO, true);
    free(run);
    const root = resolve(__dirname, "..", "..");
    const out = join(folder, "grid.png");
    const gif = join(folder, "decoding.gif");
    const result = spawnSync(join(root, "node_modules", ".bin", "tsx"), [join(root, "src", "cli", "sample-ardm.ts"), "--checkpoint", dir, "--k", "256", "--n", "2", "--out", out, "--gif", gif], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain("k = 256, 3 network calls");
    expect(existsSync(out) && existsSync(gif)).toBe(true);
  }, 60_000);

  it("refuses bad settings and options with messages that say what to do", () => {
    expect(() => resolveArdmTrainConfig({ batchSize: 0 })).toThrow(/batchSize must be a whole number >= 1, got 0/);
    expect(() => resolveArdmTrainConfig({ emaDecay: 1 })).toThrow(/emaDecay must be in \(0, 1\) or null/);
    expect(() => resolveArdmTrainConfig({ lr: 1 } as unknown as ArdmTrainConfig)).toThrow(/unknown key "lr"; the keys are epochs, batchSize/);
    const small = new ArdmTransformer({ ...TINY, height: 4, width: 4 }, 0);
    expect(() => new ArdmTrainer(small, spriteVariables(sprites))).toThrow(/D = 768 variables per datum but the network models D = 48/);
    small.dispose();
    const out = join(folder, "cli");
    expect(() => parseTrainArdmArgs(["--out", out, "--batch", "0"])).toThrow(/--batch must be a whole number >= 1, got "0"/);
    expect(() => parseTrainArdmArgs(["--out", out, "--ema", "1.5"])).toThrow(/emaDecay must be in \(0, 1\)/);
    expect(() => parseTrainArdmArgs(["--out", out, "--lr", "0"])).toThrow(/learningRate must be a number > 0/);
    expect(parseTrainArdmArgs(["--out", out, "--ema", "off"])!.config.emaDecay).toBeNull();
    expect(() => parseSampleArdmArgs(["--checkpoint", out, "--out", join(out, "grid.jpg")])).toThrow(/--out .*grid\.jpg: the file name should end in \.png/);
    expect(() => parseSampleArdmArgs(["--checkpoint", out, "--out", join(out, "grid.png"), "--k", "0"])).toThrow(/--k must be a whole number >= 1/);
    expect(() => parseArdmNllArgs(["--checkpoint", out, "--method", "estimate", "--orders", "2"])).toThrow(/--orders applies to --method orders/);
    expect(() => parseArdmNllArgs(["--checkpoint", out, "--method", "exact"])).toThrow(/--method must be one of orders, estimate/);
  });
});
