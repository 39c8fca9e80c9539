/**
 * The commands as a user runs them (through tsx): a mistake in the options fails in seconds, before
 * any sampling or training, --images without --labels trains an unconditional model, guidance
 * that does not fit the checkpoint fails right after loading while guidance that fits samples (also
 * on ONNX Runtime, which sample picks by itself, to the grid --engine tfjs draws; a learned variance
 * too), and nll measures a tiny checkpoint and records it.
 */
import { spawn } from "node:child_process";
import { createCanvas } from "@napi-rs/canvas";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { epochOrder } from "../../src/lib/data/batches";
import { fingerprint, subsetDataset } from "../../src/lib/data/dataset";
import { writeNpy } from "../../src/lib/data/npy";
import { spriteSetArrays } from "../../src/lib/data/spriteFiles";
import { generateSpriteSet } from "../../src/lib/data/sprites/generate";
import { COURSE_SCHEDULE_CONFIG } from "../../src/lib/diffusion/schedule";
import { NoisySpriteClassifier } from "../../src/lib/guidance/noisyClassifier";
import { type NoisyClassifierFields, saveNoisyClassifier } from "../../src/lib/guidance/noisyClassifierFile";
import type { LikelihoodRecord } from "../../src/lib/metrics/likelihoodFile";
import { realSpriteSet } from "../../src/lib/metrics/realSprites";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { type CheckpointManifest, saveCheckpoint } from "../../src/lib/train/checkpoint";
import { COURSE_TRAIN_CONFIG } from "../../src/lib/train/config";
import { useTestBackend } from "../helpers/backends";
import { largestPixelDifference } from "../helpers/pngPixels";

const ROOT = resolve(__dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "cli-commands-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs `npm run <command> -- args` the way npm does (tsx), one TensorFlow thread; asynchronous, so a
 * long command does not block the test worker's event loop (see ../helpers/runCommand.ts).
 */
function run(command: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "src", "cli", `${command}.ts`), ...args], {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolvePromise({ status, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
  });
}

describe("commands fail before any work", () => {
  it("sample with an --out it could not write, and train with --labels alone, exit 1 in seconds", async () => {
    const aFile = join(dir, "a-file");
    writeFileSync(aFile, "");
    const sample = await run("sample", ["--checkpoint", "models/context", "--sampler", "ddpm", "--out", join(aFile, "grid.png")]);
    expect(sample.status).toBe(1);
    expect(sample.stderr).toContain(`sample: --out ${join(aFile, "grid.png")}: cannot be written: ${aFile} is a file, not a folder`);
    const train = await run("train", ["--out", join(dir, "run"), "--labels", "labels.npy"]);
    expect(train.status).toBe(1);
    expect(train.stderr).toContain("train: --labels needs --images");
    // tsx's start-up is most of it; sampling DDPM-500 or training would take minutes.
    expect(sample.seconds + train.seconds).toBeLessThan(30);
  }, 120_000);
});

