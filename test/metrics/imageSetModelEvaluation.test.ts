/**
 * evaluateImageSetModel on a tiny untrained attention UNet of 28x28 grey images (a checkpoint whose
 * DDPM config names MNIST): it samples, measures against MNIST's test images with the trained
 * MNIST classifier, reports the floor of the same draw, and frees everything.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDdpmConfig } from "../../src/lib/config/index";
import { fingerprint } from "../../src/lib/data/dataset";
import { projectPath } from "../../src/lib/data/projectRoot";
import { findImageSetEvaluation, readEvaluations, recordEvaluation, recordImageSetEvaluation } from "../../src/lib/metrics/evaluationFile";
import { imageSetPart } from "../../src/lib/metrics/imageSetClassifier";
import { type ImageSetModelEvaluation, evaluateImageSetModel } from "../../src/lib/metrics/imageSetModelEvaluation";
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

let evaluated: ImageSetModelEvaluation | null = null;

describe("evaluateImageSetModel", () => {
  it("samples a 28x28 checkpoint and reports its FD against the set's test images beside the floor, without leaks", async () => {
    const data = imageSetPart("mnist", "test");
    const trainer = ddpmTrainer(CONFIG, spriteTrainingData(data));
    const folder = join(dir, "untrained");
    await saveTrainingCheckpoint(folder, trainer, { fingerprint: fingerprint(data), count: data.count, source: "mnist test" }, true, CONFIG);
    trainer.dispose();
    trainer.model.dispose();
    const before = tf.memory().numTensors;
    const r = await evaluateImageSetModel({ checkpoint: folder, n: 24, seed: 0, sampler: "ddim", steps: 2, engine: "tfjs" });
    expect(tf.memory().numTensors).toBe(before);
    expect(r).toMatchObject({ set: "mnist", n: 24, seed: 0, label: "DDIM-2", sampler: "ddim", steps: 2, eta: 0, clipDenoised: false, weights: "raw", classifier: { dir: "models/classifier-mnist" } });
    expect(r.classNames.length).toBe(10);
    expect(r.classShares.length).toBe(10);
    expect(r.classShares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    // An untrained model draws noise: far from the digits, while two real draws are close.
    expect(r.fd).toBeGreaterThan(10 * r.floor);
    // The classifier is sure of real digits (99 % test accuracy); a confidence is a probability >= 1/10.
    expect(r.meanConfidence.real).toBeGreaterThan(0.9);
    expect(r.meanConfidence.generated).toBeGreaterThanOrEqual(0.1);
    expect(r.meanConfidence.generated).toBeLessThanOrEqual(1);
    evaluated = r;
  }, 120_000);

  it("records rows in the evaluation file's imageSets, one per run, and the sprite rows' recording keeps them", () => {
    if (!evaluated) throw new Error("needs the evaluation of the previous test");
    const path = join(dir, "evaluation.json");
    copyFileSync(projectPath("models/evaluation.json"), path);
    const shipped = readEvaluations(path);
    recordImageSetEvaluation(path, evaluated);
    recordImageSetEvaluation(path, { ...evaluated, sampler: "ddpm", steps: 40, fd: 1 });
    recordImageSetEvaluation(path, { ...evaluated, fd: 2 }); // replaces the first
    recordImageSetEvaluation(path, { ...evaluated, weights: "ema", fd: 3 });
    recordImageSetEvaluation(path, { ...evaluated, engine: "onnx", fd: 4 }); // beside the TensorFlow.js row
    // Recording a sprite row rewrites the file: the 28x28 rows stay.
    recordEvaluation(path, shipped.results[0], shipped.classifier);
    const file = readEvaluations(path);
    expect(file.results).toEqual(shipped.results);
    // The shipped file's own 28x28 rows stay beside this checkpoint's.
    const { checkpoint } = evaluated;
    expect(file.imageSets!.filter((r) => r.checkpoint !== checkpoint)).toEqual(shipped.imageSets ?? []);
    const mine = file.imageSets!.filter((r) => r.checkpoint === checkpoint);
    expect(mine.map((r) => `${r.weights}-${r.sampler}-${r.steps}-${r.fd}`)).toEqual(["ema-ddim-2-3", "raw-ddim-2-2", "raw-ddim-2-4", "raw-ddpm-40-1"]);
    const key = { checkpoint: evaluated.checkpoint, weights: "raw" as const, sampler: "ddim" as const, steps: 2, eta: 0, clipDenoised: false };
    expect(findImageSetEvaluation(file, key)?.fd).toBe(2);
    expect(findImageSetEvaluation(file, { ...key, engine: "onnx" })?.fd).toBe(4);
    expect(findImageSetEvaluation(file, { ...key, steps: 3 })).toBeUndefined();
  });

  it("refuses a checkpoint that names no 28x28 set", async () => {
    await expect(evaluateImageSetModel({ checkpoint: "models/context", n: 4, seed: 0, sampler: "ddim", steps: 2 })).rejects.toThrow(/records no DDPM config, so no 28x28 set/);
  });
});
