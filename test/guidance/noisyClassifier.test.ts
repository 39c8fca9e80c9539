/**
 * The noisy-sprite classifier p(y | x_t, t): its size, parity with its PyTorch twin
 * (bench/noisy_classifier_torch.py: logits, input gradient, parameter gradients), save / load,
 * tensor hygiene, that training on noised sprites learns, and accuracyPerTBand against a
 * classifier whose answers are known by construction.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SPRITE_CLASS_NAMES } from "../../src/lib/data/sprites/classes";
import { COURSE_SCHEDULE_CONFIG, courseSchedule } from "../../src/lib/diffusion/schedule";
import { NoisySpriteClassifier } from "../../src/lib/guidance/noisyClassifier";
import { type NoisyClassifierFields, loadNoisyClassifier, readNoisyClassifierManifest, saveNoisyClassifier } from "../../src/lib/guidance/noisyClassifierFile";
import { type TimeConditionedClassifier, accuracyPerTBand, noisyClassifierDraws, trainNoisyClassifier } from "../../src/lib/guidance/noisyClassifierTraining";
import { crossEntropy } from "../../src/lib/metrics/classifierTraining";
import { CLASSIFIER_SPLIT, realSpriteSet } from "../../src/lib/metrics/realSprites";
import { toTorchLayout, weightsFromTorch } from "../../src/lib/model/torchLayout";
import { useFastestBackend } from "../helpers/backends";

const PYTHON = "/usr/bin/python3";
const TWIN = resolve(__dirname, "../../bench/noisy_classifier_torch.py");

/** Why the twin cannot run here, or null when it can. */
function torchUnavailable(): string | null {
  if (!existsSync(TWIN)) return `${TWIN} is missing`;
  try {
    execFileSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" });
    return null;
  } catch {
    return `${PYTHON} cannot import torch (apt-get install -y python3-torch)`;
  }
}
const unavailable = torchUnavailable();
if (unavailable && process.env.CI) throw new Error(`PyTorch twin needed in CI: ${unavailable}`);

/** max |a - b| / max(1, max |b|): absolute for values below 1, relative above. */
function scaledMaxDifference(ours: ArrayLike<number>, reference: ArrayLike<number>): number {
  expect(ours.length).toBe(reference.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return diff / scale;
}

/** sum_i log softmax(logits(x, t))[i, y_i] as a function of x: what guidance differentiates. */
const logProbabilityOf = (classifier: NoisySpriteClassifier, t: tf.Tensor1D, picks: tf.Tensor2D) => (x: tf.Tensor) =>
  tf.sum(tf.mul(tf.logSoftmax(classifier.forward(x as tf.Tensor4D, t)), picks));

// Native TensorFlow when present, as the ContextUnet parity test: training on the cpu backend takes minutes.
beforeAll(async () => {
  await useFastestBackend();
});

describe("NoisySpriteClassifier", () => {
  it("has 197,861 parameters (under 1 MB of float32), the twin's count", () => {
    const classifier = new NoisySpriteClassifier();
    expect(classifier.parameterCount).toBe(197_861);
    expect(classifier.classes).toBe(5);
    classifier.dispose();
    if (unavailable) return;
    const printed = JSON.parse(execFileSync(PYTHON, [TWIN, "params"], { encoding: "utf8" }));
    expect(printed.params).toBe(197_861);
  });

  it("gives one t for the batch the same logits as per-sample t, and checks its inputs", async () => {
    const classifier = new NoisySpriteClassifier({}, 4);
    const x = tf.randomNormal([3, 16, 16, 3], 0, 1, "float32", 1) as tf.Tensor4D;
    const t = tf.fill([3], 0.3) as tf.Tensor1D;
    const [a, b] = [classifier.logits(x, 0.3), classifier.forward(x, t)];
    expect(a.shape).toEqual([3, 5]);
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    expect(() => classifier.logits(x, 300)).toThrow(/t \/ T in \[0, 1\], got 300/);
    const nchw = tf.zeros([2, 3, 16, 16]) as tf.Tensor4D;
    expect(() => classifier.logits(nchw, 0.5)).toThrow(/shape \[2,3,16,16\].*looks NCHW/);
    expect(() => classifier.forward(x, tf.fill([2], 0.5) as tf.Tensor1D)).toThrow(/one t \/ T per image/);
    tf.dispose([x, t, a, b, nchw]);
    classifier.dispose();
  });

  it("leaks no tensors across repeated logits, input gradients and training steps", async () => {
    const classifier = new NoisySpriteClassifier({}, 2);
    const x = tf.randomNormal([4, 16, 16, 3], 0, 1, "float32", 2) as tf.Tensor4D;
    const t = tf.tensor1d([0, 0.2, 0.6, 1]);
    const picks = tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), 5) as tf.Tensor2D;
    const real = realSpriteSet();
    const few = Array.from({ length: 16 }, (_, k) => real.split.train[k * 5003]);
    const round = async () => {
      tf.dispose(classifier.logits(x, 0.4));
      tf.dispose(tf.grad(logProbabilityOf(classifier, t, picks))(x));
      const { value, grads } = tf.variableGrads(() => tf.sum(classifier.forward(x, t)) as tf.Scalar, classifier.trainableVariables());
      tf.dispose([value, ...Object.values(grads)]);
      await trainNoisyClassifier(classifier, real.dataset, few, { epochs: 1, batchSize: 8, learningRate: 1e-3, seed: 0 });
    };
    await round(); // warm-up: layers keep a few constant scalars per backend
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await round();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t, picks]);
    classifier.dispose();
  }, 120_000);
});

