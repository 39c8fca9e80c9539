/**
 * The project's sprite set on disk (data/sprites): the images and labels .npy files in the
 * course's format, the captions file (spriteCaptions.ts), and manifest.json recording the
 * generator version, seed, sizes and the sha256 of each file. The .npy files (69 MB) and the
 * captions (0.5 MB) are generated, not committed; the manifest is committed, so
 * `ensureSpriteSet` can regenerate them and prove they are byte-identical.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatNpy, type NpyArray } from "./npy";
import { projectPath } from "./projectRoot";
import { SPRITE_CLASSES, loadSpriteDataset, type SpriteDataset } from "./dataset";
import { SPRITE_GENERATOR_VERSION, generateSpriteSet, type SpriteSet, type SpriteSetOptions } from "./sprites/generate";
import { SPRITE_CLASS_NAMES } from "./sprites/classes";
import { SPRITE_CAPTIONS_FILE, SPRITE_CAPTIONS_FORMAT, encodeSpriteCaptions } from "./spriteCaptions";

/** The project's data/sprites (absolute, from the project root, not the cwd). */
export const DEFAULT_SPRITE_DIR = projectPath(join("data", "sprites"));
export const SPRITE_IMAGES_FILE = "sprites_16x16.npy";
export const SPRITE_LABELS_FILE = "sprite_labels_16x16.npy";
export const SPRITE_MANIFEST_FILE = "manifest.json";
/** The course's file names, for users who have them. */
export const COURSE_IMAGES_FILE = "sprites_1788_16x16.npy";
export const COURSE_LABELS_FILE = "sprite_labels_nc_1788_16x16.npy";

export interface SpriteFileRecord {
  name: string;
  bytes: number;
  sha256: string;
}

export interface SpriteManifest {
  generator: string;
  seed: number;
  count: number;
  baseCount: number;
  variantsPerBase: number;
  classNames: readonly string[];
  classCounts: number[];
  images: SpriteFileRecord;
  labels: SpriteFileRecord;
  /** Absent from manifests written before the captions existed. */
  captions?: SpriteFileRecord;
}

/** The set as the course's arrays: uint8 (N, 16, 16, 3) images, float64 (N, 5) one-hot labels. */
export function spriteSetArrays(set: SpriteSet): { images: NpyArray; labels: NpyArray } {
  const labels = new Float64Array(set.count * SPRITE_CLASSES);
  for (let i = 0; i < set.count; i++) labels[i * SPRITE_CLASSES + set.classes[i]] = 1;
  return {
    images: { dtype: "uint8", shape: [set.count, 16, 16, 3], data: set.images },
    labels: { dtype: "float64", shape: [set.count, SPRITE_CLASSES], data: labels },
  };
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** The bytes of a set's files (.npy images and labels, captions) and its manifest, without touching the disk. */
export function encodeSpriteSet(set: SpriteSet): { imagesNpy: Uint8Array; labelsNpy: Uint8Array; captionsJson: Uint8Array; manifest: SpriteManifest } {
  const arrays = spriteSetArrays(set);
  const imagesNpy = formatNpy(arrays.images);
  const labelsNpy = formatNpy(arrays.labels);
  const captionsJson = encodeSpriteCaptions(set);
  const classCounts = new Array<number>(SPRITE_CLASSES).fill(0);
  for (const c of set.classes) classCounts[c]++;
  const manifest: SpriteManifest = {
    generator: SPRITE_GENERATOR_VERSION,
    seed: set.seed,
    count: set.count,
    baseCount: set.baseCount,
    variantsPerBase: set.variantsPerBase,
    classNames: SPRITE_CLASS_NAMES,
    classCounts,
    images: { name: SPRITE_IMAGES_FILE, bytes: imagesNpy.length, sha256: sha256(imagesNpy) },
    labels: { name: SPRITE_LABELS_FILE, bytes: labelsNpy.length, sha256: sha256(labelsNpy) },
    captions: { name: SPRITE_CAPTIONS_FILE, bytes: captionsJson.length, sha256: sha256(captionsJson) },
  };
  return { imagesNpy, labelsNpy, captionsJson, manifest };
}

/** Writes the set's two .npy files, its captions and then manifest.json into `dir` (each atomically). */
export function writeSpriteSet(dir: string, set: SpriteSet): SpriteManifest {
  const { imagesNpy, labelsNpy, captionsJson, manifest } = encodeSpriteSet(set);
  mkdirSync(dir, { recursive: true });
  writeAtomic(join(dir, SPRITE_IMAGES_FILE), imagesNpy);
  writeAtomic(join(dir, SPRITE_LABELS_FILE), labelsNpy);
  writeAtomic(join(dir, SPRITE_CAPTIONS_FILE), captionsJson);
  writeAtomic(join(dir, SPRITE_MANIFEST_FILE), new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"));
  return manifest;
}

function writeAtomic(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, path);
}

/** Reads `dir`/manifest.json, or null when there is none. */
export function readSpriteManifest(dir: string = DEFAULT_SPRITE_DIR): SpriteManifest | null {
  const path = join(dir, SPRITE_MANIFEST_FILE);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, "utf8")) as SpriteManifest;
}

