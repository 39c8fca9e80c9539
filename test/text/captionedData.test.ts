/**
 * The captioned sprite set as training data: images paired with their picked captions' token ids
 * (whole set and seeded subset), the grid's prompts, the fingerprint, the model's defaults, and the
 * Trainer's sample grid drawn from those prompts, row by row. A 24-sprite set and a tiny UNet:
 * seconds on cpu.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededSubsetIndices } from "../../src/lib/data/batches";
import { type SpriteDataset, loadSpriteDataset, sampleTensors } from "../../src/lib/data/dataset";
import { type SpriteCaptions, loadSpriteCaptions } from "../../src/lib/data/spriteCaptions";
import { ensureSpriteSet, writeSpriteSet } from "../../src/lib/data/spriteFiles";
import { generateSpriteSet } from "../../src/lib/data/sprites/generate";
import { deriveSeed } from "../../src/lib/data/sprites/prng";
import { sampleDdim } from "../../src/lib/diffusion/sampling";
import { courseSchedule } from "../../src/lib/diffusion/schedule";
import { pickedCaptions } from "../../src/lib/text/captionLabels";
import { captionedModelOptions, captionedTrainingData } from "../../src/lib/text/captionedData";
import { TextContextUnet } from "../../src/lib/text/textContextUnet";
import { WordTokenizer } from "../../src/lib/text/tokenizer";
import { SAMPLE_GRID_COLUMNS, Trainer, type TrainingData } from "../../src/lib/train/trainer";
import { useTestBackend } from "../helpers/backends";

const dir = mkdtempSync(join(tmpdir(), "captioned-data-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let dataset: SpriteDataset;
let captions: SpriteCaptions;
let tokenizer: WordTokenizer;
const MAX_TOKENS = 16;

beforeAll(async () => {
  await useTestBackend();
  // 6 bases of 4 variants; their classes are 4, 1, 0, 3, 1, 3 (no class 2).
  writeSpriteSet(dir, generateSpriteSet({ seed: 1, count: 24, variantsPerBase: 4 }));
  const files = ensureSpriteSet(dir);
  dataset = loadSpriteDataset(files.images, files.labels);
  captions = loadSpriteCaptions(dir);
  tokenizer = new WordTokenizer(captions.vocabulary);
});

const idsOf = (texts: string[]) => Array.from(tokenizer.encodeBatch(texts, MAX_TOKENS));

describe("captionedTrainingData", () => {
  it("pairs each image with its picked caption's token ids, and names one prompt per class for the grid", () => {
    const start = tf.memory().numTensors;
    const data = captionedTrainingData(dataset, captions, { tokenizer, maxTokens: MAX_TOKENS, seed: 3 });
    expect(data.count).toBe(24);
    expect(data.captions).toEqual(pickedCaptions(captions, 3));
    const indices = Int32Array.from([0, 7, 23, 7]);
    const { images, labels } = data.batch(indices);
    const expected = sampleTensors(dataset, indices);
    expect(labels.shape).toEqual([4, MAX_TOKENS]);
    expect(Array.from(labels.dataSync())).toEqual(idsOf(Array.from(indices, (i) => data.captions[i])));
    expect(Array.from(images.dataSync())).toEqual(Array.from(expected.images.dataSync()));
    tf.dispose([images, labels, expected.images, expected.labels]);
    expect(tf.memory().numTensors).toBe(start);
    // Classes 0, 1, 3, 4 in class order: the first caption of each class's first base.
    const firstOfClass = (c: number) => captions.bases.find((base) => base.classIndex === c)!.captions[0];
    expect(data.sampleGridRows.map((row) => row.title)).toEqual([0, 1, 3, 4].map(firstOfClass));
    expect(data.sampleGridRows.map((row) => row.context).flat()).toEqual(idsOf([0, 1, 3, 4].map(firstOfClass)));
    expect(data.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    // Other captions for the same images (another seed), another fingerprint.
    expect(captionedTrainingData(dataset, captions, { tokenizer, maxTokens: MAX_TOKENS, seed: 4 }).fingerprint).not.toBe(data.fingerprint);
  });

  it("takes the seeded subset --subset takes, each image keeping its caption; prompts of one's own", () => {
    const whole = captionedTrainingData(dataset, captions, { tokenizer, maxTokens: MAX_TOKENS, seed: 3 });
    const data = captionedTrainingData(dataset, captions, { tokenizer, maxTokens: MAX_TOKENS, seed: 3, subset: 10, gridPrompts: ["a pink pig", ""] });
    const kept = seededSubsetIndices(24, 10, 3);
    expect(data.count).toBe(10);
    expect(data.captions).toEqual(Array.from(kept, (i) => whole.captions[i]));
    const { images, labels } = data.batch(Int32Array.from([0, 9]));
    const expected = sampleTensors(dataset, [kept[0], kept[9]]);
    expect(Array.from(images.dataSync())).toEqual(Array.from(expected.images.dataSync()));
    expect(Array.from(labels.dataSync())).toEqual(idsOf([whole.captions[kept[0]], whole.captions[kept[9]]]));
    tf.dispose([images, labels, expected.images, expected.labels]);
    expect(data.sampleGridRows).toEqual([
      { title: "a pink pig", context: idsOf(["a pink pig"]) },
      { title: "", context: new Array(MAX_TOKENS).fill(0) },
    ]);
  });

  it("refuses captions of another set, and prompts with words the tokenizer does not know", () => {
    const other = { ...captions, count: 30 };
    expect(() => captionedTrainingData(dataset, other, { tokenizer, maxTokens: MAX_TOKENS, seed: 0 })).toThrow(
      "captionedTrainingData: the captions cover 30 images but",
    );
    expect(() => captionedTrainingData(dataset, captions, { tokenizer, maxTokens: MAX_TOKENS, seed: 0, gridPrompts: ["a purple dragon"] })).toThrow(`unknown words "purple", "dragon"`);
  });

  it("gives the text model the set's vocabulary and at least the encoder's 16 tokens", () => {
    const options = captionedModelOptions(captions);
    expect(options.vocabulary).toEqual(captions.vocabulary);
    expect(options.encoder).toEqual({ maxTokens: 16 });
    const long = { ...captions, bases: [{ ...captions.bases[0], captions: [new Array(20).fill("red").join(" ")] }] };
    expect(captionedModelOptions(long).encoder).toEqual({ maxTokens: 20 });
  });
});

describe("the Trainer's sample grid for a text model", () => {
  it("draws 8 sprites per grid prompt, row by row, hands the prompts over, and leaves no tensors", async () => {
    const model = new TextContextUnet({ ...captionedModelOptions(captions), encoder: { embeddingWidth: 8, hiddenWidth: 8, contextSize: 4 }, unet: { nFeat: 8, height: 8 } }, 2);
    const captioned = captionedTrainingData(dataset, captions, { tokenizer: model.tokenizer, maxTokens: model.contextSize, seed: 0, gridPrompts: ["a pink pig", "a blue wizard"] });
    // The sprites' centres, 8x8, for a UNet 4 times cheaper than at 16x16 (cpu is slow).
    const data: TrainingData = {
      ...captioned,
      batch: (indices) => {
        const { images, labels } = captioned.batch(indices);
        const centres = tf.slice(images, [0, 4, 4, 0], [-1, 8, 8, 3]) as tf.Tensor4D;
        images.dispose();
        return { images: centres, labels };
      },
    };
    const draw = async (prompts: string[], seed: number) => {
      const context = model.captionContexts(prompts);
      const { samples } = await sampleDdim(model, courseSchedule, { count: prompts.length, seed, imageShape: [8, 8, 3] }, context, { steps: 25, saveFrame: () => false });
      const values = Array.from(samples.dataSync());
      tf.dispose([samples, context]);
      return values;
    };
    // The library keeps a few tensors once made (the schedule's coefficients, ...): one training step and one draw make them before counting.
    const warmUp = new Trainer(model, data, { epochs: 1, batchSize: 24, useContext: true });
    await warmUp.run();
    warmUp.dispose();
    await draw(["a pig"], 0);
    const start = tf.memory().numTensors;
    const trainer = new Trainer(model, data, { epochs: 1, batchSize: 24, useContext: true, sampleEvery: 1, seed: 5 });
    let grid: number[] = [];
    let shape: number[] = [];
    let titles: readonly string[] | null = null;
    await trainer.run({
      onSamples: (_epoch, samples, rowTitles) => {
        [grid, shape, titles] = [Array.from(samples.dataSync()), samples.shape, rowTitles];
      },
    });
    expect(titles).toEqual(["a pink pig", "a blue wizard"]);
    expect(shape).toEqual([2 * SAMPLE_GRID_COLUMNS, 8, 8, 3]);
    // Drawn again by hand: the seed's fixed noise, the first row's prompt 8 times, then the second's.
    const rows = [...new Array<string>(SAMPLE_GRID_COLUMNS).fill("a pink pig"), ...new Array<string>(SAMPLE_GRID_COLUMNS).fill("a blue wizard")];
    expect(grid).toEqual(await draw(rows, deriveSeed(5, 0x5a3b)));

    // A grid row whose context is not the model's length fails when the trainer is made.
    const wrong = { ...data, sampleGridRows: [{ title: "short", context: [2, 3] }] };
    expect(() => new Trainer(model, wrong, { useContext: true })).toThrow(`the data's sampleGridRows must be at least one row, each a context of the model's 16 values; got "short" with 2`);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(start);
    model.dispose();
  }, 60_000);
});