describe.skipIf(unavailable !== null)(`NoisySpriteClassifier matches its PyTorch twin (${unavailable ?? "torch present"})`, () => {
  type Dump = {
    weights: Record<string, { shape: number[]; data: number[] }>;
    io: { x: number[]; t: number[]; y: number[]; logits: number[]; input_grad: number[]; loss: number; grads: Record<string, number[]>; params: number };
  };
  let dump: Dump;
  let classifier: NoisySpriteClassifier;
  let x: tf.Tensor4D;
  let t: tf.Tensor1D;
  let picks: tf.Tensor2D;

  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), "noisy-classifier-parity-"));
    try {
      execFileSync(PYTHON, [TWIN, "dump", "--out", dir, "--threads", "1"], { stdio: "ignore" });
      dump = { weights: JSON.parse(readFileSync(join(dir, "weights.json"), "utf8")), io: JSON.parse(readFileSync(join(dir, "io.json"), "utf8")) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    classifier = new NoisySpriteClassifier();
    classifier.setWeights(weightsFromTorch(classifier.parameters, dump.weights));
    const n = dump.io.t.length;
    x = tf.tensor4d(dump.io.x, [n, 16, 16, 3]); // the twin takes NHWC too
    t = tf.tensor1d(dump.io.t);
    picks = tf.oneHot(tf.tensor1d(dump.io.y, "int32"), 5) as tf.Tensor2D;
  });

  afterAll(() => {
    classifier?.dispose();
    tf.dispose([x, t, picks]);
  });

  it("has the same logits and input gradient of log p(y | x_t, t)", async () => {
    const logits = classifier.forward(x, t);
    const gradient = tf.grad(logProbabilityOf(classifier, t, picks))(x);
    const errors = { logits: scaledMaxDifference(await logits.data(), dump.io.logits), inputGradient: scaledMaxDifference(await gradient.data(), dump.io.input_grad) };
    console.info(`[noisy-classifier parity] ${tf.getBackend()} logits ${errors.logits.toExponential(2)}, input gradient ${errors.inputGradient.toExponential(2)}`);
    expect(errors.logits).toBeLessThan(1e-4);
    expect(errors.inputGradient).toBeLessThan(1e-4);
    tf.dispose([logits, gradient]);
  });

  it("has the same loss and parameter gradients of the mean cross-entropy", async () => {
    const { value, grads } = tf.variableGrads(() => crossEntropy(classifier.forward(x, t), picks), classifier.trainableVariables());
    expect(Math.abs((await value.data())[0] - dump.io.loss)).toBeLessThan(1e-5);
    let worst = { key: "", error: 0 };
    for (const key of classifier.parameters.keys()) {
      const grad = grads[classifier.parameters.get(key).name];
      const ours = toTorchLayout(classifier.parameters.spec(key).kind, grad.shape, await grad.data());
      const error = scaledMaxDifference(ours, dump.io.grads[key]);
      if (error >= worst.error) worst = { key, error };
      expect(error, key).toBeLessThan(1e-4);
    }
    expect(Object.keys(dump.io.grads).sort()).toEqual(classifier.parameters.keys().sort());
    console.info(`[noisy-classifier parity] ${tf.getBackend()} worst parameter gradient ${worst.key}: ${worst.error.toExponential(2)}`);
    tf.dispose([value, ...Object.values(grads)]);
  });
});

