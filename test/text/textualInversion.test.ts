/**
 * Textual inversion: the extended model (one new id, one new row, everything else copied bit for
 * bit), the optimisation of that row alone (every other weight bit-identical after it, the loss
 * on the examples down, the same row from the same seed), the extended checkpoint loaded back with
 * the word usable in prompts, the errors, the held-out examples, and tensor hygiene. Tiny sizes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { courseSchedule } from "../../src/lib/diffusion/schedule";
import { ContextUnet } from "../../src/lib/model/contextUnet";
import { commitStatUpdates } from "../../src/lib/model/layers";
import type { WeightMap } from "../../src/lib/model/parameters";
import { SPRITE_KINDS, possibleCaptionWords } from "../../src/lib/data/sprites/captions";
import { HELD_OUT_KINDS, heldOutSprites } from "../../src/lib/data/sprites/heldOut";
import { saveCheckpoint } from "../../src/lib/train/checkpoint";
import { loadNoiseModel } from "../../src/lib/train/trainingCheckpoint";
import { INVERSION_LOG_FILE, examplesFromNpy, loadTextModel, saveInversion } from "../../src/lib/text/inversionFiles";
import { TextContextUnet, type TextContextUnetOptions } from "../../src/lib/text/textContextUnet";
import { exampleTemplates } from "../../src/lib/text/inversionTemplates";
import { extendVocabulary, invertToken } from "../../src/lib/text/textualInversion";
import { parseInvertArgs } from "../../src/cli/invert";
import { useTestBackend } from "../helpers/backends";

const VOCABULARY = ["a", "bat", "crown", "green", "red", "slime", "with", "shield", "monster", "front"];
const TINY: TextContextUnetOptions = {
  vocabulary: VOCABULARY,
  encoder: { maxTokens: 10, embeddingWidth: 8, hiddenWidth: 12, contextSize: 5 },
  unet: { nFeat: 8, height: 8 },
};
const EMBEDDING = "encoder.token_embedding.weight";
const TOKEN = "<robot>";

const dir = mkdtempSync(join(tmpdir(), "textual-inversion-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await useTestBackend();
});

/** Three 8x8 "examples": the first held-out robots' top-left corners, in [-1, 1]. */
function tinyExamples(): tf.Tensor4D {
  const { images } = heldOutSprites({ count: 3, seed: 1 });
  return tf.tidy(() => tf.slice(tf.sub(tf.div(tf.tensor4d(images, [3, 16, 16, 3], "float32"), 127.5), 1), [0, 4, 4, 0], [3, 8, 8, 3]) as tf.Tensor4D);
}

/**
 * A tiny model whose prediction depends on its caption as a trained one's does. Fresh, it hardly
 * does: BatchNorm's running statistics (mean 0, variance 1) shrink the activations some tenfold a
 * block, so the context moves eps by about 1e-4 of its size. Its statistics are calibrated on 30
 * batches in training mode (the running averages only, no weight trained), and the encoder's
 * output layer is scaled up so that captions differ as much as a trained encoder's contexts do.
 */
async function captionSensitiveModel(seed: number): Promise<TextContextUnet> {
  const model = new TextContextUnet(TINY, seed);
  const weights = await model.getWeights();
  for (const key of ["encoder.mlp.2.weight", "encoder.mlp.2.bias"]) weights[key].data = weights[key].data.map((v) => 4 * v);
  model.setWeights(weights);
  for (let i = 0; i < 30; i++) {
    const statUpdates = tf.tidy(() => {
      const x = tf.randomNormal([8, 8, 8, 3], 0, 1, "float32", seed * 100 + i) as tf.Tensor4D;
      const captions = Array.from({ length: 8 }, (_, k) => VOCABULARY.slice(k % 5, (k % 5) + 3).join(" "));
      const out = model.forwardTraining(x, tf.randomUniform([8], 0, 1, "float32", i) as tf.Tensor1D, model.captionContexts(captions));
      return out.statUpdates;
    });
    commitStatUpdates(statUpdates);
  }
  return model;
}

/** Weights equal as bytes (so -0 and 0, or two NaNs, would count as different). */
function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Every weight of `after` byte-equal to `before`'s but the embedding, whose first rows must be too; returns the embedding's last row. */
function expectOnlyNewRowDiffers(before: WeightMap, after: WeightMap): Float32Array {
  const keys = Object.keys(before);
  expect(Object.keys(after).sort()).toEqual(keys.sort());
  for (const key of keys.filter((k) => k !== EMBEDDING)) expect(sameBytes(before[key].data, after[key].data), key).toBe(true);
  const [V, E] = before[EMBEDDING].shape;
  expect(after[EMBEDDING].shape).toEqual([V + 1, E]);
  expect(sameBytes(before[EMBEDDING].data, after[EMBEDDING].data.subarray(0, V * E)), "the old rows").toBe(true);
  return after[EMBEDDING].data.slice(V * E);
}

