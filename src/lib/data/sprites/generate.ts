/**
 * The sprite set: base sprites drawn per class, each rendered as several variants (small jitter:
 * palette shift, 1-px move, background). Every random choice is derived from (seed, class, base,
 * attempt) or (seed, class, base, variant), so one seed gives the same bytes on every machine.
 *
 * Layout of the result: bases in a seeded shuffled order (classes interleaved, so any prefix is a
 * representative sample); each base's variants are consecutive, so sample i belongs to base
 * floor(i / variantsPerBase). Each base also carries the attributes its drawing recorded
 * (traits.ts), which its variants share: a variant's jitter never mirrors, recolours by more
 * than 8 per channel, or changes what is drawn.
 */
import { Prng, deriveSeed } from "./prng";
import { OUTLINE } from "./palette";
import { compileSprite, drawJitter, renderVariant, type BaseSprite } from "./render";
import { COURSE_BASE_COUNT, COURSE_VARIANTS_PER_BASE, SPRITE_CLASS_COUNT, balancedClassCounts, drawClassSprite } from "./classes";
import { spriteAttributes, type SpriteAttributes } from "./traits";

/** Bytes per sprite: 16 x 16 x 3 (HWC, uint8 RGB). */
export const SPRITE_BYTES = 16 * 16 * 3;

/** Changes whenever the generator's output changes for a given seed (recorded in manifests). */
export const SPRITE_GENERATOR_VERSION = "sprites-1";

export interface SpriteSetOptions {
  /** Seed of the whole set. Default 0. */
  seed?: number;
  /** Total sprites. Default 89,400 (the course's size). */
  count?: number;
  /** Variants per base sprite. Default 50; bases = ceil(count / variantsPerBase). */
  variantsPerBase?: number;
}

export interface SpriteSet {
  /** uint8 RGB, [count, 16, 16, 3] row-major (NHWC), values 0..255. */
  images: Uint8Array;
  /** Class index per sprite, 0..4. */
  classes: Uint8Array;
  /** Per base, in file order: what it shows (sample i shows attributes[floor(i / variantsPerBase)]). */
  attributes: SpriteAttributes[];
  count: number;
  baseCount: number;
  variantsPerBase: number;
  seed: number;
}

/** Most attempts to draw a base that is valid and unlike every earlier base. */
const MAX_ATTEMPTS = 200;

/** A base sprite with the class it belongs to. */
interface ClassedBase {
  classIndex: number;
  base: BaseSprite;
  attributes: SpriteAttributes;
  seedPath: [number, number];
}

/**
 * The rules every base must meet: a closed outline (no drawn pixel on the frame's edge, where
 * the outline could not go), at least 4 colours inside it, and an extent of 12+ pixels.
 */
export function isValidBase(base: BaseSprite): boolean {
  const [minX, minY, maxX, maxY] = base.extent;
  const inner = new Set<number>();
  for (let i = 0; i < base.pixels.length; i++) {
    const index = base.pixels[i];
    const x = i % 16;
    const y = (i - x) / 16;
    const onEdge = x === 0 || y === 0 || x === 15 || y === 15;
    if (onEdge && index > 1) return false;
    if (index > 1) inner.add(base.colours[index]);
  }
  return inner.size >= 4 && Math.max(maxX - minX, maxY - minY) + 1 >= 12;
}

/** A key identifying a base's drawing (pixel indices and colours), to reject duplicates. */
function baseKey(base: BaseSprite): string {
  const colours = Array.from(base.pixels, (index) => base.colours[index].toString(36));
  return colours.join(",");
}

/** Draws `baseCount` distinct, valid bases with the course's class balance, in class order. */
export function drawBases(seed: number, baseCount: number): ClassedBase[] {
  const counts = balancedClassCounts(baseCount);
  const seen = new Set<string>();
  const bases: ClassedBase[] = [];
  for (let classIndex = 0; classIndex < SPRITE_CLASS_COUNT; classIndex++) {
    for (let j = 0; j < counts[classIndex]; j++) {
      let attempt = 0;
      for (;;) {
        if (attempt === MAX_ATTEMPTS) {
          throw new Error(
            `drawBases: no new valid base of class ${classIndex} after ${MAX_ATTEMPTS} attempts (seed ${seed}, ` +
              `base ${j}); the class has too little variety for ${counts[classIndex]} bases.`,
          );
        }
        const prng = new Prng(deriveSeed(seed, classIndex, j, attempt++));
        const canvas = drawClassSprite(classIndex, prng);
        const base = compileSprite(canvas, prng.pick(OUTLINE));
        const key = baseKey(base);
        if (!isValidBase(base) || seen.has(key)) continue;
        seen.add(key);
        bases.push({ classIndex, base, attributes: spriteAttributes(classIndex, canvas), seedPath: [classIndex, j] });
        break;
      }
    }
  }
  return bases;
}

/** Generates the whole set; see the module comment for its layout. */
export function generateSpriteSet(options: SpriteSetOptions = {}): SpriteSet {
  const seed = options.seed ?? 0;
  const variantsPerBase = options.variantsPerBase ?? COURSE_VARIANTS_PER_BASE;
  const count = options.count ?? COURSE_BASE_COUNT * variantsPerBase;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`generateSpriteSet: seed must be an integer in 0..2^32-1, got ${seed}.`);
  if (!Number.isInteger(count) || count < 1) throw new Error(`generateSpriteSet: count must be a positive integer, got ${count}.`);
  if (!Number.isInteger(variantsPerBase) || variantsPerBase < 1) throw new Error(`generateSpriteSet: variantsPerBase must be a positive integer, got ${variantsPerBase}.`);
  const baseCount = Math.ceil(count / variantsPerBase);
  const bases = new Prng(deriveSeed(seed, 0x5eed)).shuffle(drawBases(seed, baseCount));
  const images = new Uint8Array(count * SPRITE_BYTES);
  const classes = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const { classIndex, base, seedPath } = bases[Math.floor(i / variantsPerBase)];
    const variant = i % variantsPerBase;
    const prng = new Prng(deriveSeed(seed, seedPath[0], seedPath[1], 0x7a12 + variant));
    renderVariant(base, drawJitter(base, prng, variant === 0), images, i * SPRITE_BYTES);
    classes[i] = classIndex;
  }
  return { images, classes, attributes: bases.map((b) => b.attributes), count, baseCount, variantsPerBase, seed };
}