/** Whether a file on disk has the size and sha256 the manifest records. */
export function fileMatches(dir: string, record: SpriteFileRecord): boolean {
  const path = join(dir, record.name);
  if (!existsSync(path)) return false;
  const bytes = readFileSync(path);
  return bytes.length === record.bytes && sha256(bytes) === record.sha256;
}

/**
 * Makes sure `dir` holds the sprite set its manifest describes: if a file is missing or differs,
 * regenerates the set from the manifest's seed and sizes, checks the fresh bytes against the
 * manifest's hashes, and writes them (the captions too, when the manifest records them).
 * Returns the paths (captions null for a manifest without them) and whether it generated.
 * Throws if there is no manifest, or if the generator no longer reproduces it.
 */
export function ensureSpriteSet(dir: string = DEFAULT_SPRITE_DIR): { images: string; labels: string; captions: string | null; generated: boolean } {
  const manifest = readSpriteManifest(dir);
  if (manifest === null) {
    throw new Error(`${join(dir, SPRITE_MANIFEST_FILE)}: no sprite manifest; generate a set with \`npm run sprites -- --out ${dir}\`.`);
  }
  const captions = manifest.captions ?? null;
  const paths = { images: join(dir, manifest.images.name), labels: join(dir, manifest.labels.name), captions: captions && join(dir, captions.name) };
  const records = captions === null ? [manifest.images, manifest.labels] : [manifest.images, manifest.labels, captions];
  if (records.every((record) => fileMatches(dir, record))) return { ...paths, generated: false };
  const options: SpriteSetOptions = { seed: manifest.seed, count: manifest.count, variantsPerBase: manifest.variantsPerBase };
  const fresh = encodeSpriteSet(generateSpriteSet(options));
  const freshCaptions = fresh.manifest.captions as SpriteFileRecord;
  if (
    fresh.manifest.images.sha256 !== manifest.images.sha256 ||
    fresh.manifest.labels.sha256 !== manifest.labels.sha256 ||
    (captions !== null && freshCaptions.sha256 !== captions.sha256)
  ) {
    throw new Error(
      `${join(dir, SPRITE_MANIFEST_FILE)}: the generator (${SPRITE_GENERATOR_VERSION}, ${SPRITE_CAPTIONS_FORMAT}) no longer reproduces this manifest ` +
        `(${manifest.generator}, seed ${manifest.seed}); if the generator was changed on purpose, rewrite the set and its ` +
        `manifest with \`npm run sprites -- --seed ${manifest.seed} --out ${dir}\` and commit the new manifest.`,
    );
  }
  mkdirSync(dir, { recursive: true });
  writeAtomic(paths.images, fresh.imagesNpy);
  writeAtomic(paths.labels, fresh.labelsNpy);
  if (paths.captions !== null) writeAtomic(paths.captions, fresh.captionsJson);
  return { ...paths, generated: true };
}

/**
 * The project's sprite set, generated first if the files are missing (a few seconds): checks the
 * files against the committed manifest, then loads them. For the course's own files use
 * `loadSpriteDataset(imagesPath, labelsPath)` instead.
 */
export function loadProjectSprites(dir: string = DEFAULT_SPRITE_DIR): SpriteDataset {
  const { images, labels } = ensureSpriteSet(dir);
  return loadSpriteDataset(images, labels);
}

/**
 * Which samples a class's contact sheet shows: the first `count` bases of that class in file
 * order, one seeded variant of each (so the sheet shows distinct bases and the jitter).
 */
export function contactSheetIndices(set: Pick<SpriteSet, "classes" | "variantsPerBase" | "seed">, classIndex: number, count = 64): number[] {
  const picked: number[] = [];
  const v = set.variantsPerBase;
  for (let base = 0; base * v < set.classes.length && picked.length < count; base++) {
    if (set.classes[base * v] !== classIndex) continue;
    const variant = (base * 7 + set.seed) % Math.min(v, set.classes.length - base * v);
    picked.push(base * v + variant);
  }
  return picked;
}