describe("extendVocabulary", () => {
  it("appends the word as a new id with one new row (an init word's, or the word rows' mean), every other weight copied bit for bit", async () => {
    const model = new TextContextUnet(TINY, 1);
    const before = await model.getWeights();
    const [V, E] = before[EMBEDDING].shape;
    const extended = await extendVocabulary(model, TOKEN, "slime");
    expect(extended.tokenizer.words).toEqual([...VOCABULARY, TOKEN]);
    expect(Array.from(extended.tokenizer.encode(`a red ${TOKEN}`, 10).slice(0, 3))).toEqual([2, 6, V]);
    const slimeRow = before[EMBEDDING].data.slice((2 + VOCABULARY.indexOf("slime")) * E, (3 + VOCABULARY.indexOf("slime")) * E);
    expect(sameBytes(expectOnlyNewRowDiffers(before, await extended.getWeights()), slimeRow)).toBe(true);
    const byMean = await extendVocabulary(model, TOKEN);
    const mean = expectOnlyNewRowDiffers(before, await byMean.getWeights());
    const e = 3;
    const expected = VOCABULARY.reduce((sum, _, i) => sum + before[EMBEDDING].data[(2 + i) * E + e], 0) / VOCABULARY.length;
    expect(mean[e]).toBeCloseTo(expected, 5);
    // The old model is untouched and still refuses the word.
    expect(sameBytes((await model.getWeights())[EMBEDDING].data, before[EMBEDDING].data)).toBe(true);
    expect(() => model.captionContexts([`a ${TOKEN}`])).toThrow('unknown word "<robot>"');
    [model, extended, byMean].forEach((m) => m.dispose());
  });

  it("refuses a word the vocabulary has, one that is not one token, and an unknown init word", async () => {
    const model = new TextContextUnet(TINY, 2);
    await expect(extendVocabulary(model, "slime")).rejects.toThrow('"slime" is already in the model\'s vocabulary (id 7); inversion learns a word the model lacks');
    await expect(extendVocabulary(model, "new robot")).rejects.toThrow('the new word must be one token');
    await expect(extendVocabulary(model, TOKEN, "dragon")).rejects.toThrow('the init word "dragon" is not in the model\'s vocabulary of 10 words');
    model.dispose();
  });
});

