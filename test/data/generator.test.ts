import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generateSpriteSet, type SpriteSet } from "../../src/lib/data/sprites/generate";
import { balancedClassCounts } from "../../src/lib/data/sprites/classes";
import {
  DEFAULT_SPRITE_DIR,
  encodeSpriteSet,
  ensureSpriteSet,
  fileMatches,
  loadProjectSprites,
  readSpriteManifest,
  writeSpriteSet,
} from "../../src/lib/data/spriteFiles";
import { analyseSprite } from "./spriteChecks";

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
const SPRITE = 768;

describe("determinism", () => {
  it("the same seed gives the same bytes; another seed differs", () => {
    const a = generateSpriteSet({ seed: 7, count: 600, variantsPerBase: 10 });
    const b = generateSpriteSet({ seed: 7, count: 600, variantsPerBase: 10 });
    const c = generateSpriteSet({ seed: 8, count: 600, variantsPerBase: 10 });
    expect(Buffer.from(a.images).equals(Buffer.from(b.images))).toBe(true);
    expect(Buffer.from(a.classes).equals(Buffer.from(b.classes))).toBe(true);
    expect(Buffer.from(a.images).equals(Buffer.from(c.images))).toBe(false);
  });

  it("a pinned small set has the same hash on every machine", () => {
    // Integer-only generation: if this hash changes, the generator changed (bump its version
    // and the manifest) or a platform computes differently (a bug to fix).
    const set = generateSpriteSet({ seed: 1, count: 250, variantsPerBase: 5 });
    expect(sha256(set.images).slice(0, 16)).toBe(PINNED_SMALL_SET_SHA256);
  });
});

/** sha256 prefix of generateSpriteSet({ seed: 1, count: 250, variantsPerBase: 5 }).images. */
const PINNED_SMALL_SET_SHA256 = "41ecbd764f22b15a";

describe("balancedClassCounts", () => {
  it("gives the course's balance for 1,788 bases and always sums to the total", () => {
    expect(balancedClassCounts(1788)).toEqual([159, 648, 120, 702, 159]);
    for (const total of [1, 5, 37, 100, 999, 1788, 5000]) expect(balancedClassCounts(total).reduce((a, b) => a + b)).toBe(total);
  });
});

describe("the default set (seed 0, 1,788 bases x 50 variants)", () => {
  let set: SpriteSet;
  beforeAll(() => {
    set = generateSpriteSet();
  });

  it("has the course's size and class balance (8.9 / 36.2 / 6.7 / 39.2 / 8.9 %)", () => {
    expect(set.count).toBe(89400);
    const perClass = [0, 0, 0, 0, 0];
    for (const c of set.classes) perClass[c]++;
    expect(perClass).toEqual([7950, 32400, 6000, 35100, 7950]);
    [8.9, 36.2, 6.7, 39.2, 8.9].forEach((share, k) => expect(Math.abs((100 * perClass[k]) / set.count - share)).toBeLessThan(0.1));
    for (let base = 0; base < 1788; base++) {
      const variants = set.classes.subarray(base * 50, base * 50 + 50);
      expect(variants.every((c) => c === variants[0])).toBe(true);
    }
  });

  it("every sprite has a dark outline, >= 4 colours inside it, and fills 12+ px of the frame", () => {
    const failures: string[] = [];
    for (let i = 0; i < set.count; i++) {
      const a = analyseSprite(set.images, i * SPRITE);
      if (!a.outlined || a.outlinePixels < 16 || a.innerColours < 4 || Math.max(a.width, a.height) < 12) {
        failures.push(`sprite ${i} (class ${set.classes[i]}): ${JSON.stringify({ ...a, subjectKey: undefined })}`);
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it("no two base sprites are identical", () => {
    const keys = new Set<string>();
    for (let base = 0; base < set.baseCount; base++) keys.add(analyseSprite(set.images, base * 50 * SPRITE, true).subjectKey);
    expect(keys.size).toBe(set.baseCount);
  });

  it("matches the committed manifest, and the files on disk when they exist", () => {
    const committed = readSpriteManifest(DEFAULT_SPRITE_DIR);
    expect(committed, "data/sprites/manifest.json is missing: run `npm run sprites`").not.toBeNull();
    expect(encodeSpriteSet(set).manifest).toEqual(committed);
    for (const record of [committed!.images, committed!.labels]) {
      const onDisk = existsSync(join(DEFAULT_SPRITE_DIR, record.name));
      if (onDisk) expect(fileMatches(DEFAULT_SPRITE_DIR, record), `${record.name} differs from the manifest`).toBe(true);
    }
  });
});

describe("ensureSpriteSet", () => {
  it("regenerates missing files byte for byte, and refuses a manifest the generator cannot reproduce", () => {
    const dir = mkdtempSync(join(tmpdir(), "sprite-files-"));
    const manifest = writeSpriteSet(dir, generateSpriteSet({ seed: 5, count: 120, variantsPerBase: 6 }));
    expect(ensureSpriteSet(dir).generated).toBe(false);
    const original = readFileSync(join(dir, manifest.images.name));
    rmSync(join(dir, manifest.images.name));
    expect(ensureSpriteSet(dir).generated).toBe(true);
    expect(readFileSync(join(dir, manifest.images.name)).equals(original)).toBe(true);
    rmSync(join(dir, manifest.labels.name));
    const loaded = loadProjectSprites(dir);
    expect(loaded.count).toBe(120);
    expect(Buffer.from(loaded.pixels).equals(original.subarray(original.length - 120 * SPRITE))).toBe(true);
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...manifest, images: { ...manifest.images, sha256: "0".repeat(64) } }));
    expect(() => ensureSpriteSet(dir)).toThrow(/no longer reproduces this manifest/);
    expect(() => ensureSpriteSet(join(dir, "absent"))).toThrow(/no sprite manifest/);
  });
});
