import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpriteClassifier } from "../../src/lib/metrics/classifier";
import { loadClassifier, readClassifierManifest, saveClassifier } from "../../src/lib/metrics/classifierFile";
import { crossEntropy, scoreClassifier, trainClassifier } from "../../src/lib/metrics/classifierTraining";
import { CLASSIFIER_SPLIT, projectPath, realSpriteSet } from "../../src/lib/metrics/realSprites";
import { useTestBackend } from "../helpers/backends";

let shipped: ReturnType<typeof loadClassifier>;
beforeAll(async () => {
  await useTestBackend();
  shipped = loadClassifier();
});
afterAll(() => shipped?.classifier.dispose());

describe("the held-out split", () => {
  it("keeps every base sprite (its 50 consecutive variants) on one side", () => {
    const { split, variantsPerBase, dataset } = realSpriteSet();
    expect(split.train.length + split.heldOut.length).toBe(dataset.count);
    const heldBases = new Set(Array.from(split.heldOut, (i) => Math.floor(i / variantsPerBase)));
    const trainBases = new Set(Array.from(split.train, (i) => Math.floor(i / variantsPerBase)));
    expect([...heldBases].filter((b) => trainBases.has(b))).toEqual([]);
    expect(heldBases.size).toBe(Math.round(CLASSIFIER_SPLIT.heldOut * Math.ceil(dataset.count / variantsPerBase)));
  });
});

describe("the shipped classifier (models/classifier)", () => {
  it("was trained on the project's sprite set with the split used here, and is small", () => {
    const { manifest } = shipped;
    const real = realSpriteSet();
    expect(manifest.split).toMatchObject({ ...CLASSIFIER_SPLIT, groupSize: real.variantsPerBase, heldOutCount: real.split.heldOut.length });
    if (manifest.data.fingerprint !== real.fingerprint) {
      throw new Error(`models/classifier was trained on sprite data ${manifest.data.fingerprint}, the project's set is now ${real.fingerprint}: retrain it with \`npm run train-classifier\`.`);
    }
    expect(statSync(join(projectPath("models/classifier"), manifest.tensors.file)).size).toBeLessThan(500_000);
  });

  it("classifies at least 98 % of the held-out sprites right, with the recorded confusion matrix", async () => {
    const real = realSpriteSet();
    const score = await scoreClassifier(shipped.classifier, real.dataset, real.split.heldOut, 500);
    console.log(`held-out accuracy ${(100 * score.accuracy).toFixed(2)} %, confusion ${JSON.stringify(score.confusion)}`);
    expect(score.accuracy).toBeGreaterThanOrEqual(0.98);
    for (const recall of score.perClassAccuracy) expect(recall).toBeGreaterThanOrEqual(0.95);
    const perClass = new Array(5).fill(0);
    for (const i of real.split.heldOut) perClass[real.dataset.classes[i]]++;
    expect(score.confusion.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(perClass);
    // The manifest's score was measured on the native backend; cpu may flip a borderline sprite or two.
    expect(Math.abs(score.accuracy - shipped.manifest.heldOutScore.accuracy)).toBeLessThan(0.002);
  }, 600_000);
});

describe("SpriteClassifier", () => {
  it("has the documented shapes and says when the input is NCHW", () => {
    const classifier = new SpriteClassifier({}, 1);
    const x = tf.zeros([2, 16, 16, 3]) as tf.Tensor4D;
    const { features, logits } = classifier.forward(x);
    expect(features.shape).toEqual([2, 64]);
    expect(logits.shape).toEqual([2, 5]);
    const nchw = tf.zeros([2, 3, 16, 16]) as tf.Tensor4D;
    expect(() => classifier.forward(nchw)).toThrow(/shape \[2,3,16,16\].*looks NCHW/);
    tf.dispose([x, nchw, features, logits]);
    classifier.dispose();
  });

  it("computes cross-entropy as -mean log softmax of the true class", async () => {
    const logits = tf.tensor2d([[2, 0, 0, 0, 0], [0, 0, 0, 0, 0]]);
    const labels = tf.tensor2d([[1, 0, 0, 0, 0], [0, 0, 1, 0, 0]]);
    const expected = (-Math.log(Math.exp(2) / (Math.exp(2) + 4)) - Math.log(1 / 5)) / 2;
    const loss = crossEntropy(logits, labels);
    expect((await loss.data())[0]).toBeCloseTo(expected, 5);
    tf.dispose([logits, labels, loss]);
  });

  it("learns from a few batches (loss falls) and leaks no tensors while training", async () => {
    const real = realSpriteSet();
    const indices = Array.from({ length: 60 }, (_, k) => real.split.train[k * 1301]);
    // A narrow classifier: this checks the loop, not the architecture (the cpu backend is slow to train).
    const classifier = new SpriteClassifier({ channels: [8, 8, 8], featureSize: 16 }, 5);
    const before = tf.memory().numTensors;
    const history = await trainClassifier(classifier, real.dataset, indices, { epochs: 6, batchSize: 20, learningRate: 1e-2, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(history.map((h) => h.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(history[5].meanLoss).toBeLessThan(0.5 * history[0].meanLoss);
    classifier.dispose();
  }, 300_000);

  it("saves and loads to the same outputs, and refuses a damaged weight file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "classifier-"));
    try {
      await saveClassifier(dir, shipped.classifier, { ...shipped.manifest });
      const copy = loadClassifier(dir);
      const x = tf.randomUniform([4, 16, 16, 3], -1, 1, "float32", 2) as tf.Tensor4D;
      const [a, b] = [shipped.classifier.logits(x), copy.classifier.logits(x)];
      expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
      tf.dispose([x, a, b]);
      copy.classifier.dispose();
      const file = join(dir, readClassifierManifest(dir).tensors.file);
      const bytes = readFileSync(file);
      bytes[100] ^= 1;
      writeFileSync(file, bytes);
      expect(() => loadClassifier(dir)).toThrow(/does not match the sha256/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaks no tensors in inference", () => {
    const x = tf.randomUniform([3, 16, 16, 3], -1, 1, "float32", 3) as tf.Tensor4D;
    tf.dispose([shipped.classifier.logits(x), shipped.classifier.features(x)]);
    const before = tf.memory().numTensors;
    const out = shipped.classifier.forward(x);
    tf.dispose([out.features, out.logits]);
    tf.dispose([shipped.classifier.logits(x), shipped.classifier.features(x)]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
