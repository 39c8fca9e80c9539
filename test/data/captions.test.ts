import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generateSpriteSet, type SpriteSet } from "../../src/lib/data/sprites/generate";
import { captionVocabulary, possibleCaptionWords, spriteCaptions } from "../../src/lib/data/sprites/captions";
import { COLOUR_NAMES, colourName, pixelColourName } from "../../src/lib/data/sprites/colourNames";
import { SPRITE_CAPTIONS_FILE, encodeSpriteCaptions, loadSpriteCaptions } from "../../src/lib/data/spriteCaptions";
import { DEFAULT_SPRITE_DIR, encodeSpriteSet, ensureSpriteSet, readSpriteManifest, writeSpriteSet } from "../../src/lib/data/spriteFiles";
import { backgroundMask, touchesBackground } from "./spriteChecks";

const SPRITE = 768;
const rgbAt = (images: Uint8Array, o: number): number => (images[o] << 16) | (images[o + 1] << 8) | images[o + 2];

/** How many pixels inside the outline ring of image i a name fits (as a drawn colour or a shaded pixel). */
function pixelsNamed(set: SpriteSet, i: number, name: string): number {
  const background = backgroundMask(set.images, i * SPRITE);
  let count = 0;
  for (let p = 0; p < 256; p++) {
    if (background[p] || touchesBackground(background, p)) continue;
    const c = rgbAt(set.images, i * SPRITE + 3 * p);
    if (colourName(c) === name || pixelColourName(c) === name) count++;
  }
  return count;
}

/** The share of the drawn pixels whose left-right mirror image is drawn too (variant 0: not moved). */
function maskSymmetry(set: SpriteSet, i: number): number {
  const background = backgroundMask(set.images, i * SPRITE);
  let drawn = 0;
  let mirrored = 0;
  for (let p = 0; p < 256; p++) {
    if (background[p]) continue;
    drawn++;
    if (!background[p - (p % 16) + 15 - (p % 16)]) mirrored++;
  }
  return mirrored / drawn;
}

