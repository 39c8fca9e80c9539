/** The caption encoder's contract: shapes, the masked mean against a hand computation, gradients, hygiene. */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { CAPTION_ENCODER_DEFAULTS, CaptionEncoder, type CaptionEncoderConfig, TOKEN_EMBEDDING_KEY } from "../../src/lib/text/captionEncoder";
import { UNKNOWN_ID, WordTokenizer } from "../../src/lib/text/tokenizer";
import { useTestBackend } from "../helpers/backends";

const tokenizer = new WordTokenizer(["a", "green", "red", "slime", "bat", "with", "crown"]);
const TINY: CaptionEncoderConfig = { vocabularySize: tokenizer.size, maxTokens: 6, embeddingWidth: 8, hiddenWidth: 12, contextSize: 5 };
const CAPTIONS = ["a green slime", "", "a red bat with a crown", "slime"];
const idsOf = (captions: string[]) => tf.tensor2d(Float32Array.from(tokenizer.encodeBatch(captions, TINY.maxTokens)), [captions.length, TINY.maxTokens]);

describe("CaptionEncoder", () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  it("maps [N, maxTokens] ids to a pooled [N, E] and a context [N, contextSize]; the empty caption pools to zero", () => {
    const encoder = new CaptionEncoder(TINY, 1);
    expect(encoder.parameters.keys()).toEqual([TOKEN_EMBEDDING_KEY, "mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"]);
    expect(encoder.embeddingKey).toBe(TOKEN_EMBEDDING_KEY);
    expect(encoder.parameterCount).toBe(9 * 8 + (8 * 12 + 12) + (12 * 5 + 5));
    tf.tidy(() => {
      const ids = idsOf(CAPTIONS);
      const pooled = encoder.pooledEmbedding(ids);
      const context = encoder.encode(ids);
      expect(pooled.shape).toEqual([4, 8]);
      expect(context.shape).toEqual([4, 5]);
      expect(Array.from(tf.slice(pooled, [1, 0], [1, 8]).dataSync())).toEqual(new Array(8).fill(0));
      // The empty caption's context is the MLP of zero: a learned constant, not zero.
      const empty = encoder.encode(tf.zeros([2, TINY.maxTokens]) as tf.Tensor2D).arraySync();
      expect(empty[0]).toEqual(context.arraySync()[1]);
      expect(empty[1]).toEqual(empty[0]);
      expect(Math.max(...empty[0].map(Math.abs))).toBeGreaterThan(0);
    });
    encoder.dispose();
  });

  it("pools the mean of the caption's word embeddings, as a hand computation from the weights does", async () => {
    const encoder = new CaptionEncoder(TINY, 2);
    const table = (await encoder.getWeights())[TOKEN_EMBEDDING_KEY];
    const E = TINY.embeddingWidth;
    // nn.Embedding(padding_idx=0): row 0 starts at zero, the others are N(0, 1) draws.
    expect(Array.from(table.data.slice(0, E))).toEqual(new Array(E).fill(0));
    const rest = Array.from(table.data.slice(E));
    const std = Math.sqrt(rest.reduce((s, v) => s + v * v, 0) / rest.length);
    expect(std).toBeGreaterThan(0.6);
    expect(std).toBeLessThan(1.4);
    const ids = tokenizer.encodeBatch(CAPTIONS, TINY.maxTokens);
    const pooled = tf.tidy(() => encoder.pooledEmbedding(idsOf(CAPTIONS)).arraySync());
    CAPTIONS.forEach((caption, n) => {
      const words = Array.from(ids.slice(n * TINY.maxTokens, (n + 1) * TINY.maxTokens)).filter((id) => id !== 0);
      const expected = Array.from({ length: E }, (_, e) => words.reduce((s, id) => s + table.data[id * E + e], 0) / Math.max(words.length, 1));
      pooled[n].forEach((value, e) => expect(value, `${caption} [${e}]`).toBeCloseTo(expected[e], 5));
    });
    // A bag of words: the order of the words does not matter (the module comment says what that costs).
    const [forward, backward] = tf.tidy(() => encoder.encode(idsOf(["a red bat", "bat red a"])).arraySync());
    forward.forEach((value, i) => expect(backward[i]).toBeCloseTo(value, 6));
    encoder.dispose();
  });

  it("sends a gradient to every weight, and none to the pad row or to words not in the batch", () => {
    const encoder = new CaptionEncoder(TINY, 3);
    tf.tidy(() => {
      const ids = idsOf(CAPTIONS);
      const target = tf.randomNormal([4, 5], 0, 1, "float32", 4);
      const { grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(encoder.encode(ids), target)) as tf.Scalar, encoder.trainableVariables());
      for (const key of encoder.parameters.keys()) {
        const g = grads[encoder.parameters.get(key).name];
        expect(g, key).toBeDefined();
        expect(tf.max(tf.abs(g)).dataSync()[0], key).toBeGreaterThan(0);
      }
      const rowNorms = tf.sum(tf.abs(grads[encoder.parameters.get(TOKEN_EMBEDDING_KEY).name]), 1).arraySync() as number[];
      const used = new Set(Array.from(tokenizer.encodeBatch(CAPTIONS, TINY.maxTokens)).filter((id) => id !== 0));
      rowNorms.forEach((norm, id) => (used.has(id) ? expect(norm, tokenizer.wordOf(id)).toBeGreaterThan(0) : expect(norm, tokenizer.wordOf(id)).toBe(0)));
    });
    encoder.dispose();
  });

  it("leaves <unk> out of the mean as it does pads: a prompt read with { unknown: \"unk\" } means its known words only", () => {
    const encoder = new CaptionEncoder(TINY, 6);
    const withUnknown = (captions: string[]) => tf.tensor2d(Float32Array.from(tokenizer.encodeBatch(captions, TINY.maxTokens, { unknown: "unk" })), [captions.length, TINY.maxTokens]);
    tf.tidy(() => {
      const read = withUnknown(["a red dragon", "dragon a wyvern red", "dragon wyvern"]);
      expect(Array.from(read.dataSync()).filter((id) => id === UNKNOWN_ID).length).toBe(5);
      const [knownAndUnknown, shuffled, onlyUnknown] = encoder.encode(read).arraySync();
      const [known, empty] = encoder.encode(idsOf(["a red", ""])).arraySync();
      expect(knownAndUnknown).toEqual(known);
      shuffled.forEach((value, i) => expect(value).toBeCloseTo(known[i], 6));
      // Unknown words alone pool to zero: the empty caption, classifier-free guidance's "none".
      expect(onlyUnknown).toEqual(empty);
      expect(Array.from(encoder.pooledEmbedding(withUnknown(["dragon"])).dataSync())).toEqual(new Array(TINY.embeddingWidth).fill(0));
      // So <unk>'s row, which captions never train, gets no gradient even when a batch holds it.
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(encoder.encode(read))) as tf.Scalar, encoder.trainableVariables());
      const rows = tf.sum(tf.abs(grads[encoder.parameters.get(TOKEN_EMBEDDING_KEY).name]), 1).arraySync() as number[];
      expect(rows[UNKNOWN_ID]).toBe(0);
      expect(rows[tokenizer.encode("red", 1)[0]]).toBeGreaterThan(0);
    });
    encoder.dispose();
  });

  it("leaves no tensors behind, and frees its variables on dispose", () => {
    const start = tf.memory().numTensors;
    const encoder = new CaptionEncoder(TINY, 4);
    const ids = idsOf(CAPTIONS);
    encoder.encode(ids).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      encoder.encode(ids).dispose();
      encoder.pooledEmbedding(ids).dispose();
      const { value, grads } = tf.variableGrads(() => tf.sum(encoder.encode(ids)) as tf.Scalar, encoder.trainableVariables());
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
    encoder.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it("says what was wrong with its input and its config", () => {
    const encoder = new CaptionEncoder(TINY, 5);
    const wrong = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => encoder.encode(wrong)).toThrow("CaptionEncoder: token ids have shape [2,4], expected [N, 6] (one row of 6 ids per caption");
    wrong.dispose();
    encoder.dispose();
    expect(() => new CaptionEncoder({ ...TINY, hiddenWidth: 0 })).toThrow("CaptionEncoder: hiddenWidth must be a whole number >= 1, got 0.");
    expect(() => new CaptionEncoder({ ...TINY, vocabularySize: 2 })).toThrow("vocabularySize must be a whole number >= 3 (<pad>, <unk> and at least one word");
    expect(() => new CaptionEncoder({ ...TINY, width: 3 } as CaptionEncoderConfig)).toThrow("CaptionEncoder: unknown config field width;");
    expect(CAPTION_ENCODER_DEFAULTS.maxTokens).toBeGreaterThanOrEqual(15);
  });
});
