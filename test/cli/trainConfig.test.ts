/**
 * `npm run train -- --config FILE` and `npm run sample` on what it made, as a user runs them
 * (through tsx): a tiny config (28x28 grey images, 16 of them, widths [8, 16], T = 20) trains an
 * epoch into a checkpoint that records the attention UNet and the whole config, resumes, and
 * samples to grey PNG grids (and a GIF) with DDIM and DDPM, on ONNX Runtime by itself, and with
 * DDIM on TensorFlow.js (--engine tfjs) to the same grid;
 * a flag the config already decides fails in seconds.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { largestPixelDifference } from "../helpers/pngPixels";
import { runCommand } from "../helpers/runCommand";
import { writeNpy } from "../../src/lib/data/npy";
import type { CheckpointManifest } from "../../src/lib/train/checkpoint";

const ROOT = resolve(__dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "cli-train-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (command: string, args: string[]) => runCommand(command, args);

/** 16 grey 28x28 digits-like images (a bar per class) named as data/mnist names its training files. */
function writeTinySet(folder: string): void {
  mkdirSync(folder, { recursive: true });
  const count = 16;
  const pixels = new Uint8Array(count * 28 * 28);
  const labels = new Uint8Array(count * 10);
  for (let i = 0; i < count; i++) {
    for (let y = 4; y < 24; y++) pixels[i * 784 + y * 28 + 4 + (i % 10) * 2] = 255;
    labels[i * 10 + (i % 10)] = 1;
  }
  writeNpy(join(folder, "mnist_train_28x28.npy"), { dtype: "uint8", shape: [count, 28, 28, 1], data: pixels });
  writeNpy(join(folder, "mnist_train_labels_28x28.npy"), { dtype: "uint8", shape: [count, 10], data: labels });
}

const config = {
  version: 1,
  description: "the CLI test's tiny run",
  dataset: { name: "mnist", path: join(dir, "set"), imageSize: 28, channels: 1 },
  model: {
    downChannels: [8, 16], midChannels: [16, 8], downsample: [true], attention: [true], timeEmbeddingSize: 16,
    downLayers: 1, midLayers: 1, upLayers: 1, attentionHeads: 1, normGroups: 8, finalChannels: 8,
  },
  training: { T: 20, betaStart: 0.0001, betaEnd: 0.02, batchSize: 8, epochs: 1, learningRate: 0.001, seed: 0, out: join(dir, "run") },
};

/** PNG width and height from its IHDR chunk. */
const pngSize = (file: string) => {
  const bytes = readFileSync(file);
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
};

describe("npm run train -- --config", () => {
  it("trains the config's attention UNet into a checkpoint recording it and the config, which npm run sample draws (also --onnx)", async () => {
    writeTinySet(join(dir, "set"));
    const file = join(dir, "tiny.json");
    writeFileSync(file, JSON.stringify(config, null, 2));
    const trained = await run("train", ["--config", file]);
    expect(trained.stderr).toContain("training on 16 mnist images, 2 steps per epoch");
    expect(trained.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, "run", "manifest.json"), "utf8")) as CheckpointManifest;
    expect(manifest.architecture).toMatchObject({ name: "AttentionUnet", config: { imageSize: 28, imageChannels: 1, downChannels: [8, 16] } });
    expect(manifest.ddpmConfig).toEqual(config);
    expect(manifest.schedule).toEqual({ kind: "linear", T: 20, betaStart: 0.0001, betaEnd: 0.02 });
    expect(manifest.training).toMatchObject({ epoch: 1, globalStep: 2, config: { useContext: false, batchSize: 8, seed: 0 } });
    expect(readFileSync(join(dir, "run", "training-log.md"), "utf8")).toContain("- model: AttentionUnet, unconditional");

    const resumed = await run("train", ["--config", file, "--resume"]);
    expect(resumed.stderr).toContain("resumed from");
    expect(resumed.status).toBe(0);

    const ddim = join(dir, "ddim.png");
    const sampled = await run("sample", ["--checkpoint", join(dir, "run"), "--sampler", "ddim", "--steps", "5", "--n", "4", "--rows", "1", "--out", ddim, "--gif", join(dir, "ddim.gif")]);
    expect(sampled.stderr).toContain("DDIM-5 on ONNX Runtime: 4 28x28 images in"); // auto's choice
    expect(sampled.status).toBe(0);
    // 4 cells of 28 px at the grid's scale 4, with 2 px gutters between them.
    expect(pngSize(ddim)).toEqual([4 * 112 + 3 * 2, 112]);
    expect(readFileSync(join(dir, "ddim.gif")).subarray(0, 6).toString()).toBe("GIF89a");
    // The same run with the network on TensorFlow.js: the same grid, to a level of rounding (eps agrees to 1e-4).
    const onTensorFlow = join(dir, "ddim-tfjs.png");
    const tfjs = await run("sample", ["--checkpoint", join(dir, "run"), "--sampler", "ddim", "--steps", "5", "--n", "4", "--rows", "1", "--out", onTensorFlow, "--engine", "tfjs"]);
    expect(tfjs.stderr).toContain("DDIM-5: 4 28x28 images in");
    expect(tfjs.status).toBe(0);
    expect(await largestPixelDifference(ddim, onTensorFlow)).toBeLessThanOrEqual(1);
    const ddpm = join(dir, "ddpm.png");
    const full = await run("sample", ["--checkpoint", join(dir, "run"), "--sampler", "ddpm", "--n", "2", "--out", ddpm]);
    expect(full.status).toBe(0);
    expect(existsSync(ddpm)).toBe(true);
  }, 240_000);

  it("refuses flags the config decides, and context for the unconditional model, naming them", async () => {
    const file = join(dir, "tiny.json");
    writeFileSync(file, JSON.stringify(config, null, 2));
    const clash = await run("train", ["--config", file, "--context", "--epochs", "3", "--out", join(dir, "other")]);
    expect(clash.status).toBe(1);
    expect(clash.stderr).toContain(`train: --config ${file} sets the whole run (data, model, schedule, recipe; unconditional), so --context, --epochs cannot come with it`);
    expect(existsSync(join(dir, "other"))).toBe(false);
    if (existsSync(join(dir, "run", "manifest.json"))) {
      const context = await run("sample", ["--checkpoint", join(dir, "run"), "--steps", "5", "--context", "each", "--out", join(dir, "context.png")]);
      expect(context.status).toBe(1);
      expect(context.stderr).toContain("holds an unconditional AttentionUnet (28x28x1 images, no classes): drop --context.");
    }
  }, 120_000);
});
