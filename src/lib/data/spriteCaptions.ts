/**
 * The sprite set's captions file (data/sprites/captions_16x16.json), written beside the .npy
 * files by `npm run sprites` and covered by the manifest's sha256 like them.
 *
 * It holds one entry per base sprite in file order, each with the range of images it covers
 * (`images: [first, end)`, its consecutive variants), its attributes and its captions; image i
 * shows base floor(i / variantsPerBase). One entry a line, so the file reads and diffs well.
 * The variants share their base's captions: a variant only shifts the palette by at most 8 per
 * channel, moves the sprite by a pixel and changes the background, so nothing a caption names
 * (kind, colour names of the drawn colours, facing, parts) changes; no variant is mirrored.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { captionVocabulary, spriteCaptions } from "./sprites/captions";
import { COLOUR_NAMES } from "./sprites/colourNames";
import type { SpriteAttributes } from "./sprites/traits";
import { SPRITE_GENERATOR_VERSION, type SpriteSet } from "./sprites/generate";

export const SPRITE_CAPTIONS_FILE = "captions_16x16.json";
/** Changes whenever the captions' layout, templates or colour table change. */
export const SPRITE_CAPTIONS_FORMAT = "sprite-captions-1";

/** One base sprite's entry: its attributes, its captions, and the images that show it. */
export interface BaseCaptions extends SpriteAttributes {
  /** The images showing this base: indices first .. end - 1. */
  images: [number, number];
  captions: string[];
}

/** A set's captions as `loadSpriteCaptions` returns them. */
export interface SpriteCaptions {
  count: number;
  variantsPerBase: number;
  /** Per base, in file order. */
  bases: readonly BaseCaptions[];
  /** Per image (length `count`): the entry of the base it shows (shared, not copied). */
  images: readonly BaseCaptions[];
  /** The sorted distinct words of every caption, for a word-level tokenizer. */
  vocabulary: readonly string[];
}

interface CaptionsHeader {
  format: string;
  generator: string;
  seed: number;
  count: number;
  variantsPerBase: number;
  colourNames: readonly string[];
}

/** The captions file's bytes for a generated set (deterministic: the same set gives the same bytes). */
export function encodeSpriteCaptions(set: SpriteSet): Uint8Array {
  const header: CaptionsHeader = {
    format: SPRITE_CAPTIONS_FORMAT,
    generator: SPRITE_GENERATOR_VERSION,
    seed: set.seed,
    count: set.count,
    variantsPerBase: set.variantsPerBase,
    colourNames: COLOUR_NAMES,
  };
  const entries = set.attributes.map((attributes, base): BaseCaptions => {
    const first = base * set.variantsPerBase;
    return { images: [first, Math.min(set.count, first + set.variantsPerBase)], ...attributes, captions: spriteCaptions(attributes) };
  });
  const head = JSON.stringify(header).slice(0, -1);
  return new TextEncoder().encode(`${head},"bases":[\n${entries.map((entry) => JSON.stringify(entry)).join(",\n")}\n]}\n`);
}

/**
 * Reads `dir`/captions_16x16.json: each image's captions and attributes (through its base) and
 * the caption vocabulary. Throws, naming the command that makes the file, if it is missing, and
 * if its entries do not cover the images 0 .. count - 1 in order.
 */
export function loadSpriteCaptions(dir: string): SpriteCaptions {
  const path = join(dir, SPRITE_CAPTIONS_FILE);
  if (!existsSync(path)) {
    throw new Error(
      `${path}: no sprite captions; \`npm run sprites -- --ensure --out ${dir}\` makes them beside the set its manifest ` +
        `describes (or \`npm run sprites -- --out ${dir}\` regenerates the whole set with them).`,
    );
  }
  const file = JSON.parse(readFileSync(path, "utf8")) as CaptionsHeader & { bases: BaseCaptions[] };
  if (file.format !== SPRITE_CAPTIONS_FORMAT) {
    throw new Error(`${path}: captions format "${file.format}", expected "${SPRITE_CAPTIONS_FORMAT}"; regenerate it with \`npm run sprites -- --ensure --out ${dir}\`.`);
  }
  const images: BaseCaptions[] = [];
  file.bases.forEach((entry, base) => {
    const [first, end] = entry.images;
    if (first !== images.length || end <= first) {
      throw new Error(`${path}: base entry ${base} covers images [${first}, ${end}), expected to start at ${images.length}; the file is damaged.`);
    }
    for (let i = first; i < end; i++) images.push(entry);
  });
  if (images.length !== file.count) throw new Error(`${path}: the entries cover ${images.length} images, the header says ${file.count}; the file is damaged.`);
  const vocabulary = captionVocabulary(file.bases.flatMap((entry) => entry.captions));
  return { count: file.count, variantsPerBase: file.variantsPerBase, bases: file.bases, images, vocabulary };
}