describe("saving and loading", () => {
  const fields: NoisyClassifierFields = {
    classNames: SPRITE_CLASS_NAMES,
    data: { source: "test", generator: "none", fingerprint: "0", count: 0, variantsPerBase: 50 },
    split: { ...CLASSIFIER_SPLIT, groupSize: 50, trainCount: 0, heldOutCount: 0 },
    schedule: { ...COURSE_SCHEDULE_CONFIG },
    training: { config: { epochs: 0, batchSize: 1, learningRate: 0, seed: 0 }, history: [], backend: "cpu", seconds: 0 },
    heldOutAccuracy: { seed: 0, bands: [] },
  };

  it("loads to bit-identical logits, and refuses a damaged, missing or foreign file with a clear error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "noisy-classifier-"));
    const classifier = new NoisySpriteClassifier({}, 7);
    try {
      const saved = await saveNoisyClassifier(dir, classifier, fields);
      expect(saved.parameterCount).toBe(197_861);
      const copy = loadNoisyClassifier(dir);
      expect(copy.manifest.format).toBe("sprite-diffusion-noisy-classifier");
      const x = tf.randomNormal([4, 16, 16, 3], 0, 1, "float32", 3) as tf.Tensor4D;
      const [a, b] = [classifier.logits(x, 0.7), copy.classifier.logits(x, 0.7)];
      expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
      tf.dispose([x, a, b]);
      copy.classifier.dispose();

      const file = join(dir, readNoisyClassifierManifest(dir).tensors.file);
      const bytes = readFileSync(file);
      bytes[100] ^= 1;
      writeFileSync(file, bytes);
      expect(() => loadNoisyClassifier(dir)).toThrow(/does not match the sha256/);
      rmSync(file);
      expect(() => loadNoisyClassifier(dir)).toThrow(/tensor file tensors-.*\.bin is missing/);
      writeFileSync(join(dir, "manifest.json"), JSON.stringify({ format: "sprite-diffusion-classifier", formatVersion: 1 }));
      expect(() => loadNoisyClassifier(dir)).toThrow(/not a sprite-diffusion-noisy-classifier v1 manifest \(format "sprite-diffusion-classifier"/);
      rmSync(join(dir, "manifest.json"));
      expect(() => loadNoisyClassifier(dir)).toThrow(/manifest.json is missing; train one with `npm run train-noisy-classifier`/);
      expect(() => loadNoisyClassifier(join(dir, "nowhere"))).toThrow(/nowhere does not exist; train one with `npm run train-noisy-classifier`/);
    } finally {
      classifier.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("training on noised sprites", () => {
  it("draws t uniformly from 0..T (clean sprites included) and repeats its draws from the seed", async () => {
    const a = noisyClassifierDraws(3, 500, 7, [4000, 1, 1, 1]);
    const b = noisyClassifierDraws(3, 500, 7, [4000, 1, 1, 1]);
    const c = noisyClassifierDraws(3, 500, 8, [4000, 1, 1, 1]);
    expect(Array.from(b.t)).toEqual(Array.from(a.t));
    expect(Array.from(await b.noise.data())).toEqual(Array.from(await a.noise.data()));
    expect(Array.from(c.t)).not.toEqual(Array.from(a.t));
    expect(Math.min(...a.t)).toBe(0);
    expect(Math.max(...a.t)).toBe(500);
    expect(a.t.reduce((s, v) => s + v, 0) / a.t.length).toBeGreaterThan(240);
    expect(a.t.reduce((s, v) => s + v, 0) / a.t.length).toBeLessThan(260);
    tf.dispose([a.noise, b.noise, c.noise]);
  });

  it("lowers the loss on a few hundred sprites", async () => {
    const real = realSpriteSet();
    const indices = Array.from({ length: 300 }, (_, k) => real.split.train[k * 263]);
    const classifier = new NoisySpriteClassifier({}, 1);
    const history = await trainNoisyClassifier(classifier, real.dataset, indices, { epochs: 8, batchSize: 50, learningRate: 3e-3, seed: 1 });
    expect(history.map((h) => h.epoch)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    console.info(`[noisy-classifier training] mean loss per epoch ${history.map((h) => h.meanLoss.toFixed(3)).join(", ")}`);
    // Chance is log 5 = 1.61; the noisiest steps keep the loss well above 0.
    expect(history[0].meanLoss).toBeGreaterThan(1.2);
    expect(history[7].meanLoss).toBeLessThan(0.8 * history[0].meanLoss);
    classifier.dispose();
  }, 300_000);
});

describe("accuracyPerTBand", () => {
  /**
   * Knows the answer by construction, for all-zero clean images: x_t = sqrt(1 - alphaBar_t) eps,
   * so the pixels' standard deviation says the noise level. It answers `target` only when that
   * matches the t it is told (the image was noised at that t) and t lies in `steps`; else 0.
   */
  const oracle = (target: number, steps: { from: number; to: number }): TimeConditionedClassifier => ({
    forward: (x, tFraction) =>
      tf.tidy(() => {
        const n = x.shape[0];
        const stds = tf.sqrt(tf.moments(tf.reshape(x, [n, -1]), 1).variance).dataSync();
        const ts = tFraction.dataSync();
        const rows = Array.from({ length: n }, (_, i) => {
          const t = Math.round(ts[i] * courseSchedule.T);
          const sigma = courseSchedule.sqrtOneMinusAlphaBar[t];
          const consistent = Math.abs(stds[i] - sigma) < 0.02 + 0.15 * sigma;
          return consistent && t >= steps.from && t <= steps.to ? target : 0;
        });
        return tf.oneHot(tf.tensor1d(rows, "int32"), 5).toFloat() as tf.Tensor2D;
      }),
  });

  it("noises each sprite at a t inside each band, tells the classifier that t, and counts right answers", async () => {
    const images = tf.zeros([300, 16, 16, 3]) as tf.Tensor4D;
    const classes = new Array<number>(300).fill(3);
    const inBand = await accuracyPerTBand(oracle(3, { from: 0, to: 500 }), { images, classes }, undefined, 5, courseSchedule, 128);
    expect(inBand.map((b) => [b.from, b.to, b.count, b.accuracy])).toEqual([
      [0, 99, 300, 1],
      [100, 199, 300, 1],
      [200, 299, 300, 1],
      [300, 399, 300, 1],
      [400, 500, 300, 1],
    ]);
    // Right only for t in 200..249: all of band 200-299's lower half, none of the others.
    const half = await accuracyPerTBand(oracle(3, { from: 200, to: 249 }), { images, classes }, undefined, 5, courseSchedule, 128);
    expect(half.map((b) => b.accuracy).filter((_, i) => i !== 2)).toEqual([0, 0, 0, 0]);
    expect(half[2].accuracy).toBeGreaterThan(0.4);
    expect(half[2].accuracy).toBeLessThan(0.6);
    // Class 2 sprites are never right against an oracle that answers 3.
    const wrong = await accuracyPerTBand(oracle(3, { from: 0, to: 500 }), { images, classes: classes.map(() => 2) }, [{ from: 0, to: 0 }], 5);
    expect(wrong).toEqual([{ from: 0, to: 0, count: 300, accuracy: 0 }]);
    // The same seed gives the same draws.
    const again = await accuracyPerTBand(oracle(3, { from: 200, to: 249 }), { images, classes }, undefined, 5, courseSchedule, 128);
    expect(again).toEqual(half);
    await expect(accuracyPerTBand(oracle(3, { from: 0, to: 500 }), { images, classes }, [{ from: 400, to: 600 }])).rejects.toThrow(/400\.\.600 is not a range of steps within 0\.\.500/);
    images.dispose();
  });
});