describe("invertToken", () => {
  it("trains only the new row: every other weight bit-identical, the loss on the examples down, the same row from the same seed, no tensors left", async () => {
    const model = await captionSensitiveModel(3);
    const examples = tinyExamples();
    const before = await model.getWeights();
    const reports: number[] = [];
    const options = { token: TOKEN, steps: 30, batchSize: 8, learningRate: 0.2, seed: 4, progressEvery: 15, evaluationDraws: 32, onProgress: (p: { step: number }) => void reports.push(p.step) };
    const result = await invertToken(model, courseSchedule, examples, options);
    expect(result.tokenId).toBe(VOCABULARY.length + 2);
    expect([result.steps, result.exampleCount, result.losses.length, reports]).toEqual([30, 3, 2, [15, 30]]);
    const initial = await extendVocabulary(model, TOKEN);
    const learnt = expectOnlyNewRowDiffers(before, await result.model.getWeights());
    const started = expectOnlyNewRowDiffers(before, await initial.getWeights());
    expect(sameBytes(learnt, started)).toBe(false);
    // The model it started from: unchanged, bit for bit.
    expect(Object.entries(await model.getWeights()).every(([key, w]) => sameBytes(w.data, before[key].data))).toBe(true);
    console.info(`[tests] textual inversion, tiny model: L_simple ${result.evaluationLoss.before} -> ${result.evaluationLoss.after}; per 15 steps ${result.losses}`);
    expect(result.evaluationLoss.after).toBeLessThan(result.evaluationLoss.before);
    initial.dispose();
    // Run again (the first run warmed the layers' cached constants up): the same row, and nothing left but the model it returns.
    const start = tf.memory().numTensors;
    const again = await invertToken(model, courseSchedule, examples, options);
    expect(sameBytes(expectOnlyNewRowDiffers(before, await again.model.getWeights()), learnt)).toBe(true);
    again.model.dispose();
    expect(tf.memory().numTensors).toBe(start);
    result.model.dispose();
    examples.dispose();
    model.dispose();
  });

  it("draws per-example captions from the generator's templates, and stops when the progress callback says so", async () => {
    const model = new TextContextUnet(TINY, 5);
    const examples = tinyExamples();
    const templates = [["a red {token} with a shield", "red {token} monster, front"], ["a green <robot>"], ["{token}"]];
    const result = await invertToken(model, courseSchedule, examples, { token: TOKEN, templates, steps: 50, batchSize: 4, progressEvery: 5, onProgress: (p) => (p.step >= 10 ? "stop" : undefined) });
    expect(result.steps).toBe(10);
    result.model.dispose();
    const robot = heldOutSprites({ count: 1, seed: 0 }).attributes[0];
    expect(exampleTemplates(robot, TOKEN)[0]).toBe(`a ${robot.colours[0]} ${TOKEN}`);
    examples.dispose();
    model.dispose();
  });

  it("says what is wrong: an existing word, examples of the wrong shape or range, templates without the word or with unknown words", async () => {
    const model = new TextContextUnet(TINY, 6);
    const examples = tinyExamples();
    const start = tf.memory().numTensors;
    const run = (x: tf.Tensor4D, more: object = {}) => invertToken(model, courseSchedule, x, { token: TOKEN, steps: 1, ...more });
    await expect(run(examples, { token: "bat" })).rejects.toThrow('"bat" is already in the model\'s vocabulary');
    const wide = tf.zeros([2, 16, 16, 3]) as tf.Tensor4D;
    await expect(run(wide)).rejects.toThrow("the examples have shape [2,16,16,3], expected [K, 8, 8, 3]");
    const bright = tf.fill([2, 8, 8, 3], 2) as tf.Tensor4D;
    await expect(run(bright)).rejects.toThrow("the examples' values span [2, 2]; they must be in [-1, 1]");
    await expect(run(examples, { templates: ["a red slime"] })).rejects.toThrow('each must use the new word (write {token} or <robot>); these do not: "a red slime"');
    await expect(run(examples, { templates: ["a blue {token}"] })).rejects.toThrow('unknown word "blue"');
    await expect(run(examples, { templates: [["a {token}"]] })).rejects.toThrow("1 template lists for 3 examples");
    tf.dispose([wide, bright]);
    expect(tf.memory().numTensors).toBe(start);
    examples.dispose();
    model.dispose();
  });
});

describe("inversion files", () => {
  it("writes a checkpoint that loads as a TextContextUnet whose prompts use the new word, with the log beside it", async () => {
    const model = new TextContextUnet(TINY, 7);
    const source = join(dir, "text");
    saveCheckpoint(source, { libraryVersion: "test", architecture: { name: "TextContextUnet", config: model.config, parameterCount: model.parameterCount }, schedule: { ...courseSchedule.config }, training: null, data: null, backend: tf.getBackend() }, { model: await model.getWeights() });
    model.dispose();
    const loaded = loadTextModel(source);
    const examples = tinyExamples();
    const result = await invertToken(loaded.model, loaded.schedule, examples, { token: TOKEN, steps: 3, batchSize: 2 });
    const out = join(dir, "inverted");
    const log = await saveInversion(out, result, loaded, { checkpoint: source, examples: "tiny.npy", options: { steps: 3 } });
    expect(JSON.parse(readFileSync(join(out, INVERSION_LOG_FILE), "utf8"))).toEqual(log);
    expect([log.token, log.tokenId, log.steps, log.source.exampleCount]).toEqual([TOKEN, 12, 3, 3]);
    const back = loadNoiseModel(out);
    expect(back.model).toBeInstanceOf(TextContextUnet);
    const text = back.model as TextContextUnet;
    expect(back.manifest.data?.source).toContain("new word <robot> = id 12");
    const weights = await result.model.getWeights();
    expect(Object.entries(await text.getWeights()).every(([key, w]) => sameBytes(w.data, weights[key].data))).toBe(true);
    tf.tidy(() => {
      const x = tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 8) as tf.Tensor4D;
      const prompts = [`a red ${TOKEN} with a shield`, TOKEN];
      const ids = text.captionContexts(prompts);
      expect(Array.from(ids.dataSync().slice(10, 11))).toEqual([12]);
      expect(text.predictNoise(x, 0.5, ids).sub(result.model.predictNoise(x, 0.5, result.model.captionContexts(prompts))).abs().max().dataSync()[0]).toBe(0);
    });
    [loaded.model, result.model, back.model].forEach((m) => m.dispose());
    examples.dispose();
  });

  it("refuses a checkpoint that is not a text model, saying what it holds", async () => {
    const unet = new ContextUnet({ nFeat: 8, nContext: 5, height: 8 });
    const classDir = join(dir, "context");
    saveCheckpoint(classDir, { libraryVersion: "test", architecture: { name: "ContextUnet", config: unet.config, parameterCount: unet.parameterCount }, schedule: { ...courseSchedule.config }, training: null, data: null, backend: tf.getBackend() }, { model: await unet.getWeights() });
    unet.dispose();
    const start = tf.memory().numTensors;
    expect(() => loadTextModel(classDir)).toThrow("holds a ContextUnet (a class-conditioned model: its context is a one-hot class, not words); textual inversion needs a TextContextUnet");
    expect(tf.memory().numTensors).toBe(start);
    expect(() => loadTextModel(join(dir, "missing"))).toThrow("manifest.json is missing");
  });

  it("reads uint8 sprites and floats in [-1, 1], and names a wrong shape or range", () => {
    const bytes = Uint8Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => (i % 2 ? 255 : 0));
    const x = examplesFromNpy({ dtype: "uint8", shape: [2, 8, 8, 3], data: bytes }, [8, 8, 3], "e.npy");
    expect(Array.from(x.dataSync().slice(0, 2))).toEqual([-1, 1]);
    x.dispose();
    const floats = examplesFromNpy({ dtype: "float32", shape: [1, 8, 8, 3], data: new Float32Array(192).fill(0.5) }, [8, 8, 3], "f.npy");
    expect(floats.shape).toEqual([1, 8, 8, 3]);
    floats.dispose();
    expect(() => examplesFromNpy({ dtype: "uint8", shape: [8, 8, 3], data: new Uint8Array(192) }, [8, 8, 3], "one.npy")).toThrow("one.npy: the examples have shape (8, 8, 3), expected (K, 8, 8, 3)");
    expect(() => examplesFromNpy({ dtype: "float32", shape: [1, 8, 8, 3], data: new Float32Array(192).fill(3) }, [8, 8, 3], "f.npy")).toThrow("float32 values span [3, 3]");
  });
});