describe("npm run train -- --images F (no --labels)", () => {
  it("trains an unconditional model on those images and records them as its data", async () => {
    const images = join(dir, "mine.npy");
    writeNpy(images, spriteSetArrays(generateSpriteSet({ seed: 1, count: 20, variantsPerBase: 5 })).images);
    const out = join(dir, "unconditional");
    const result = await run("train", ["--images", images, "--out", out, "--epochs", "1", "--batch", "10"]);
    expect(result.stderr).toContain("training on 20 sprites, 2 steps per epoch");
    expect(result.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as CheckpointManifest;
    expect(manifest.training?.config.useContext).toBe(false);
    expect(manifest.data).toMatchObject({ count: 20 });
    expect(resolve(ROOT, manifest.data!.source)).toBe(images);
  }, 120_000);
});

describe("guided sampling from the command line", () => {
  beforeAll(() => useTestBackend());
  const classifierDir = (name: string, classes: number) => {
    const folder = join(dir, name);
    const classifier = new NoisySpriteClassifier({ channels: [4, 4, 4], hiddenSize: 8, classes }, 0);
    // Only the architecture, weights and schedule matter here; the training record is a stand-in.
    const fields = { classNames: [], schedule: { ...COURSE_SCHEDULE_CONFIG } } as unknown as NoisyClassifierFields;
    return saveNoisyClassifier(folder, classifier, fields).then(() => (classifier.dispose(), folder));
  };

  it("refuses guidance the checkpoint cannot take: w on an unconditional model, a classifier of other classes", async () => {
    const threeClasses = await classifierDir("three-classes", 3);
    const out = join(dir, "guided.png");
    const cfg = await run("sample", ["--checkpoint", "models/unconditional", "--guidance", "2", "--context", "each", "--out", out]);
    expect(cfg.status).toBe(1);
    expect(cfg.stderr).toContain("sample: --guidance needs a model trained with context, but models/unconditional was trained without; steer it with --classifier-guidance S instead.");
    const mismatch = await run("sample", ["--checkpoint", "models/context", "--classifier-guidance", "3", "--guidance-classifier", threeClasses, "--context", "each", "--out", out]);
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr).toContain("sample: Classifier guidance: the classifier scores 3 classes but the checkpoint models/context has 5; use a noisy classifier trained on the same 5 classes.");
    const evaluate = await run("evaluate", ["--checkpoint", "models/unconditional", "--guidance", "1", "--n", "10"]);
    expect(evaluate.status).toBe(1);
    expect(evaluate.stderr).toContain("evaluate: Classifier-free guidance (w = 1) needs a context model, but models/unconditional was trained without context");
    expect(existsSync(out)).toBe(false);
  }, 180_000);

  it("steers an unconditional model with a noisy classifier, and a context model with both guidances", async () => {
    const fiveClasses = await classifierDir("five-classes", 5);
    const out = join(dir, "steered.png");
    const common = ["--sampler", "ddim", "--steps", "5", "--n", "2", "--rows", "1", "--guidance-classifier", fiveClasses, "--out", out];
    const steered = await run("sample", ["--checkpoint", "models/unconditional", "--classifier-guidance", "2", "--context", "hero,food", ...common]);
    expect(steered.stderr).toContain("DDIM-5, classifier s = 2: 2 sprites in");
    expect(steered.stderr).toContain("engine: TensorFlow.js (ONNX Runtime, the faster engine, is out: classifier guidance takes the noisy classifier's gradient on TensorFlow.js at every step)");
    expect(steered.status).toBe(0);
    expect(readFileSync(out).subarray(1, 4).toString()).toBe("PNG");
    const both = await run("sample", ["--checkpoint", "models/context", "--guidance", "2", "--classifier-guidance", "1", "--context", "0,3", ...common]);
    expect(both.stderr).toContain("DDIM-5, CFG w = 2, classifier s = 1: 2 sprites in");
    expect(both.status).toBe(0);
  }, 180_000);
});

