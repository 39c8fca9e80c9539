/**
 * The convolutional UNet (src/lib/ardm/convNetwork.ts) through the ARDM trainer, its checkpoints and
 * `npm run train-ardm -- --network conv`: a tiny UNet at the sprites' size (D = 768, K = 256) takes
 * Adam steps with a flat tensor count, saves and loads to the same logits, and a checkpoint of one
 * network refuses to resume into the other; the transformer's manifest keeps its exact shape.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadArdm, resumeArdmTraining, saveArdmCheckpoint } from "../../src/lib/ardm/checkpoint";
import { ArdmConvUnet, type ArdmConvUnetConfig } from "../../src/lib/ardm/convNetwork";
import { drawMask, drawOrders } from "../../src/lib/ardm/orders";
import { ArdmTrainer, type ArdmTrainConfig, spriteVariables } from "../../src/lib/ardm/training";
import { ArdmTransformer, type ArdmTransformerConfig } from "../../src/lib/ardm/transformer";
import type { SpriteDataset } from "../../src/lib/data/dataset";
import { generateSpriteSet } from "../../src/lib/data/sprites/generate";
import type { DataInfo } from "../../src/lib/train/trainingCheckpoint";
import { MANIFEST_FILE } from "../../src/lib/train/checkpoint";
import { parseTrainArdmArgs } from "../../src/cli/train-ardm";
import { useFastestBackend } from "../helpers/backends";

/** Widths 8 at 16x16 and 16 at 8x8, one block a level, 4 groups. */
const TINY_CONV: ArdmConvUnetConfig = { height: 16, width: 16, channels: 3, categories: 256, levelWidths: [8, 16], blocksPerLevel: 1, groups: 4 };
const TINY_TRANSFORMER: ArdmTransformerConfig = { height: 16, width: 16, channels: 3, categories: 256, modelWidth: 16, layers: 1, heads: 2, mlpRatio: 2 };
/** 8 sprites, batch 4: two steps an epoch. */
const RECIPE: Partial<ArdmTrainConfig> = { epochs: 2, batchSize: 4, learningRate: 1e-2, warmupSteps: 1, seed: 1, emaDecay: 0.9 };
const DATA_INFO: DataInfo = { fingerprint: "tiny", count: 8, source: "generated" };

