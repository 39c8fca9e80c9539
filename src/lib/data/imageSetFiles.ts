/**
 * Image sets on disk beyond the sprites (data/mnist, data/textures): per part ("train", "test")
 * an images .npy, uint8 (N, H, W, C) NHWC, and a labels .npy, uint8 (N, K) one-hot, read back by
 * the same loader as the sprites (`loadImageDataset`), plus manifest.json: where the data comes
 * from, its licence, the command that makes it, and each file's size and sha256. As with the
 * sprites, the .npy files are made on the machine (`npm run make-data -- --set <name>`; set-up runs
 * it), not committed; the committed manifest proves a rebuild is byte-identical.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fingerprint, loadImageDataset, type SpriteDataset } from "./dataset";
import { formatNpy } from "./npy";

export type ImageSetPartName = "train" | "test";
export const IMAGE_SET_PARTS: readonly ImageSetPartName[] = ["train", "test"];
export const IMAGE_SET_MANIFEST_FILE = "manifest.json";

/** One part of a set in memory: `count` images, flat uint8 NHWC pixels, class indices. */
export interface ImageSetPart {
  count: number;
  pixels: Uint8Array;
  classes: Uint8Array;
}

/** What makes a part: the seed and the count per part (a converted set ignores both). */
export interface ImageSetOptions {
  seed: number;
  counts: Readonly<Record<ImageSetPartName, number>>;
}

/** A kind of image set: its fixed facts and the function that makes its parts. */
export interface ImageSetSpec {
  /** Folder under data/ and file-name prefix, e.g. "mnist". */
  name: string;
  /** One line for messages and the manifest. */
  description: string;
  /** Where the images come from (authors, package), and their licence. */
  source: string;
  licence: string;
  /** Version of the conversion or generator; bump it when the bytes it makes change. */
  generator: string;
  /** [height, width, channels] of every image. */
  imageShape: readonly [number, number, number];
  classNames: readonly string[];
  /** The options used when none are given. */
  defaults: ImageSetOptions;
  /** The command that (re)makes the set, quoted in messages. */
  command: string;
  /** Makes both parts; throws, saying how to get it, when the source is missing. */
  make(options: ImageSetOptions): Record<ImageSetPartName, ImageSetPart>;
}

export interface ImageSetFileRecord {
  name: string;
  bytes: number;
  sha256: string;
}

export interface ImageSetPartRecord {
  count: number;
  classCounts: number[];
  /** `fingerprint` of the part as loaded (sha256 of pixels and class bytes, 16 hex digits). */
  fingerprint: string;
  images: ImageSetFileRecord;
  labels: ImageSetFileRecord;
}

export interface ImageSetManifest {
  set: string;
  description: string;
  source: string;
  licence: string;
  generator: string;
  command: string;
  seed: number;
  imageShape: [number, number, number];
  classNames: string[];
  parts: Record<ImageSetPartName, ImageSetPartRecord>;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** File names of a part, e.g. mnist_train_28x28.npy and mnist_train_labels_28x28.npy. */
export function imageSetFileNames(spec: ImageSetSpec, part: ImageSetPartName): { images: string; labels: string } {
  const size = `${spec.imageShape[0]}x${spec.imageShape[1]}`;
  return { images: `${spec.name}_${part}_${size}.npy`, labels: `${spec.name}_${part}_labels_${size}.npy` };
}

/** The .npy bytes of every part and the manifest, without touching the disk. */
export function encodeImageSet(spec: ImageSetSpec, options: ImageSetOptions): { files: Map<string, Uint8Array>; manifest: ImageSetManifest } {
  const made = spec.make(options);
  const files = new Map<string, Uint8Array>();
  const k = spec.classNames.length;
  const parts = {} as Record<ImageSetPartName, ImageSetPartRecord>;
  for (const part of IMAGE_SET_PARTS) {
    const { count, pixels, classes } = made[part];
    const labels = new Uint8Array(count * k);
    const classCounts = new Array<number>(k).fill(0);
    for (let i = 0; i < count; i++) {
      labels[i * k + classes[i]] = 1;
      classCounts[classes[i]]++;
    }
    const names = imageSetFileNames(spec, part);
    const imagesNpy = formatNpy({ dtype: "uint8", shape: [count, ...spec.imageShape], data: pixels });
    const labelsNpy = formatNpy({ dtype: "uint8", shape: [count, k], data: labels });
    files.set(names.images, imagesNpy).set(names.labels, labelsNpy);
    const dataset: SpriteDataset = { count, pixels, classes, source: { images: names.images, labels: names.labels } };
    parts[part] = {
      count,
      classCounts,
      fingerprint: fingerprint(dataset),
      images: { name: names.images, bytes: imagesNpy.length, sha256: sha256(imagesNpy) },
      labels: { name: names.labels, bytes: labelsNpy.length, sha256: sha256(labelsNpy) },
    };
  }
  const { name: set, description, source, licence, generator, command } = spec;
  const manifest: ImageSetManifest = {
    set, description, source, licence, generator, command, seed: options.seed,
    imageShape: [...spec.imageShape], classNames: [...spec.classNames], parts,
  };
  return { files, manifest };
}

function writeAtomic(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, path);
}

