/**
 * A DDPM config run on the library's one Trainer: a tiny attention UNet (12x12 grey images, widths
 * [8, 16], one layer a block, T = 40) trains through the real Trainer, checkpoints with its
 * config, resumes to the uninterrupted run's weights, loads back by the manifest's architecture
 * name and samples with DDIM; tensors stay flat across steps. Seconds on any backend.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/lib/config/configError";
import { type DdpmConfig, parseDdpmConfig } from "../../src/lib/config/index";
import { fingerprint, imageDatasetFromArrays } from "../../src/lib/data/dataset";
import { writeNpy } from "../../src/lib/data/npy";
import { sampleDdim } from "../../src/lib/diffusion/sampling";
import { AttentionUnet } from "../../src/lib/model/attentionUnet/attentionUnet";
import { MANIFEST_FILE } from "../../src/lib/train/checkpoint";
import { ddpmTrainer, loadDdpmDataset } from "../../src/lib/train/ddpmRun";
import { Trainer, spriteTrainingData } from "../../src/lib/train/trainer";
import { loadModel, loadNoiseModel, resumeTraining, saveTrainingCheckpoint } from "../../src/lib/train/trainingCheckpoint";
import { useFastestBackend } from "../helpers/backends";

const COUNT = 16;
const SIZE = 12;

/** 16 grey 12x12 images (a bright square whose place depends on the index) with 10 one-hot classes, as the loader reads them. */
function tinyArrays() {
  const pixels = new Uint8Array(COUNT * SIZE * SIZE);
  for (let i = 0; i < COUNT; i++) {
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) pixels[i * SIZE * SIZE + (y + (i % 8)) * SIZE + x + (i % 5)] = 255;
  }
  const labels = new Uint8Array(COUNT * 10);
  for (let i = 0; i < COUNT; i++) labels[i * 10 + (i % 10)] = 1;
  return { images: { dtype: "uint8" as const, shape: [COUNT, SIZE, SIZE, 1], data: pixels }, labels: { dtype: "uint8" as const, shape: [COUNT, 10], data: labels } };
}

const { images, labels } = tinyArrays();
const dataset = imageDatasetFromArrays(images, labels);
const DATA_INFO = { fingerprint: fingerprint(dataset), count: COUNT, source: "tiny squares" };

const CONFIG: DdpmConfig = parseDdpmConfig({
  version: 1,
  description: "a test's tiny run",
  dataset: { name: "mnist", imageSize: SIZE, channels: 1 },
  model: {
    downChannels: [8, 16], midChannels: [16, 8], downsample: [true], timeEmbeddingSize: 16,
    downLayers: 1, midLayers: 1, upLayers: 1, attentionHeads: 1, normGroups: 8, finalChannels: 8,
  },
  training: { T: 40, betaStart: 0.0001, betaEnd: 0.02, batchSize: 4, epochs: 2, learningRate: 0.001, seed: 5, out: "unused" },
});

const dir = mkdtempSync(join(tmpdir(), "ddpm-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await useFastestBackend();
});

async function weightBytes(model: { getWeights(): Promise<Record<string, { data: Float32Array }>> }): Promise<string[]> {
  const w = await model.getWeights();
  return Object.keys(w).sort().map((k) => `${k}:${Buffer.from(w[k].data.buffer, w[k].data.byteOffset, w[k].data.byteLength).toString("base64")}`);
}

