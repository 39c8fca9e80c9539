/**
 * The text-conditioned UNet: one store over encoder and UNet, gradients through the caption,
 * caption dropout and guidance's "none" as the empty caption, training with the real Trainer,
 * checkpoints that rebuild it with its tokenizer, and tensor hygiene. Tiny sizes: seconds on cpu.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withClassifierFreeGuidance } from "../../src/lib/guidance/classifierFreeGuidance";
import { architectureOf, buildModel, resolveArchitecture } from "../../src/lib/model/architecture";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { discardStatUpdates } from "../../src/lib/model/layers";
import { MANIFEST_FILE } from "../../src/lib/train/checkpoint";
import { resolveTrainConfig } from "../../src/lib/train/config";
import { Trainer, type TrainingData, trainingDraws } from "../../src/lib/train/trainer";
import { loadModel, loadNoiseModel, resumeTraining, saveTrainingCheckpoint } from "../../src/lib/train/trainingCheckpoint";
import { CaptionEncoder } from "../../src/lib/text/captionEncoder";
import { TextContextUnet, type TextContextUnetOptions, resolveTextContextUnetConfig } from "../../src/lib/text/textContextUnet";
import { useTestBackend } from "../helpers/backends";

const VOCABULARY = ["a", "bat", "crown", "green", "red", "slime", "with"];
const TINY: TextContextUnetOptions = {
  vocabulary: VOCABULARY,
  encoder: { maxTokens: 6, embeddingWidth: 8, hiddenWidth: 12, contextSize: 5 },
  unet: { nFeat: 8, height: 8 },
};
const CAPTIONS = ["a green slime", "a red bat", "a red slime with a crown", "green bat"];
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

const dir = mkdtempSync(join(tmpdir(), "text-context-unet-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await useTestBackend();
});

describe("TextContextUnet", () => {
  it("is the encoder and the UNet under one store: encoder.* and unet.* keys, both counts, nContext = contextSize", async () => {
    const model = new TextContextUnet(TINY, 1);
    const encoder = new CaptionEncoder(model.config.encoder);
    const unet = new ContextUnet(model.config.unet);
    expect(model.config.encoder).toEqual({ vocabularySize: 9, maxTokens: 6, embeddingWidth: 8, hiddenWidth: 12, contextSize: 5 });
    expect(model.config.unet.nContext).toBe(5);
    expect([model.contextSize, model.imageShape, model.learnsVariance]).toEqual([6, [8, 8, 3], false]);
    expect(model.parameters.keys()).toEqual([...encoder.parameters.keys().map((k) => `encoder.${k}`), ...unet.parameters.keys().map((k) => `unet.${k}`)]);
    expect(model.parameterCount).toBe(encoder.parameterCount + unet.parameterCount);
    expect(model.trainableVariables().length).toBe(encoder.trainableVariables().length + unet.trainableVariables().length);
    // Its UNet starts as a ContextUnet of the same seed would.
    const sameSeed = new ContextUnet(model.config.unet, 1);
    expect((await model.unet.getWeights())["down1.model.0.conv1.0.weight"]).toEqual((await sameSeed.getWeights())["down1.model.0.conv1.0.weight"]);
    // Weights by the prefixed keys, both ways.
    const weights = await model.getWeights();
    weights["encoder.mlp.2.bias"].data = Float32Array.from([1, 2, 3, 4, 5]);
    model.setWeights(weights);
    expect(Array.from(model.encoder.parameters.get("mlp.2.bias").dataSync())).toEqual([1, 2, 3, 4, 5]);
    expect(() => model.setWeights({ ...weights, "encoder.extra": weights["encoder.mlp.2.bias"] })).toThrow('unexpected weight "encoder.extra"');
    expect(() => model.parameters.create({ key: "extra", shape: [1], kind: "zeros", trainable: true }, 0)).toThrow("is a composite view of other stores");
    [encoder, unet, sameSeed].forEach((m) => m.dispose());
    model.dispose();
  });

  it("checks its configuration: sizes the parts share must agree, and the vocabulary must be words", () => {
    expect(() => resolveTextContextUnetConfig({ ...TINY, unet: { nContext: 5 + 1 } })).toThrow("unet.nContext is 6, but the UNet's context is the encoder's output, encoder.contextSize = 5");
    expect(() => resolveTextContextUnetConfig({ ...TINY, encoder: { vocabularySize: 100 } })).toThrow("encoder.vocabularySize is 100, but the vocabulary's 7 words and <pad>, <unk> make 9 ids");
    expect(() => new TextContextUnet({ vocabulary: ["ice cream"] })).toThrow('"ice cream" is not one lower-case word');
    expect(resolveTextContextUnetConfig({ vocabulary: VOCABULARY }).encoder).toEqual({ vocabularySize: 9, maxTokens: 16, embeddingWidth: 64, hiddenWidth: 128, contextSize: 32 });
  });

  it("sends the loss's gradient through the caption to every encoder weight and every UNet weight", () => {
    const model = new TextContextUnet(TINY, 2);
    tf.tidy(() => {
      const x = tf.randomNormal([4, 8, 8, 3], 0, 1, "float32", 3) as tf.Tensor4D;
      const ids = model.captionContexts(CAPTIONS);
      const { grads } = tf.variableGrads(() => {
        const { predNoise, statUpdates } = model.forwardTraining(x, tf.tensor1d([0.1, 0.4, 0.7, 1]), ids);
        discardStatUpdates(statUpdates);
        return tf.mean(tf.square(predNoise)) as tf.Scalar;
      }, model.trainableVariables());
      for (const key of model.parameters.keys().filter((k) => model.parameters.spec(k).trainable)) {
        const g = grads[model.parameters.get(key).name];
        expect(g, key).toBeDefined();
        expect(tf.max(tf.abs(g)).dataSync()[0], key).toBeGreaterThan(0);
      }
    });
    model.dispose();
  });

  it("reads a zeroed context row (the trainer's caption dropout, guidance's none) and null as the empty caption", () => {
    const model = new TextContextUnet(TINY, 3);
    tf.tidy(() => {
      const n = 16;
      const captions = Array.from({ length: n }, (_, i) => CAPTIONS[i % CAPTIONS.length]);
      const labels = model.captionContexts(captions);
      const x = tf.randomNormal([n, 8, 8, 3], 0, 1, "float32", 4) as tf.Tensor4D;
      const config = resolveTrainConfig({ useContext: true, contextDropout: 0.5, seed: 1 });
      const { context } = trainingDraws(config, 500, 0, labels, x.shape);
      const dropped = (context!.arraySync() as number[][]).map((row) => row.every((id) => id === 0));
      expect(dropped.filter(Boolean).length).toBeGreaterThan(0);
      expect(dropped.filter((d) => !d).length).toBeGreaterThan(0);
      const withDropout = model.predictNoise(x, 0.5, context);
      const asCaptions = model.predictNoise(x, 0.5, model.captionContexts(captions.map((c, i) => (dropped[i] ? "" : c))));
      expect(maxDiff(withDropout, asCaptions)).toBe(0);
      const empty = model.predictNoise(x, 0.5, model.captionContexts(new Array(n).fill("")));
      expect(maxDiff(model.predictNoise(x, 0.5, null), empty)).toBe(0);
      expect(maxDiff(model.predictNoise(x, 0.5, labels), empty)).toBeGreaterThan(0);
      // Classifier-free guidance at w = 1: 2 eps(x, caption) - eps(x, "").
      const guided = withClassifierFreeGuidance(model, 1).predictNoise(x, 0.5, labels);
      expect(maxDiff(guided, tf.sub(tf.mul(model.predictNoise(x, 0.5, labels), 2), empty))).toBeLessThan(1e-4);
    });
    model.dispose();
  });

  it("says what its context should be, naming unknown words", () => {
    const model = new TextContextUnet(TINY, 4);
    const x = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
    const oneHot = tf.zeros([2, 5]) as tf.Tensor2D;
    expect(() => model.predictNoise(x, 0.5, oneHot)).toThrow("TextContextUnet: context has shape [2,5], expected [2, 6]: one row of 6 token ids per image (model.captionContexts(captions)");
    expect(() => model.captionContexts(["a blue slime"])).toThrow('unknown word "blue"');
    tf.dispose([x, oneHot]);
    model.dispose();
  });

  it("leaves no tensors behind in prediction and training, and frees every variable on dispose", () => {
    const start = tf.memory().numTensors;
    const model = new TextContextUnet(TINY, 5);
    const x = tf.randomNormal([4, 8, 8, 3], 0, 1, "float32", 6) as tf.Tensor4D;
    const ids = model.captionContexts(CAPTIONS);
    const round = () => {
      model.predictNoise(x, 0.3, ids).dispose();
      model.predictNoise(x, 0.3, null).dispose();
      const { value, grads } = tf.variableGrads(() => {
        const { predNoise, statUpdates } = model.forwardTraining(x, 0.3, ids);
        discardStatUpdates(statUpdates);
        return tf.mean(tf.square(predNoise)) as tf.Scalar;
      }, model.trainableVariables());
      tf.dispose([value, ...Object.values(grads)]);
    };
    round();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) round();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ids]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe("TextContextUnet checkpoints", () => {
  /** 8 images with a caption each; the labels are the captions' token ids. */
  function captionedData(model: TextContextUnet): TrainingData & { dispose(): void } {
    const images = tf.randomUniform([8, 8, 8, 3], -1, 1, "float32", 7) as tf.Tensor4D;
    const ids = model.captionContexts(Array.from({ length: 8 }, (_, i) => CAPTIONS[i % CAPTIONS.length]));
    return {
      count: 8,
      batch: (indices) => tf.tidy(() => {
        const at = tf.tensor1d(indices, "int32");
        return { images: tf.gather(images, at) as tf.Tensor4D, labels: tf.gather(ids, at) as tf.Tensor2D };
      }),
      dispose: () => tf.dispose([images, ids]),
    };
  }
  const RUN = { epochs: 2, batchSize: 4, useContext: true, contextDropout: 0.25, emaDecay: 0.9, seed: 3 };
  const DATA_INFO = { fingerprint: "tiny captions", count: 8, source: "a test" };

  it("trains one epoch, saves, and loads back the same model and tokenizer: identical predictions; resuming works", async () => {
    const model = new TextContextUnet(TINY, 6);
    const data = captionedData(model);
    const trainer = new Trainer(model, data, { ...RUN, epochs: 2 });
    let stopAfterOne = false;
    await trainer.run({ onEpoch: () => void (stopAfterOne = true), shouldStop: () => stopAfterOne });
    const folder = join(dir, "text");
    const manifest = await saveTrainingCheckpoint(folder, trainer, DATA_INFO);
    expect(manifest.architecture.name).toBe("TextContextUnet");
    const recorded = JSON.parse(readFileSync(join(folder, MANIFEST_FILE), "utf8")).architecture;
    expect(recorded.config.vocabulary).toEqual(VOCABULARY);
    expect(recorded.parameterCount).toBe(model.parameterCount);

    const loaded = loadNoiseModel(folder, { weights: "raw" });
    expect(loaded.model).toBeInstanceOf(TextContextUnet);
    const back = loaded.model as TextContextUnet;
    expect(back.tokenizer.words).toEqual(model.tokenizer.words);
    expect(architectureOf(back)).toEqual(architectureOf(model));
    tf.tidy(() => {
      const x = tf.randomNormal([4, 8, 8, 3], 0, 1, "float32", 8) as tf.Tensor4D;
      expect(maxDiff(back.predictNoise(x, 0.4, back.captionContexts(CAPTIONS)), model.predictNoise(x, 0.4, model.captionContexts(CAPTIONS)))).toBe(0);
    });
    back.dispose();
    const ema = loadNoiseModel(folder);
    expect(ema.weights).toBe("ema");
    ema.model.dispose();
    // A loader that needs the course's ContextUnet says what it got.
    expect(() => loadModel(folder)).toThrow("holds a TextContextUnet, and this needs a ContextUnet");

    // Resume into a fresh trainer: same weights and position, then the second epoch trains.
    const fresh = new TextContextUnet(TINY, 99);
    const freshData = captionedData(fresh);
    const resumed = new Trainer(fresh, freshData, { ...RUN, epochs: 2 });
    resumeTraining(folder, resumed, DATA_INFO);
    expect(resumed.position).toEqual(trainer.position);
    expect(await fresh.getWeights()).toEqual(await model.getWeights());
    const other = new Trainer(new TextContextUnet({ ...TINY, vocabulary: [...VOCABULARY, "zebra"] }, 0), freshData, { ...RUN, epochs: 2 });
    expect(() => resumeTraining(folder, other, DATA_INFO)).toThrow(/architecture\.config\.vocabulary\.7: checkpoint undefined, expected "zebra"/);
    other.model.dispose();
    other.dispose();
    await resumed.run();
    expect(resumed.position.epoch).toBe(2);
    [trainer, resumed].forEach((t) => t.dispose());
    [model, fresh].forEach((m) => m.dispose());
    [data, freshData].forEach((d) => d.dispose());
  });

  it("keeps reading the other architectures' records, old ContextUnet ones included, and names all three when it meets another", () => {
    const old = resolveArchitecture({ name: "ContextUnet", config: { inChannels: 3, nFeat: 64, nContext: 5, height: 16 } }, "old/manifest.json");
    expect(old).toEqual({ name: "ContextUnet", config: { inChannels: 3, nFeat: 64, nContext: 5, height: 16, outChannels: 3 } });
    const text = resolveArchitecture({ name: "TextContextUnet", config: JSON.parse(JSON.stringify(resolveTextContextUnetConfig(TINY))) }, "m.json");
    const built = buildModel(text);
    expect(built).toBeInstanceOf(TextContextUnet);
    built.dispose();
    expect(() => resolveArchitecture({ name: "TextContextUnet", config: { vocabulary: ["a", "a"] } }, "m.json")).toThrow('m.json: WordTokenizer: the vocabulary has bad entries: "a" is listed twice');
    expect(() => resolveArchitecture({ name: "DiT", config: {} }, "m.json")).toThrow('m.json: architecture "DiT" is unknown to this library (it builds ContextUnet, AttentionUnet and TextContextUnet)');
  });
});
