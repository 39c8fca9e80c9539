/**
 * Held-out prompts: the kind-and-colour pairs are drawn reproducibly within their rules (enough
 * bases, one per kind, both words still taught, recounted here from the captions), the image mask
 * flags exactly their images, and captioned training data without them holds none of their
 * sprites or captions. A generated set of 300 bases: seconds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SpriteDataset, loadSpriteDataset } from "../../src/lib/data/dataset";
import { type SpriteCaptions, loadSpriteCaptions } from "../../src/lib/data/spriteCaptions";
import { ensureSpriteSet, writeSpriteSet } from "../../src/lib/data/spriteFiles";
import { generateSpriteSet } from "../../src/lib/data/sprites/generate";
import { captionedTrainingData } from "../../src/lib/text/captionedData";
import { heldOutImageMask, heldOutPairs, trainedCounterparts } from "../../src/lib/text/heldOutPrompts";
import { pooledShares } from "../../src/lib/metrics/promptMatchEvaluation";
import { WordTokenizer } from "../../src/lib/text/tokenizer";
import { useTestBackend } from "../helpers/backends";

const dir = mkdtempSync(join(tmpdir(), "held-out-prompts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let dataset: SpriteDataset;
let captions: SpriteCaptions;

beforeAll(async () => {
  await useTestBackend();
  writeSpriteSet(dir, generateSpriteSet({ seed: 2, count: 600, variantsPerBase: 2 }));
  const files = ensureSpriteSet(dir);
  dataset = loadSpriteDataset(files.images, files.labels);
  captions = loadSpriteCaptions(dir);
});

const pairOf = (base: { kind: string; colours: string[] }) => `${base.kind}/${base.colours[0]}`;

describe("heldOutPairs", () => {
  it("draws the same pairs for the same seed, others for another, within the rules", () => {
    const pairs = heldOutPairs(captions, { count: 6, seed: 0 });
    expect(heldOutPairs(captions, { count: 6, seed: 0 })).toEqual(pairs);
    expect(heldOutPairs(captions, { count: 6, seed: 1 })).not.toEqual(pairs);
    const held = new Set(pairs.map((pair) => `${pair.kind}/${pair.colour}`));
    expect(new Set(pairs.map((pair) => pair.kind)).size).toBe(6); // one per kind
    for (const pair of pairs) {
      const bases = captions.bases.filter((base) => pairOf(base) === `${pair.kind}/${pair.colour}`);
      expect(pair.bases).toBe(bases.length);
      expect(pair.bases).toBeGreaterThanOrEqual(2);
      expect(pair.images).toBe(2 * bases.length);
      expect(pair.prompt).toBe(bases[0].captions[0]);
      expect(pair.prompt).toContain(pair.colour);
      // With every held-out pair gone, the kind and the colour are still taught by >= 2 bases each.
      const kept = captions.bases.filter((base) => !held.has(pairOf(base)));
      expect(kept.filter((base) => base.kind === pair.kind).length).toBeGreaterThanOrEqual(2);
      expect(kept.filter((base) => base.colours[0] === pair.colour).length).toBeGreaterThanOrEqual(2);
    }
    expect(() => heldOutPairs(captions, { count: 500 })).toThrow("kind-and-colour pairs can be held out with at least 2 bases each (asked for 500)");
  });

  it("masks exactly the images of the held-out pairs' bases", () => {
    const pairs = heldOutPairs(captions, { count: 5, seed: 3 });
    const held = new Set(pairs.map((pair) => `${pair.kind}/${pair.colour}`));
    const mask = heldOutImageMask(captions, pairs);
    expect(mask).toHaveLength(captions.count);
    captions.images.forEach((base, i) => expect(mask[i]).toBe(held.has(pairOf(base)) ? 1 : 0));
    expect(mask.reduce((sum, flag) => sum + flag, 0)).toBe(pairs.reduce((sum, pair) => sum + pair.images, 0));
  });
});

describe("captionedTrainingData with held-out pairs", () => {
  it("leaves their images out, alone and with a subset, and none of their captions remains", () => {
    const tokenizer = new WordTokenizer(captions.vocabulary);
    const pairs = heldOutPairs(captions, { count: 5, seed: 3 });
    const heldImages = pairs.reduce((sum, pair) => sum + pair.images, 0);
    const heldCaptions = new Set(captions.bases.filter((base) => pairs.some((pair) => pairOf(base) === `${pair.kind}/${pair.colour}`)).flatMap((base) => base.captions));
    const all = captionedTrainingData(dataset, captions, { tokenizer, maxTokens: 16, seed: 0 });
    const kept = captionedTrainingData(dataset, captions, { tokenizer, maxTokens: 16, seed: 0, heldOut: pairs });
    expect(kept.count).toBe(all.count - heldImages);
    expect(kept.captions.filter((caption) => heldCaptions.has(caption))).toEqual([]);
    // The kept images keep their captions: those of the whole set, in order, less the held-out ones.
    const mask = heldOutImageMask(captions, pairs);
    expect(kept.captions).toEqual(all.captions.filter((_, i) => mask[i] === 0));
    expect(kept.fingerprint).not.toBe(all.fingerprint);
    const subset = captionedTrainingData(dataset, captions, { tokenizer, maxTokens: 16, seed: 0, subset: 300, heldOut: pairs });
    expect(subset.count).toBeLessThanOrEqual(300);
    expect(subset.captions.filter((caption) => heldCaptions.has(caption))).toEqual([]);
  });
});

describe("trainedCounterparts", () => {
  it("pairs each held-out pair with its kind's most common trained main colour, recounted here", () => {
    const pairs = heldOutPairs(captions, { count: 6, seed: 0 });
    const held = new Set(pairs.map((pair) => `${pair.kind}/${pair.colour}`));
    const controls = trainedCounterparts(captions, pairs);
    for (const pair of pairs) {
      const counts = new Map<string, number>();
      for (const base of captions.bases) {
        if (base.kind === pair.kind && !held.has(pairOf(base))) counts.set(base.colours[0], (counts.get(base.colours[0]) ?? 0) + 1);
      }
      const control = controls.find((c) => c.kind === pair.kind);
      if (counts.size === 0) {
        expect(control).toBeUndefined();
        continue;
      }
      const most = Math.max(...counts.values());
      const expected = [...counts.keys()].filter((colour) => counts.get(colour) === most).sort()[0];
      expect(control).toBeDefined();
      expect(control!.colour).toBe(expected);
      expect(held.has(`${control!.kind}/${control!.colour}`)).toBe(false);
      expect(control!.prompt).toBe(captions.bases.find((base) => pairOf(base) === `${pair.kind}/${expected}`)!.captions[0]);
    }
    // heldOutPairs keeps >= 2 bases of each held-out kind in other colours, so every pair has a control.
    expect(controls).toHaveLength(pairs.length);
  });
});

describe("pooledShares", () => {
  it("weights each part's shares by its count, and pools nothing to null", () => {
    const pooled = pooledShares([
      { count: 10, kind: 1, colour: 0.5, both: 0.5 },
      { count: 30, kind: 0, colour: 1, both: 0 },
    ]);
    expect(pooled).toEqual({ count: 40, kind: 0.25, colour: 0.875, both: 0.125 });
    expect(pooledShares([])).toBeNull();
  });
});