describe("a DDPM config run on the Trainer", () => {
  it("trains the attention UNet, saves its architecture and config, and loads back to sample 12x12 grey images", async () => {
    const trainer = ddpmTrainer(CONFIG, spriteTrainingData(dataset));
    const losses: number[] = [];
    await trainer.run({ onStep: (r) => void losses.push(r.loss) });
    expect(trainer.position).toEqual({ epoch: 2, stepInEpoch: 0, globalStep: 8 });
    expect(losses.every(Number.isFinite)).toBe(true);
    const folder = join(dir, "trained");
    await saveTrainingCheckpoint(folder, trainer, DATA_INFO, false, CONFIG);

    const loaded = loadNoiseModel(folder);
    try {
      expect(loaded.model).toBeInstanceOf(AttentionUnet);
      expect(loaded.manifest.architecture).toMatchObject({ name: "AttentionUnet", config: { imageSize: SIZE, imageChannels: 1, downChannels: [8, 16] } });
      expect(loaded.manifest.ddpmConfig).toEqual(CONFIG);
      expect(loaded.schedule.config).toEqual({ kind: "linear", T: 40, betaStart: 0.0001, betaEnd: 0.02 });
      expect(await weightBytes(loaded.model)).toEqual(await weightBytes(trainer.model));
      // No imageShape in the start: the sampler takes the model's.
      const { samples } = await sampleDdim(loaded.model, loaded.schedule, { count: 3, seed: 1 }, null, { steps: 5, saveFrame: () => false });
      expect(samples.shape).toEqual([3, SIZE, SIZE, 1]);
      expect(Array.from(await samples.data()).every(Number.isFinite)).toBe(true);
      samples.dispose();
    } finally {
      loaded.model.dispose();
    }
    const before = tf.memory().numTensors;
    expect(() => loadModel(folder)).toThrow(`${folder} holds an AttentionUnet, and this needs a ContextUnet`);
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    trainer.model.dispose();
  }, 120_000);

  it("resumes from mid-epoch to exactly the uninterrupted run's losses and weights", async () => {
    const straight = ddpmTrainer(CONFIG, spriteTrainingData(dataset));
    const straightLosses: number[] = [];
    await straight.run({ onStep: (r) => void straightLosses.push(r.loss) });

    const folder = join(dir, "resume");
    const first = ddpmTrainer(CONFIG, spriteTrainingData(dataset));
    const losses: number[] = [];
    let steps = 0;
    await first.run({ onStep: (r) => void losses.push(r.loss), shouldStop: () => steps++ >= 5 });
    expect(first.position).toEqual({ epoch: 1, stepInEpoch: 1, globalStep: 5 });
    await saveTrainingCheckpoint(folder, first, DATA_INFO, false, CONFIG);
    first.dispose();
    first.model.dispose();

    const second = ddpmTrainer(CONFIG, spriteTrainingData(dataset));
    resumeTraining(folder, second, DATA_INFO);
    await second.run({ onStep: (r) => void losses.push(r.loss) });
    expect(losses).toEqual(straightLosses);
    expect(await weightBytes(second.model)).toEqual(await weightBytes(straight.model));

    // Another architecture or size does not resume: every difference is named.
    const wider = ddpmTrainer({ ...CONFIG, model: { ...CONFIG.model, downChannels: [8, 24], midChannels: [24, 8] } }, spriteTrainingData(dataset));
    expect(() => resumeTraining(folder, wider, DATA_INFO)).toThrow(/architecture\.config\.downChannels\.1: checkpoint 16, expected 24\n {2}architecture\.config\.midChannels\.0: checkpoint 16, expected 24/);
    for (const trainer of [straight, second, wider]) {
      trainer.dispose();
      trainer.model.dispose();
    }
  }, 120_000);

  it("keeps tf.memory().numTensors flat across steps, and returns to the start once disposed", async () => {
    const start = tf.memory().numTensors;
    const trainer = ddpmTrainer(CONFIG, spriteTrainingData(dataset));
    const counts: number[] = [];
    await trainer.run({ onStep: () => void counts.push(tf.memory().numTensors) });
    expect(counts).toHaveLength(8);
    expect(new Set(counts).size).toBe(1);
    trainer.dispose();
    trainer.model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  }, 120_000);

  it("refuses a context run of the unconditional model, and names an unknown architecture in a manifest", async () => {
    const model = new AttentionUnet({ ...CONFIG.model, imageSize: SIZE, imageChannels: 1 });
    expect(() => new Trainer(model, spriteTrainingData(dataset), { useContext: true })).toThrow("the model is unconditional (it takes no context vector)");
    model.dispose();
    const trainer = ddpmTrainer(CONFIG, spriteTrainingData(dataset));
    const folder = join(dir, "unknown");
    await saveTrainingCheckpoint(folder, trainer, DATA_INFO);
    trainer.dispose();
    trainer.model.dispose();
    const path = join(folder, MANIFEST_FILE);
    const manifest = JSON.parse(readFileSync(path, "utf8"));
    expect(manifest.ddpmConfig).toBeUndefined();
    writeFileSync(path, JSON.stringify({ ...manifest, architecture: { ...manifest.architecture, name: "DiT" } }));
    expect(() => loadNoiseModel(folder)).toThrow(`${path}: architecture "DiT" is unknown to this library (it builds ContextUnet, AttentionUnet and TextContextUnet)`);
  });
});

describe("loadDdpmDataset", () => {
  it("loads the named set's training files from dataset.path and checks their size against the config", () => {
    const folder = join(dir, "set");
    mkdirSync(folder);
    writeNpy(join(folder, "mnist_train_28x28.npy"), images);
    writeNpy(join(folder, "mnist_train_labels_28x28.npy"), labels);
    const { dataset: loaded, source } = loadDdpmDataset({ ...CONFIG, dataset: { ...CONFIG.dataset, path: folder } }, "tiny.json");
    expect(fingerprint(loaded)).toBe(DATA_INFO.fingerprint);
    expect(source).toContain("mnist_train_28x28.npy + ");
    const wrongSize = { ...CONFIG, dataset: { ...CONFIG.dataset, path: folder, imageSize: 28 } };
    expect(() => loadDdpmDataset(wrongSize, "tiny.json")).toThrow(ConfigError);
    expect(() => loadDdpmDataset(wrongSize, "tiny.json")).toThrow("tiny.json: dataset.imageSize: is 28, but");
  });

  it("says to run make-data when the files are missing", () => {
    const empty = { ...CONFIG, dataset: { ...CONFIG.dataset, path: join(dir, "nothing-here") } };
    expect(() => loadDdpmDataset(empty, "tiny.json")).toThrow(/tiny\.json: the mnist set's training files are missing .*; make them with `npm run make-data -- --set mnist`/);
  });
});
