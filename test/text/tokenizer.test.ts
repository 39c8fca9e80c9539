/** The word tokenizer and the captioned set's training labels: round trips, unknown words, pads. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { type BaseCaptions, type SpriteCaptions, SPRITE_CAPTIONS_FILE, loadSpriteCaptions } from "../../src/lib/data/spriteCaptions";
import { DEFAULT_SPRITE_DIR } from "../../src/lib/data/spriteFiles";
import { captionVocabulary, captionWords, possibleCaptionWords, spriteCaptions } from "../../src/lib/data/sprites/captions";
import { generateSpriteSet } from "../../src/lib/data/sprites/generate";
import { captionTokenIds, pickedCaptions } from "../../src/lib/text/captionLabels";
import { PAD_ID, UNKNOWN_ID, WordTokenizer, tokenizeWords } from "../../src/lib/text/tokenizer";
import { useTestBackend } from "../helpers/backends";

/**
 * The real captions: the project's set when `npm run sprites` has made its captions file (the test
 * set-up does), else the captions of a small set drawn from the same generator.
 */
function realCaptions(): { captions: string[]; vocabulary: readonly string[]; source: string } {
  if (existsSync(join(DEFAULT_SPRITE_DIR, SPRITE_CAPTIONS_FILE))) {
    const set = loadSpriteCaptions(DEFAULT_SPRITE_DIR);
    return { captions: set.bases.flatMap((base) => base.captions), vocabulary: set.vocabulary, source: DEFAULT_SPRITE_DIR };
  }
  const captions = generateSpriteSet({ seed: 0, count: 300, variantsPerBase: 1 }).attributes.flatMap(spriteCaptions);
  return { captions, vocabulary: captionVocabulary(captions), source: "a generated set of 300 bases" };
}

const MAX_TOKENS = 16;