describe("npm run sample's engines", () => {
  it("samples a context model with classifier-free guidance on ONNX Runtime by itself, to the grid --engine tfjs draws", async () => {
    const common = ["--checkpoint", "models/context", "--sampler", "ddim", "--steps", "5", "--n", "4", "--rows", "1", "--guidance", "2", "--context", "0,1,3,4"];
    const ours = join(dir, "cfg-tfjs.png");
    const onnx = join(dir, "cfg-onnx.png");
    const plain = await run("sample", [...common, "--out", ours, "--engine", "tfjs"]);
    expect(plain.stderr).toContain("engine: TensorFlow.js (asked for)");
    expect(plain.status).toBe(0);
    const byDefault = await run("sample", [...common, "--out", onnx]);
    expect(byDefault.stderr).toContain("engine: ONNX Runtime (its graph built from the same weights; the fastest engine here, chosen by auto; --engine tfjs for TensorFlow.js)");
    expect(byDefault.stderr).toContain("DDIM-5, CFG w = 2 on ONNX Runtime: 4 sprites in");
    expect(byDefault.status).toBe(0);
    // eps agrees to 1e-4, so the 8-bit grids differ by a level of rounding at most.
    expect(await largestPixelDifference(ours, onnx)).toBeLessThanOrEqual(1);
  }, 180_000);

  it("samples a learned variance on ONNX Runtime, and refuses --classifier-guidance with --onnx before loading, saying what to do", async () => {
    const learned = await run("sample", ["--checkpoint", "models/improved-ddpm", "--steps", "5", "--n", "1", "--onnx", "--out", join(dir, "learned-onnx.png")]);
    expect(learned.stderr).toContain("engine: ONNX Runtime (its graph built from the same weights; asked for)");
    expect(learned.status).toBe(0);
    const out = join(dir, "onnx-refused.png");
    const steered = await run("sample", ["--checkpoint", "models/unconditional", "--classifier-guidance", "2", "--context", "each", "--onnx", "--out", out]);
    expect(steered.status).toBe(1);
    expect(steered.stderr).toContain("sample: --classifier-guidance runs on TensorFlow.js (the noisy classifier's gradient at every step), so it cannot come with --engine onnx");
    const help = await run("sample", ["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--engine E         which engine runs the network's forward: auto (default), onnx or tfjs.");
    expect(existsSync(out)).toBe(false);
  }, 180_000);
});

describe("npm run edit", () => {
  /** A PNG of size x size pixels, a flat colour. */
  const png = (name: string, size: number) => {
    const canvas = createCanvas(size, size);
    const context = canvas.getContext("2d");
    context.fillStyle = "#d04040";
    context.fillRect(0, 0, size, size);
    const file = join(dir, name);
    writeFileSync(file, canvas.toBuffer("image/png"));
    return file;
  };

  it("refuses a bad mask, an image of the wrong size and a t0 outside 0..T, saying what to do", async () => {
    const out = join(dir, "edit-bad.png");
    const badMask = join(dir, "mask.json");
    writeFileSync(badMask, JSON.stringify(Array.from({ length: 16 }, (_, y) => Array.from({ length: 16 }, (_, x) => (x === 3 && y === 2 ? 2 : 1)))));
    const mask = await run("edit", ["--checkpoint", "models/unconditional", "--from-set", "0", "--mask", badMask, "--out", out]);
    expect(mask.status).toBe(1);
    expect(mask.stderr).toMatch(/edit: .*row 2, column 3.*2/);
    const wrongShape = join(dir, "mask-8.json");
    writeFileSync(wrongShape, JSON.stringify(Array.from({ length: 8 }, () => new Array(8).fill(1))));
    expect((await run("edit", ["--checkpoint", "models/unconditional", "--from-set", "0", "--mask", wrongShape, "--out", out])).stderr).toMatch(/edit: .*16/);
    const big = await run("edit", ["--checkpoint", "models/unconditional", "--image", png("big.png", 32), "--out", out]);
    expect(big.status).toBe(1);
    expect(big.stderr).toContain("is 32x32 pixels, but the model draws 16x16 sprites; resize it to 16x16");
    const t0 = await run("edit", ["--checkpoint", "models/unconditional", "--from-set", "0", "--method", "sdedit", "--t0", "600", "--out", out]);
    expect(t0.status).toBe(1);
    expect(t0.stderr).toContain("edit: SDEdit: t0 must be an integer step in 0..500 (how far to noise the input), got 600.");
    const none = await run("edit", ["--checkpoint", "models/unconditional", "--out", out]);
    expect(none.stderr).toContain("edit: Give exactly one input");
    expect(existsSync(out)).toBe(false);
  }, 180_000);

  it("inpaints sprites of the set with RePaint and redraws an image file with SDEdit, writing grids", async () => {
    const out = join(dir, "edit-repaint.png");
    const repaint = await run("edit", ["--checkpoint", "models/unconditional", "--from-set", "0,1", "--method", "repaint", "--mask", "right-half",
      "--sampler", "ddim", "--steps", "10", "--eta", "1", "--jump-length", "2", "--resamplings", "2", "--n", "2", "--out", out]);
    expect(repaint.stderr).toContain("repaint with DDIM-10, eta 1: 4 sprites, 20 model evaluations each");
    expect(repaint.status).toBe(0);
    expect(readFileSync(out).subarray(1, 4).toString()).toBe("PNG");
    const sdedit = await run("edit", ["--checkpoint", "models/unconditional", "--image", png("flat.png", 16), "--method", "sdedit", "--t0", "100",
      "--sampler", "ddim", "--steps", "25", "--n", "1", "--out", join(dir, "edit-sdedit.png")]);
    expect(sdedit.stderr).toContain("sdedit with DDIM-25, eta 1: 1 sprites, 5 model evaluations each");
    expect(sdedit.status).toBe(0);
  }, 180_000);
});

describe("npm run noise-error", () => {
  it("prints the noise-prediction error per step and refuses weights the checkpoint lacks", async () => {
    const out = join(dir, "noise-error.json");
    const result = await run("noise-error", ["--checkpoint", "models/unconditional", "--n", "8", "--every", "250", "--out", out]);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/t\traw weights \(the checkpoint keeps no EMA\)\n250\t0\.\d{5}\n500\t0\.\d{5}/);
    const written = JSON.parse(readFileSync(out, "utf8")) as { columns: Array<{ errors: Array<{ t: number; mse: number }> }> };
    expect(written.columns[0].errors.map((e) => e.t)).toEqual([250, 500]);
    const ema = await run("noise-error", ["--checkpoint", "models/unconditional", "--weights", "ema", "--n", "8"]);
    expect(ema.status).toBe(1);
    expect(ema.stderr).toContain("keeps no EMA weights (it was trained without --ema)");
  }, 120_000);
});