describe("npm run invert", () => {
  it("checks its options and paths before any work", () => {
    const images = join(dir, "examples.npy");
    writeFileSync(images, "");
    expect(() => parseInvertArgs(["--checkpoint", "models/text", "--images", images])).toThrow("--token, --out are required.");
    expect(() => parseInvertArgs(["--checkpoint", "m", "--images", join(dir, "none.npy"), "--token", TOKEN, "--out", dir])).toThrow("--images " + join(dir, "none.npy") + ": no such file.");
    expect(() => parseInvertArgs(["--checkpoint", "m", "--images", join(dir, "inverted", INVERSION_LOG_FILE), "--token", TOKEN, "--out", dir])).toThrow("expected a .npy file");
    expect(() => parseInvertArgs(["--checkpoint", "m", "--images", images, "--token", TOKEN, "--out", dir, "--steps", "0"])).toThrow('--steps must be a whole number >= 1, got "0"');
    expect(parseInvertArgs(["--checkpoint", "m", "--images", images, "--token", TOKEN, "--out", dir, "--init-word", "golem", "--lr", "0.01"])).toMatchObject({ token: TOKEN, initWord: "golem", learningRate: 0.01, steps: undefined, weights: "auto" });
    expect(parseInvertArgs(["--help"])).toBeNull();
  });
});

describe("held-out sprites", () => {
  it("draws a kind the set never draws nor names, distinct and the same for the same seed", () => {
    const a = heldOutSprites({ count: 5, seed: 3 });
    const b = heldOutSprites({ count: 5, seed: 3 });
    expect(Buffer.from(a.images).equals(Buffer.from(b.images))).toBe(true);
    expect(Buffer.from(heldOutSprites({ count: 5, seed: 4 }).images).equals(Buffer.from(a.images))).toBe(false);
    expect(a.images.length).toBe(5 * 768);
    const sprites = Array.from({ length: 5 }, (_, i) => Buffer.from(a.images.subarray(i * 768, (i + 1) * 768)).toString("hex"));
    expect(new Set(sprites).size).toBe(5);
    for (const kind of HELD_OUT_KINDS) {
      expect(possibleCaptionWords()).not.toContain(kind);
      expect(Object.values(SPRITE_KINDS).flat()).not.toContain(kind);
    }
    expect(a.attributes.every((attributes) => attributes.kind === "robot" && attributes.family === "monster" && attributes.colours.length === 1)).toBe(true);
    expect(() => heldOutSprites({ kind: "slime" })).toThrow('no held-out kind "slime"; the kinds the set never draws are robot');
    expect(existsSync(dir)).toBe(true);
  });
});
