import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { epochOrder } from "../../src/lib/data/batches";
import { fingerprint, subsetDataset } from "../../src/lib/data/dataset";
import { COURSE_SCHEDULE_CONFIG } from "../../src/lib/diffusion/schedule";
import { classifierGradient } from "../../src/lib/guidance/classifierGuidance";
import { NoisySpriteClassifier } from "../../src/lib/guidance/noisyClassifier";
import type { NoisyClassifierModel } from "../../src/lib/guidance/noisyClassifierModel";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { loadClassifier } from "../../src/lib/metrics/classifierFile";
import { findEvaluation, readEvaluations, recordEvaluation } from "../../src/lib/metrics/evaluationFile";
import { type ModelEvaluation, evaluateDiffusionModel } from "../../src/lib/metrics/modelEvaluation";
import { PROJECT_ROOT } from "../../src/lib/data/projectRoot";
import { realSpriteSet } from "../../src/lib/metrics/realSprites";
import { diffusionTrainingSet } from "../../src/lib/metrics/trainingSet";
import { type CheckpointManifest, saveCheckpoint } from "../../src/lib/train/checkpoint";
import { COURSE_TRAIN_CONFIG } from "../../src/lib/train/config";
import { useTestBackend } from "../helpers/backends";

let shipped: ReturnType<typeof loadClassifier>;
let dir: string;
let evaluated: ModelEvaluation | null = null;
const SUBSET = 500;

/** An untrained, small ContextUnet saved as if `npm run train -- --subset 500 [--context]` had made it. */
async function saveUntrainedCheckpoint(folder: string, useContext = true): Promise<CheckpointManifest> {
  const real = realSpriteSet();
  const subset = epochOrder(real.dataset.count, 0, 0x5b5e7).slice(0, SUBSET).sort();
  const model = new ContextUnet({ nFeat: 8 }, 3);
  const manifest = saveCheckpoint(
    folder,
    {
      libraryVersion: "test",
      architecture: { name: "ContextUnet", config: { ...model.config }, parameterCount: model.parameterCount },
      schedule: { kind: "linear", ...COURSE_SCHEDULE_CONFIG },
      training: { epoch: 1, stepInEpoch: 0, globalStep: 5, config: { ...COURSE_TRAIN_CONFIG, useContext }, history: [] },
      data: { fingerprint: fingerprint(subsetDataset(real.dataset, subset)), count: SUBSET, source: `${relative(PROJECT_ROOT, real.dataset.source.images)} + ${relative(PROJECT_ROOT, real.dataset.source.labels!)}` },
      backend: tf.getBackend(),
    },
    { model: await model.getWeights() },
  );
  model.dispose();
  return manifest;
}