describe("WordTokenizer", () => {
  it("round-trips every caption of the set through its ids, its words in order", () => {
    const { captions, vocabulary, source } = realCaptions();
    const tokenizer = new WordTokenizer(vocabulary);
    expect(tokenizer.size, source).toBe(vocabulary.length + 2);
    for (const caption of captions) {
      // The tokenizer reads the words the vocabulary was made from.
      expect(tokenizeWords(caption)).toEqual(captionWords(caption));
      const ids = tokenizer.encode(caption, MAX_TOKENS);
      const words = captionWords(caption);
      expect(ids.length).toBe(MAX_TOKENS);
      expect(Array.from(ids.slice(words.length))).toEqual(new Array(MAX_TOKENS - words.length).fill(PAD_ID));
      expect(Array.from(ids.slice(0, words.length)).every((id) => id >= 2)).toBe(true);
      expect(tokenizer.decode(ids)).toBe(words.join(" "));
      expect(tokenizer.encode(tokenizer.decode(ids), MAX_TOKENS)).toEqual(ids);
    }
  });

  it("gives id 2 + i to word i, and knows every word a caption can use once built from them", () => {
    const tokenizer = new WordTokenizer(["red", "slime", "potion"]);
    expect(Array.from(tokenizer.encode("A red slime!", 5, { unknown: "unk" }))).toEqual([UNKNOWN_ID, 2, 3, 0, 0]);
    expect(Array.from(tokenizer.encode("red  slime, POTION", 4))).toEqual([2, 3, 4, 0]);
    expect([0, 1, 2, 4].map((id) => tokenizer.wordOf(id))).toEqual(["<pad>", "<unk>", "red", "potion"]);
    expect(() => tokenizer.wordOf(5)).toThrow("token id 5 is outside 0..4");
    const all = new WordTokenizer(possibleCaptionWords());
    expect(() => all.encode("an orange knight with a helmet, a sword and a shield", MAX_TOKENS)).not.toThrow();
  });

  it("encodes the empty caption, and one with no words, as all pads", () => {
    const tokenizer = new WordTokenizer(["red"]);
    for (const caption of ["", "   ", ", !"]) expect(Array.from(tokenizer.encode(caption, 4))).toEqual([0, 0, 0, 0]);
    expect(tokenizer.decode([0, 0, 0])).toBe("");
  });

  it("rejects unknown words in one error that lists all of them and the known words, or reads them as <unk>", () => {
    const tokenizer = new WordTokenizer(["a", "red", "slime", "with", "hat"]);
    const attempt = () => tokenizer.encode("a red dragon with a lance and a hat", 12);
    expect(attempt).toThrow(/unknown words "dragon", "lance", "and": the model knows only its captions' 5 words \(a, red, slime, with, hat\)/);
    expect(attempt).toThrow(/\{ unknown: "unk" \}/);
    expect(attempt).toThrow(/textual inversion/);
    expect(Array.from(tokenizer.encode("a red dragon", 4, { unknown: "unk" }))).toEqual([2, 3, UNKNOWN_ID, 0]);
    expect(tokenizer.decode(tokenizer.encode("a red dragon", 4, { unknown: "unk" }))).toBe("a red <unk>");
    // Across a batch: every caption's unknown words, each once.
    expect(() => tokenizer.encodeBatch(["a red slime", "a blue slime", "a blue cat"], 4)).toThrow(/unknown words "blue", "cat":/);
    // The same words, without encoding: what a command warns about before reading them as <unk>.
    expect(tokenizer.unknownWords("A red Dragon with a lance, a dragon!")).toEqual(["dragon", "lance"]);
    expect(tokenizer.unknownWords("a red slime")).toEqual([]);
  });

  it("rejects a caption longer than maxTokens, saying the limit, with any unknown words in the same message", () => {
    const tokenizer = new WordTokenizer(["a", "red", "slime"]);
    expect(() => tokenizer.encode("a red red red slime", 4)).toThrow('"a red red red slime" has 5 words; the model reads at most 4 (maxTokens): shorten it');
    expect(() => tokenizer.encode("a red red red slime", 4, { unknown: "unk" })).toThrow("has 5 words");
    expect(() => tokenizer.encode("a red red red dragon", 4)).toThrow(/unknown word "dragon".*And "a red red red dragon" has 5 words/s);
    expect(() => tokenizer.encode("a red slime", 0)).toThrow("maxTokens must be a whole number >= 1");
  });

  it("keeps a <placeholder> as one word, for textual inversion's new words", () => {
    expect(tokenizeWords("A <new-1> with a shield")).toEqual(["a", "<new-1>", "with", "a", "shield"]);
    const tokenizer = new WordTokenizer(["a", "with", "shield", "<new-1>"]);
    expect(tokenizer.decode(tokenizer.encode("a <NEW-1> with a shield", 6))).toBe("a <new-1> with a shield");
  });

  it("refuses a vocabulary entry that is not one lower-case word, a repeat, or a reserved token", () => {
    expect(() => new WordTokenizer(["red", "ice cream", "Red", "red", "<pad>"])).toThrow(
      'the vocabulary has bad entries: "ice cream" is not one lower-case word (it reads as [ice, cream]); "Red" is not one lower-case word (it reads as [red]); "red" is listed twice; "<pad>" is reserved (ids 0 and 1)',
    );
  });

  it("stores as JSON and comes back with the same ids", () => {
    const tokenizer = new WordTokenizer(realCaptions().vocabulary);
    const back = WordTokenizer.fromJSON(JSON.parse(JSON.stringify(tokenizer)));
    expect(back.words).toEqual(tokenizer.words);
    expect(back.encode("a green slime", MAX_TOKENS)).toEqual(tokenizer.encode("a green slime", MAX_TOKENS));
    expect(() => WordTokenizer.fromJSON({ words: [] }, "manifest.json")).toThrow("manifest.json: expected { vocabulary: [words...] }");
    expect(() => WordTokenizer.fromJSON({ vocabulary: ["a", "a"] }, "manifest.json")).toThrow('manifest.json: WordTokenizer: the vocabulary has bad entries: "a" is listed twice');
  });
});

describe("captionTokenIds", () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  /** Two bases of three variants each, by hand. */
  function tinySet(): SpriteCaptions {
    const attributes = { classIndex: 0, family: "monster", kind: "slime", colours: ["green"], facing: "front", direction: null, parts: [] } as Omit<BaseCaptions, "images" | "captions">;
    const bases: BaseCaptions[] = [
      { ...attributes, images: [0, 3], captions: ["a green slime", "green slime monster, front", "a green slime with a crown"] },
      { ...attributes, kind: "bat", colours: ["red"], images: [3, 6], captions: ["a red bat", "red bat monster, front"] },
    ];
    const images = [0, 0, 0, 1, 1, 1].map((b) => bases[b]);
    return { count: 6, variantsPerBase: 3, bases, images, vocabulary: captionVocabulary(bases.flatMap((b) => b.captions)) };
  }

  it("gives each image one of its base's captions, picked by the seed alone, as [count, maxTokens] float32 ids", () => {
    const set = tinySet();
    const tokenizer = new WordTokenizer(set.vocabulary);
    const picked = pickedCaptions(set, 3);
    picked.forEach((caption, i) => expect(set.images[i].captions).toContain(caption));
    expect(pickedCaptions(set, 3)).toEqual(picked);
    const before = tf.memory().numTensors;
    const ids = captionTokenIds(set, tokenizer, 8, 3);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect([ids.shape, ids.dtype]).toEqual([[6, 8], "float32"]);
    const rows = ids.arraySync();
    rows.forEach((row, i) => expect(tokenizer.decode(row)).toBe(captionWords(picked[i]).join(" ")));
    ids.dispose();
    // Other seeds pick other captions; over many seeds every caption of a base is picked.
    const seen = new Set(Array.from({ length: 40 }, (_, seed) => pickedCaptions(set, seed)[0]));
    expect(seen.size).toBe(3);
    expect(() => captionTokenIds(set, new WordTokenizer(["a", "green", "slime"]), 8, 0)).toThrow(/unknown words .*"monster"/);
  });

  it("labels the project's set, when its captions file exists", () => {
    if (!existsSync(join(DEFAULT_SPRITE_DIR, SPRITE_CAPTIONS_FILE))) return;
    const set = loadSpriteCaptions(DEFAULT_SPRITE_DIR);
    const ids = captionTokenIds(set, new WordTokenizer(set.vocabulary), MAX_TOKENS, 0);
    expect(ids.shape).toEqual([set.count, MAX_TOKENS]);
    const first = tf.slice(ids, [0, 0], [1, MAX_TOKENS]);
    expect(set.images[0].captions.map((c) => captionWords(c).join(" "))).toContain(new WordTokenizer(set.vocabulary).decode(first.dataSync()));
    tf.dispose([ids, first]);
  });
});