describe("captions from the generator", () => {
  it("the same seed gives the same captions file; another seed differs", () => {
    const a = encodeSpriteCaptions(generateSpriteSet({ seed: 7, count: 600, variantsPerBase: 10 }));
    const b = encodeSpriteCaptions(generateSpriteSet({ seed: 7, count: 600, variantsPerBase: 10 }));
    const c = encodeSpriteCaptions(generateSpriteSet({ seed: 8, count: 600, variantsPerBase: 10 }));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it("names colours by the nearest reference, a shaded pixel by the nearest reference tone", () => {
    expect(["black", "grey", "silver", "white", "red", "orange", "yellow", "green", "teal", "blue", "cyan", "purple", "lilac", "pink", "brown", "beige"]).toEqual(COLOUR_NAMES);
    expect([0xd83030, 0x3468d0, 0x58c040, 0xf0d830, 0x9a6234, 0xf8f8f0, 0x7a3aa0].map(colourName)).toEqual(["red", "blue", "green", "yellow", "brown", "white", "purple"]);
    // The shadow tone of red cloth (render.ts darkens it to 178/256) is still red; as a drawn colour it is too.
    expect(pixelColourName(0x902828)).toBe("red");
  });

  it("writes templated phrasings of the attributes", () => {
    const knight = { classIndex: 0, family: "hero", kind: "knight", colours: ["red", "silver"], facing: "front", direction: null, parts: ["helmet", "shield"] } as const;
    expect(spriteCaptions({ ...knight, parts: [...knight.parts], colours: [...knight.colours] })).toEqual([
      "a red knight",
      "red knight hero, front",
      "a red knight with a helmet and a shield",
      "a knight in red and silver",
    ]);
    const thief = { classIndex: 4, family: "character", kind: "thief", colours: ["orange"], facing: "side", direction: "left", parts: ["glowing eyes"] } as const;
    expect(spriteCaptions({ ...thief, parts: [...thief.parts], colours: [...thief.colours] })).toEqual([
      "an orange thief",
      "orange thief character, side",
      "an orange thief with glowing eyes",
      "an orange thief facing left",
    ]);
  });
});

describe("the default set's captions", () => {
  let set: SpriteSet;
  beforeAll(() => {
    set = generateSpriteSet();
  });

  it("leave the images as they were (the fingerprints from before the captions existed)", () => {
    const { manifest } = encodeSpriteSet(set);
    expect(manifest.images.sha256).toBe("9b74d861584274d9c6dec3802101ac91715a14a20083ec5b49f259c35cfafb85");
    expect(manifest.labels.sha256).toBe("a28fd7a438b1f600b5a8945ad690104cff7b6ce36d416d7509b95f66fc399c17");
    expect(readSpriteManifest(DEFAULT_SPRITE_DIR)?.captions).toEqual(manifest.captions);
  });

  it("name a colour image i shows (and mostly not the colour of its neighbour base)", () => {
    // One variant of every third base, jitter included: the caption's main colour names >= 4
    // pixels inside the outline. Shifting the captions by one base must break that often.
    const share = (shift: number): number => {
      let named = 0;
      let total = 0;
      for (let base = 0; base < set.baseCount; base += 3, total++) {
        const colour = set.attributes[(base + shift) % set.baseCount].colours[0];
        if (pixelsNamed(set, base * 50 + ((base * 7) % 50), colour) >= 4) named++;
      }
      return named / total;
    };
    expect(share(0)).toBeGreaterThan(0.95);
    expect(share(1)).toBeLessThan(0.6);
  });

  it("say 'side' for profiles, which are not symmetric, and 'front' for mirrored figures", () => {
    const symmetry = { front: [] as number[], side: [] as number[] };
    const sideMasks: { direction: string; background: Uint8Array }[] = [];
    set.attributes.forEach((a, base) => {
      if (a.facing === null) return;
      const s = maskSymmetry(set, base * 50);
      symmetry[a.facing].push(s);
      if (a.family === "monster") expect(s, `monster base ${base}`).toBe(1);
      if (a.facing === "side") sideMasks.push({ direction: a.direction as string, background: backgroundMask(set.images, base * 50 * SPRITE) });
    });
    const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length;
    expect(Math.max(...symmetry.side)).toBeLessThan(0.95);
    expect(mean(symmetry.front) - mean(symmetry.side)).toBeGreaterThan(0.08);
    // Which way: each profile is nearer the mean silhouette of the right-facing ones, or its mirror.
    const rightMean = new Float64Array(256);
    const rights = sideMasks.filter((m) => m.direction === "right");
    for (const { background } of rights) background.forEach((b, p) => (rightMean[p] += (1 - b) / rights.length));
    const agree = sideMasks.filter(({ direction, background }) => {
      let asIs = 0;
      let mirrored = 0;
      background.forEach((b, p) => {
        asIs += (1 - b) * rightMean[p];
        mirrored += (1 - b) * rightMean[p - (p % 16) + 15 - (p % 16)];
      });
      return (asIs > mirrored ? "right" : "left") === direction;
    });
    expect(agree.length / sideMasks.length).toBeGreaterThan(0.9);
  });

  it("use a small, documented vocabulary", () => {
    const vocabulary = captionVocabulary(set.attributes.flatMap(spriteCaptions));
    const possible = possibleCaptionWords();
    expect(vocabulary.filter((word) => !possible.includes(word))).toEqual([]);
    expect(vocabulary.length).toBeLessThanOrEqual(160);
    const readme = readFileSync(join(DEFAULT_SPRITE_DIR, "README.md"), "utf8");
    expect(possible.filter((word) => !new RegExp(`\\b${word}\\b`).test(readme))).toEqual([]);
  });
});

describe("loadSpriteCaptions", () => {
  it("gives each image its base's captions, the vocabulary, and a clear error when the file is missing", () => {
    const dir = mkdtempSync(join(tmpdir(), "sprite-captions-"));
    try {
      const set = generateSpriteSet({ seed: 5, count: 117, variantsPerBase: 6 });
      writeSpriteSet(dir, set);
      const loaded = loadSpriteCaptions(dir);
      expect(loaded.count).toBe(117);
      expect(loaded.images.length).toBe(117);
      expect(loaded.bases.length).toBe(20);
      expect(loaded.bases[19].images).toEqual([114, 117]);
      for (let i = 0; i < 117; i++) expect(loaded.images[i]).toBe(loaded.bases[Math.floor(i / 6)]);
      expect(loaded.bases.map(({ images, captions, ...attributes }) => attributes)).toEqual(set.attributes);
      expect(loaded.vocabulary).toEqual([...loaded.vocabulary].sort());
      expect(loaded.vocabulary).toContain(set.attributes[0].colours[0]);

      rmSync(join(dir, SPRITE_CAPTIONS_FILE));
      expect(() => loadSpriteCaptions(dir)).toThrow(/no sprite captions; `npm run sprites -- --ensure/);
      expect(ensureSpriteSet(dir).generated).toBe(true);
      expect(existsSync(join(dir, SPRITE_CAPTIONS_FILE))).toBe(true);
      expect(loadSpriteCaptions(dir).bases).toEqual(loaded.bases);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