describe("ArdmConvUnet trains, saves and resumes as the transformer does", () => {
  let sprites: SpriteDataset;
  let folder: string;

  beforeAll(async () => {
    await useFastestBackend();
    const set = generateSpriteSet({ seed: 3, count: 8, variantsPerBase: 2 });
    sprites = { count: 8, pixels: set.images, classes: set.classes, source: { images: "generated", labels: null } };
    folder = mkdtempSync(join(tmpdir(), "ardm-conv-training-"));
  });

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const convRun = () => {
    const network = new ArdmConvUnet(TINY_CONV, 0);
    return { network, trainer: new ArdmTrainer(network, spriteVariables(sprites), RECIPE) };
  };
  const transformerRun = () => {
    const network = new ArdmTransformer(TINY_TRANSFORMER, 0);
    return { network, trainer: new ArdmTrainer(network, spriteVariables(sprites), RECIPE) };
  };
  const free = (run: { network: { dispose(): void }; trainer: ArdmTrainer }) => {
    run.trainer.dispose();
    run.network.dispose();
  };

  it("takes Adam steps that change the weights, with a flat tensor count", async () => {
    const run = convRun();
    const before = await run.network.getWeights();
    const counts: number[] = [];
    const losses: number[] = [];
    await run.trainer.run({ onStep: (r) => void (counts.push(tf.memory().numTensors), losses.push(r.loss)) });
    expect(run.trainer.position.globalStep).toBe(4);
    expect(new Set(counts.slice(1)).size).toBe(1); // after the first step's kept constants
    expect(losses.every(Number.isFinite)).toBe(true);
    const after = await run.network.getWeights();
    expect(Array.from(after["conv_out.weight"].data)).not.toEqual(Array.from(before["conv_out.weight"].data));
    free(run);
  }, 60_000);

  it("saves and loads to the same logits, the manifest naming ArdmConvUnet and its config", async () => {
    const run = convRun();
    await run.trainer.run({ shouldStop: () => run.trainer.position.globalStep === 1 });
    const dir = join(folder, "conv");
    await saveArdmCheckpoint(dir, run.trainer, DATA_INFO);
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8"));
    expect(manifest.architecture).toEqual({ name: "ArdmConvUnet", config: TINY_CONV, parameterCount: run.network.parameterCount });

    const loaded = loadArdm(dir, { weights: "raw" });
    expect(loaded.network).toBeInstanceOf(ArdmConvUnet);
    const x = spriteVariables(sprites).batch(Int32Array.from([0, 1]));
    const mask = drawMask(drawOrders(2, 768, 5), 768);
    const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(loaded.network.logits(x, mask), run.network.logits(x, mask)))).dataSync()[0]);
    expect(difference).toBe(0);
    tf.dispose([x, mask]);
    loaded.network.dispose();

    // The same run resumes from it; the step count goes on.
    const again = convRun();
    resumeArdmTraining(dir, again.trainer, DATA_INFO);
    expect(again.trainer.position.globalStep).toBe(1);
    free(again);
    free(run);
  }, 60_000);

  it("refuses to resume a checkpoint of the other network, saying which each is", async () => {
    const conv = convRun();
    const transformer = transformerRun();
    const convDir = join(folder, "refuse-conv");
    const transformerDir = join(folder, "refuse-transformer");
    await saveArdmCheckpoint(convDir, conv.trainer, DATA_INFO);
    await saveArdmCheckpoint(transformerDir, transformer.trainer, DATA_INFO);
    expect(() => resumeArdmTraining(convDir, transformer.trainer, DATA_INFO)).toThrow(
      /Cannot resume from .*refuse-conv: it holds an ArdmConvUnet but this run trains an ArdmTransformer; resume it with the network it was trained with \(train-ardm --network conv\)/,
    );
    expect(() => resumeArdmTraining(transformerDir, conv.trainer, DATA_INFO)).toThrow(/it holds an ArdmTransformer but this run trains an ArdmConvUnet.*--network transformer/);
    expect(transformer.trainer.position.globalStep).toBe(0);
    // The transformer's manifest keeps exactly its former shape.
    const manifest = JSON.parse(readFileSync(join(transformerDir, MANIFEST_FILE), "utf8"));
    expect(manifest.architecture).toEqual({ name: "ArdmTransformer", config: TINY_TRANSFORMER, parameterCount: 31_744 });
    expect(Object.keys(manifest.architecture)).toEqual(["name", "config", "parameterCount"]);
    free(conv);
    free(transformer);
  });

  it("train-ardm takes --network transformer|conv (default transformer)", () => {
    const out = join(folder, "cli-options");
    expect(parseTrainArdmArgs(["--out", out])!.network).toBe("transformer");
    expect(parseTrainArdmArgs(["--out", out, "--network", "conv"])!.network).toBe("conv");
    expect(() => parseTrainArdmArgs(["--out", out, "--network", "unet"])).toThrow(/--network must be one of transformer, conv, got "unet"/);
  });

  it("npm run train-ardm -- --network conv trains the sprites' UNet for one step and saves an ArdmConvUnet checkpoint", () => {
    const root = resolve(__dirname, "..", "..");
    const out = join(folder, "cli-conv");
    const args = [join(root, "src", "cli", "train-ardm.ts"), "--network", "conv", "--out", out, "--subset", "2", "--batch", "2", "--epochs", "1", "--ema", "off"];
    const result = spawnSync(join(root, "node_modules", ".bin", "tsx"), args, {
      cwd: root,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" },
    });
    expect(result.status, result.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, MANIFEST_FILE), "utf8"));
    expect(manifest.architecture.name).toBe("ArdmConvUnet");
    expect(manifest.architecture.parameterCount).toBe(1_024_896);
    expect(manifest.training.globalStep).toBe(1);
    expect(readFileSync(join(out, "training-log.md"), "utf8")).toContain("- model: ArdmConvUnet");
  }, 120_000);
});