beforeAll(async () => {
  await useTestBackend();
  // Leak checks start after a first forward pass: the layers keep a few constant scalars per backend.
  const warm = new ContextUnet({ nFeat: 8 });
  tf.tidy(() => warm.predictNoise(tf.zeros([1, 16, 16, 3]) as tf.Tensor4D, 0.5, null));
  warm.dispose();
  shipped = loadClassifier();
  dir = mkdtempSync(join(tmpdir(), "evaluation-"));
});
afterAll(() => {
  shipped?.classifier.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("evaluateDiffusionModel", () => {
  it("refuses a sampler choice the checkpoint's schedule cannot run, before sampling and without leaks", async () => {
    await saveUntrainedCheckpoint(dir);
    const before = tf.memory().numTensors;
    const base = { checkpoint: dir, n: 10, seed: 0, classifier: shipped.classifier };
    await expect(evaluateDiffusionModel({ ...base, sampler: "ddpm", steps: 30 })).rejects.toThrow(/DDPM steps must divide T = 500/);
    await expect(evaluateDiffusionModel({ ...base, sampler: "ddpm-no-noise", steps: 25 })).rejects.toThrow(/steps belongs to DDIM only/);
    await expect(evaluateDiffusionModel({ ...base, sampler: "ddim", steps: 30 })).rejects.toThrow(/DDIM steps must divide T = 500/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("recovers a --subset run's training sprites by their fingerprint", async () => {
    const manifest = await saveUntrainedCheckpoint(dir);
    const training = diffusionTrainingSet(manifest);
    expect(training.exact).toBe(true);
    expect(training.indices.length).toBe(SUBSET);
    const wrongSeed = diffusionTrainingSet({ ...manifest, training: { ...manifest.training!, config: { ...manifest.training!.config, seed: 1 } } });
    expect(wrongSeed.exact).toBe(false);
    expect(wrongSeed.note).toMatch(/could not be recovered, distances are lower bounds/);
  });

  it("samples a context checkpoint and reports SFD far above its floor for an untrained model, without leaks", async () => {
    const before = tf.memory().numTensors;
    const result = await evaluateDiffusionModel({ checkpoint: dir, sampler: "ddim", steps: 5, n: 150, seed: 1, classifier: shipped.classifier, engine: "tfjs" });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.engine).toBeUndefined();
    expect(result).toMatchObject({ sampler: "ddim", steps: 5, label: "DDIM-5", n: 150, seed: 1, epoch: 1 });
    expect(result.eta).toBeUndefined();
    expect(result.sfd).toBeGreaterThan(10 * result.sfdFloor);
    expect(result.contextAccuracy).not.toBeNull();
    expect(Object.values(result.contextAccuracy!.counts).reduce((a, b) => a + b, 0)).toBe(150);
    expect(Object.values(result.classShares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(result.nearestTraining.trainingSet).toMatch(/seeded subset of 500/);
    // Untrained samples are noise-like: far from every training sprite, unlike unseen real sprites.
    expect(result.nearestTraining.generated.median).toBeGreaterThan(3 * result.nearestTraining.realUnseen!.median);
    evaluated = result;
  });

  it("samples on ONNX Runtime by default (engine auto), recording it, with the TensorFlow.js run's numbers to float rounding", async () => {
    if (!evaluated) throw new Error("needs the evaluation of the previous test");
    const before = tf.memory().numTensors;
    const reasons: string[] = [];
    const result = await evaluateDiffusionModel({ checkpoint: dir, sampler: "ddim", steps: 5, n: 150, seed: 1, classifier: shipped.classifier, onEngine: (r) => reasons.push(r) });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.engine).toBe("onnx");
    expect(reasons).toEqual([expect.stringMatching(/^ONNX Runtime .*chosen by auto/)]);
    expect(Math.abs(result.sfd - evaluated.sfd)).toBeLessThan(1e-3 * evaluated.sfd);
    expect(result.contextAccuracy!.counts).toEqual(evaluated.contextAccuracy!.counts);
    expect(result.sfdFloor).toBe(evaluated.sfdFloor);
  });

  it("refuses guidance that does not fit the checkpoint, before sampling and without leaks", async () => {
    const unconditional = join(dir, "unconditional");
    await saveUntrainedCheckpoint(unconditional, false);
    const threeClasses = new NoisySpriteClassifier({ channels: [4, 4, 4], hiddenSize: 8, classes: 3 }, 0);
    const fiveClasses = new NoisySpriteClassifier({ channels: [4, 4, 4], hiddenSize: 8 }, 0);
    const before = tf.memory().numTensors;
    const base = { sampler: "ddim" as const, steps: 5, n: 10, seed: 0, classifier: shipped.classifier };
    const guide = (classifier: NoisyClassifierModel, scale = 2) => ({ classifier, dir: "models/noisy-classifier", scale });
    await expect(evaluateDiffusionModel({ ...base, checkpoint: unconditional, guidance: 2 })).rejects.toThrow(/\(w = 2\) needs a context model, but .*unconditional was trained without context; steer it with classifier guidance/);
    await expect(evaluateDiffusionModel({ ...base, checkpoint: dir, guidance: -1 })).rejects.toThrow(/w must be a finite number >= 0/);
    await expect(evaluateDiffusionModel({ ...base, checkpoint: unconditional, classifierGuidance: guide(threeClasses) })).rejects.toThrow("the classifier scores 3 classes but the sprites has 5");
    await expect(evaluateDiffusionModel({ ...base, checkpoint: dir, classifierGuidance: guide(fiveClasses, -3) })).rejects.toThrow(/the scale s must be a finite number >= 0 .*got -3/);
    await expect(evaluateDiffusionModel({ ...base, checkpoint: dir, classifierGuidance: { ...guide(fiveClasses), schedule: { T: 1000, betaStart: 1e-4, betaEnd: 0.02 } } })).rejects.toThrow(/trained on T = 1000, .* samples on T = 500.*Train the classifier on the same schedule/);
    expect(tf.memory().numTensors).toBe(before);
    threeClasses.dispose();
    fiveClasses.dispose();
  });

  it("steers an unconditional checkpoint to its real partners' classes with classifier guidance, and reports accuracy per asked-for class", async () => {
    if (!evaluated) throw new Error("needs the evaluation of the previous test");
    const noisy = new NoisySpriteClassifier({ channels: [4, 4, 4], hiddenSize: 8 }, 0);
    let logitCalls = 0;
    const counted: NoisyClassifierModel = { classes: noisy.classes, logits: (x, tFraction) => (logitCalls++, noisy.logits(x, tFraction)) };
    // Warm-up: the classifier's layers keep a few constant scalars after their first gradient.
    const zeros = tf.zeros([1, 16, 16, 3]) as tf.Tensor4D;
    tf.dispose([classifierGradient(noisy, zeros, 0.5, [0]), zeros]);
    const before = tf.memory().numTensors;
    const result = await evaluateDiffusionModel({
      checkpoint: join(dir, "unconditional"),
      sampler: "ddim",
      steps: 5,
      n: 150,
      seed: 1,
      classifier: shipped.classifier,
      classifierGuidance: { classifier: counted, dir: "models/noisy-classifier", scale: 2, schedule: COURSE_SCHEDULE_CONFIG },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.engine).toBeUndefined(); // auto: classifier guidance keeps TensorFlow.js
    noisy.dispose();
    expect(logitCalls).toBe(5); // one gradient per DDIM step
    expect(result).toMatchObject({ label: "DDIM-5, classifier s = 2", classifierGuidance: { scale: 2, classifier: "models/noisy-classifier" } });
    expect(result.guidance).toBeUndefined();
    // Steered to the classes the context model was given (same n and seed, the same real partners).
    expect(result.contextAccuracy?.counts).toEqual(evaluated.contextAccuracy!.counts);
  });

  it("records results in an evaluation file, one per model, sampler and steps", () => {
    if (!evaluated) throw new Error("needs the evaluation of the previous test");
    const path = join(dir, "evaluation.json");
    const classifier = { dir: "models/classifier", heldOutAccuracy: 0.999, createdAt: "then" };
    recordEvaluation(path, evaluated, classifier);
    recordEvaluation(path, { ...evaluated, sampler: "ddpm", steps: 500 }, classifier);
    recordEvaluation(path, { ...evaluated, sfd: 1 }, classifier);
    recordEvaluation(path, { ...evaluated, eta: 0.5, sfd: 2 }, classifier);
    // Rows differing only in guidance (w, s, or the guidance classifier) are kept apart.
    const byClassifier = (scale: number, dir = "models/noisy-classifier") => ({ classifierGuidance: { scale, classifier: dir } });
    recordEvaluation(path, { ...evaluated, guidance: 2, sfd: 3 }, classifier);
    recordEvaluation(path, { ...evaluated, ...byClassifier(3), sfd: 4 }, classifier);
    recordEvaluation(path, { ...evaluated, ...byClassifier(3, "models/other"), sfd: 5 }, classifier);
    recordEvaluation(path, { ...evaluated, guidance: 2, ...byClassifier(3), sfd: 6 }, classifier);
    recordEvaluation(path, { ...evaluated, guidance: 2, sfd: 7 }, classifier); // replaces sfd 3
    // A clipped x_0 estimate is another run too.
    recordEvaluation(path, { ...evaluated, clipDenoised: true, sfd: 8 }, classifier);
    const file = readEvaluations(path);
    expect(file.results.map((r) => `${r.sampler}-${r.steps}-${r.eta ?? 0}${r.clipDenoised ? "-clip" : ""}-w${r.guidance ?? 0}-s${r.classifierGuidance?.scale ?? 0}`)).toEqual([
      "ddim-5-0-w0-s0",
      "ddim-5-0-w0-s3",
      "ddim-5-0-w0-s3",
      "ddim-5-0-w2-s0",
      "ddim-5-0-w2-s3",
      "ddim-5-0-clip-w0-s0",
      "ddim-5-0.5-w0-s0",
      "ddpm-500-0-w0-s0",
    ]);
    expect(findEvaluation(file, evaluated.model, "ddim", 5)?.sfd).toBe(1);
    expect(findEvaluation(file, evaluated.model, "ddim", 5, 0, { clipDenoised: true })?.sfd).toBe(8);
    expect(findEvaluation(file, evaluated.model, "ddim", 5, 0.5)?.sfd).toBe(2);
    expect(findEvaluation(file, evaluated.model, "ddim", 5, 0, { guidance: 2 })?.sfd).toBe(7);
    expect(findEvaluation(file, evaluated.model, "ddim", 5, 0, byClassifier(3))?.sfd).toBe(4);
    expect(findEvaluation(file, evaluated.model, "ddim", 5, 0, byClassifier(3, "models/other"))?.sfd).toBe(5);
    expect(findEvaluation(file, evaluated.model, "ddim", 5, 0, { guidance: 2, ...byClassifier(3) })?.sfd).toBe(6);
    // The EMA weights' run is a row of its own; a lesson asks for the weights it loaded ("ema" or "raw").
    recordEvaluation(path, { ...evaluated, weights: "ema", sfd: 9 }, classifier);
    const withEma = readEvaluations(path);
    expect(findEvaluation(withEma, evaluated.model, "ddim", 5, 0, { weights: "ema" })?.sfd).toBe(9);
    expect(findEvaluation(withEma, evaluated.model, "ddim", 5, 0, { weights: "raw" })?.sfd).toBe(1);
    expect(findEvaluation(withEma, evaluated.model, "ddim", 5)?.sfd).toBe(1);
    // The same run on ONNX Runtime is a row of its own beside TensorFlow.js's.
    recordEvaluation(path, { ...evaluated, engine: "onnx", sfd: 10 }, classifier);
    const withOnnx = readEvaluations(path);
    expect(withOnnx.results.filter((r) => r.sampler === "ddim" && r.steps === 5 && !r.guidance && !r.classifierGuidance && !r.clipDenoised && !r.eta && !r.weights).map((r) => r.sfd)).toEqual([1, 10]);
    expect(findEvaluation(withOnnx, evaluated.model, "ddim", 5)?.sfd).toBe(1);
    expect(() => readEvaluations(join(dir, "missing.json"))).toThrow(/does not exist: record evaluations/);
  });
});
