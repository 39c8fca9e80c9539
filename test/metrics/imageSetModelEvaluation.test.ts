/**
 * evaluateImageSetModel on a tiny untrained attention UNet of 28x28 grey images (a checkpoint whose
 * DDPM config names MNIST): it samples, measures against MNIST's test images with the trained
 * MNIST classifier, reports the floor of the same draw, and frees everything.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDdpmConfig } from "../../src/lib/config/index";
import { fingerprint } from "../../src/lib/data/dataset";
import { imageSetPart } from "../../src/lib/metrics/imageSetClassifier";
import { evaluateImageSetModel } from "../../src/lib/metrics/imageSetModelEvaluation";
import { ddpmTrainer } from "../../src/lib/train/ddpmRun";
import { spriteTrainingData } from "../../src/lib/train/trainer";
import { saveTrainingCheckpoint } from "../../src/lib/train/trainingCheckpoint";
import { useFastestBackend } from "../helpers/backends";

const dir = mkdtempSync(join(tmpdir(), "set-model-evaluation-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The attention UNet samples slowly on the cpu backend (about a second per image and step at 28x28).
beforeAll(async () => {
  await useFastestBackend();
});

const CONFIG = parseDdpmConfig({
  version: 1,
  description: "a test's tiny untrained MNIST model",
  dataset: { name: "mnist", imageSize: 28, channels: 1 },
  model: {
    downChannels: [8, 16], midChannels: [16, 8], downsample: [true], timeEmbeddingSize: 16,
    downLayers: 1, midLayers: 1, upLayers: 1, attentionHeads: 1, normGroups: 8, finalChannels: 8,
  },
  training: { T: 40, betaStart: 0.0001, betaEnd: 0.02, batchSize: 4, epochs: 1, learningRate: 0.001, seed: 5, out: "unused" },
});

describe("evaluateImageSetModel", () => {
  it("samples a 28x28 checkpoint and reports its FD against the set's test images beside the floor, without leaks", async () => {
    const data = imageSetPart("mnist", "test");
    const trainer = ddpmTrainer(CONFIG, spriteTrainingData(data));
    const folder = join(dir, "untrained");
    await saveTrainingCheckpoint(folder, trainer, { fingerprint: fingerprint(data), count: data.count, source: "mnist test" }, true, CONFIG);
    trainer.dispose();
    trainer.model.dispose();
    const before = tf.memory().numTensors;
    const r = await evaluateImageSetModel({ checkpoint: folder, n: 24, seed: 0, sampler: "ddim", steps: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r).toMatchObject({ set: "mnist", n: 24, seed: 0, label: "DDIM-2", weights: "raw", classifier: { dir: "models/classifier-mnist" } });
    expect(r.classShares.length).toBe(10);
    // An untrained model draws noise: far from the digits, while two real draws are close.
    expect(r.fd).toBeGreaterThan(10 * r.floor);
  }, 120_000);

  it("refuses a checkpoint that names no 28x28 set", async () => {
    await expect(evaluateImageSetModel({ checkpoint: "models/context", n: 4, seed: 0, sampler: "ddim", steps: 2 })).rejects.toThrow(/records no DDPM config, so no 28x28 set/);
  });
});