/** Makes the set and writes its .npy files, then manifest.json, into `dir` (each atomically). */
export function writeImageSet(spec: ImageSetSpec, dir: string, options: ImageSetOptions = spec.defaults): ImageSetManifest {
  const { files, manifest } = encodeImageSet(spec, options);
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) writeAtomic(join(dir, name), bytes);
  writeAtomic(join(dir, IMAGE_SET_MANIFEST_FILE), new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"));
  return manifest;
}

/** Reads `dir`/manifest.json, or null when there is none. */
export function readImageSetManifest(dir: string): ImageSetManifest | null {
  const path = join(dir, IMAGE_SET_MANIFEST_FILE);
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as ImageSetManifest) : null;
}

function fileMatches(dir: string, record: ImageSetFileRecord): boolean {
  const path = join(dir, record.name);
  if (!existsSync(path)) return false;
  const bytes = readFileSync(path);
  return bytes.length === record.bytes && sha256(bytes) === record.sha256;
}

/**
 * Makes sure `dir` holds the set its manifest describes: when a file is missing or differs, makes
 * the set again from the manifest's seed and counts, checks the fresh bytes against the
 * manifest's hashes, and writes them. Throws, with the command to run, when there is no manifest,
 * the source is missing, or the maker no longer reproduces the manifest.
 */
export function ensureImageSet(spec: ImageSetSpec, dir: string): { manifest: ImageSetManifest; generated: boolean } {
  const manifest = readImageSetManifest(dir);
  if (manifest === null) {
    throw new Error(`${join(dir, IMAGE_SET_MANIFEST_FILE)}: no manifest of the ${spec.name} set (${spec.description}); make it with \`${spec.command} --out ${dir}\`.`);
  }
  const records = IMAGE_SET_PARTS.flatMap((part) => [manifest.parts[part].images, manifest.parts[part].labels]);
  if (records.every((record) => fileMatches(dir, record))) return { manifest, generated: false };
  const counts = { train: manifest.parts.train.count, test: manifest.parts.test.count };
  const fresh = encodeImageSet(spec, { seed: manifest.seed, counts });
  const differs = records.filter((record) => sha256(fresh.files.get(record.name) ?? new Uint8Array()) !== record.sha256);
  if (differs.length > 0) {
    throw new Error(
      `${join(dir, IMAGE_SET_MANIFEST_FILE)}: ${spec.generator} no longer reproduces ${differs.map((r) => r.name).join(", ")} of this manifest ` +
        `(${manifest.generator}); if that change is on purpose, rewrite the set and its manifest with \`${spec.command} --out ${dir}\` and commit the manifest.`,
    );
  }
  mkdirSync(dir, { recursive: true });
  for (const record of records) writeAtomic(join(dir, record.name), fresh.files.get(record.name) as Uint8Array);
  return { manifest, generated: true };
}

/**
 * One part of a set as a data set (images [H, W, C], K classes recorded in it), made first when
 * its files are missing (seconds; see ensureImageSet). `sampleTensors` then gives [B, H, W, C]
 * float32 images in [-1, 1] and [B, K] one-hot labels.
 */
export function loadImageSet(spec: ImageSetSpec, dir: string, part: ImageSetPartName = "train"): SpriteDataset {
  if (!IMAGE_SET_PARTS.includes(part)) throw new Error(`loadImageSet: part must be one of ${IMAGE_SET_PARTS.join(", ")}, got "${part}".`);
  const { manifest } = ensureImageSet(spec, dir);
  const record = manifest.parts[part];
  return loadImageDataset(join(dir, record.images.name), join(dir, record.labels.name));
}