describe("npm run nll", () => {
  beforeAll(() => useTestBackend());

  /** An untrained small ContextUnet on a T = 50 schedule, saved as if `npm run train -- --subset 500` had made it. */
  async function tinyCheckpoint(folder: string, useContext: boolean): Promise<string> {
    const real = realSpriteSet();
    const subset = epochOrder(real.dataset.count, 0, 0x5b5e7).slice(0, 500).sort();
    const model = new ContextUnet({ nFeat: 8 }, 3);
    saveCheckpoint(
      folder,
      {
        libraryVersion: "test",
        architecture: { name: "ContextUnet", config: { ...model.config }, parameterCount: model.parameterCount },
        schedule: { kind: "linear", T: 50, betaStart: 1e-4, betaEnd: 0.02 },
        training: { epoch: 1, stepInEpoch: 0, globalStep: 5, config: { ...COURSE_TRAIN_CONFIG, useContext }, history: [] },
        data: { fingerprint: fingerprint(subsetDataset(real.dataset, subset)), count: 500, source: "data/sprites/sprites_16x16.npy + data/sprites/sprite_labels_16x16.npy" },
        backend: tf.getBackend(),
      },
      { model: await model.getWeights() },
    );
    model.dispose();
    return folder;
  }

  it("refuses bad options before any work, and measures a tiny checkpoint's bound, appending a row to --record", async () => {
    const checkpoint = await tinyCheckpoint(join(dir, "tiny-nll"), false);
    const zero = await run("nll", ["--checkpoint", checkpoint, "--n", "0"]);
    expect(zero.status).toBe(1);
    expect(zero.stderr).toContain('nll: --n must be a whole number >= 1, got "0".');
    const text = await run("nll", ["--checkpoint", checkpoint, "--record", join(dir, "likelihood.txt")]);
    expect(text.stderr).toContain("nll: --record");
    expect(text.stderr).toContain('the file name should end in .json (got ".txt")');
    const labels = await run("nll", ["--checkpoint", checkpoint, "--context", "labels", "--n", "2"]);
    expect(labels.status).toBe(1);
    expect(labels.stderr).toContain(`nll: --context labels needs a model trained with context, but ${checkpoint} was trained without`);
    const record = join(dir, "likelihood.json");
    const measured = await run("nll", ["--checkpoint", checkpoint, "--n", "3", "--batch", "2", "--seed", "1", "--record", record]);
    expect(measured.stderr).toMatch(/sprites: 3 held-out sprites not in the model's training set/);
    expect(measured.stderr).toMatch(/\n {2}\d+\.\d{4} bits\/dim ± \d+\.\d{4} \(standard error over 3 sprites\)\n/);
    expect(measured.status).toBe(0);
    const row = (JSON.parse(readFileSync(record, "utf8")) as { results: LikelihoodRecord[] }).results[0];
    expect(row).toMatchObject({ epoch: 1, variance: "fixed", schedule: "linear", context: "none", clipDenoised: true, n: 3, seed: 1 });
    expect(row.terms.byStep).toHaveLength(50);
    expect(row.terms.bands.map((b) => [b.from, b.to])).toEqual([[2, 9], [10, 50]]);
    expect(row.realSet.fingerprint).toBe(realSpriteSet().fingerprint);
  }, 240_000);
});
