/**
 * Checkpoints: a folder with `manifest.json` (architecture, schedule, training position and
 * config, data fingerprint, backend, library version, and the index of every tensor) and one
 * binary file of little-endian float32 tensors that the manifest names and hashes.
 *
 * Saving is atomic: the new tensor file is written under a new name (temporary file, fsync,
 * rename), then the manifest is replaced the same way, then the old tensor file is removed.
 * A crash at any moment leaves a manifest that points to a complete tensor file.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { LinearScheduleConfig } from "../diffusion/schedule";
import type { ContextUnetConfig } from "../model/contextUnet";
import type { WeightMap } from "../model/parameters";
import { writeFileAtomic } from "./atomicFile";
import type { TrainConfig } from "./config";
import type { EpochReport, TrainingPosition } from "./trainer";

export const CHECKPOINT_FORMAT = "sprite-diffusion-checkpoint";
export const CHECKPOINT_FORMAT_VERSION = 1;
export const MANIFEST_FILE = "manifest.json";

/** Which part of the state a tensor belongs to. */
export type TensorGroup = "model" | "optimizer" | "ema";

export interface TensorEntry {
  name: string;
  group: TensorGroup;
  shape: number[];
  /** Offset in float32 elements from the start of the tensor file. */
  offset: number;
}

export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  formatVersion: number;
  libraryVersion: string;
  createdAt: string;
  architecture: { name: "ContextUnet"; config: ContextUnetConfig; parameterCount: number };
  schedule: { kind: "linear" } & LinearScheduleConfig;
  training: (TrainingPosition & { config: TrainConfig; history: EpochReport[] }) | null;
  data: { fingerprint: string; count: number; source: string } | null;
  backend: string;
  tensors: { file: string; sha256: string; entries: TensorEntry[] };
}

export interface CheckpointContents {
  manifest: CheckpointManifest;
  model: WeightMap;
  optimizer: WeightMap | null;
  ema: WeightMap | null;
}

export type ManifestFields = Omit<CheckpointManifest, "format" | "formatVersion" | "createdAt" | "tensors">;

/** Writes a checkpoint into `dir` atomically (see the module comment); optimizer/ema optional. */
export function saveCheckpoint(
  dir: string,
  fields: ManifestFields,
  state: { model: WeightMap; optimizer?: WeightMap | null; ema?: WeightMap | null },
): CheckpointManifest {
  mkdirSync(dir, { recursive: true });
  const entries: TensorEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const groups: Array<[TensorGroup, WeightMap | null | undefined]> = [["model", state.model], ["optimizer", state.optimizer], ["ema", state.ema]];
  for (const [group, weights] of groups) {
    for (const [name, tensor] of Object.entries(weights ?? {})) {
      entries.push({ name, group, shape: tensor.shape, offset });
      const data = Float32Array.from(tensor.data); // a fresh, aligned copy (little-endian on x86 and ARM)
      chunks.push(new Uint8Array(data.buffer));
      offset += data.length;
    }
  }
  const hash = createHash("sha256");
  for (const chunk of chunks) hash.update(chunk);
  const sha256 = hash.digest("hex");
  const file = `tensors-${sha256.slice(0, 12)}.bin`;
  writeFileAtomic(join(dir, file), chunks);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    ...fields,
    tensors: { file, sha256, entries },
  };
  writeFileAtomic(join(dir, MANIFEST_FILE), new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n"));
  for (const name of readdirSync(dir)) {
    if (name.startsWith("tensors-") && name.endsWith(".bin") && name !== file) unlinkSync(join(dir, name));
  }
  return manifest;
}

/** Reads and verifies a checkpoint; errors say which file and what is wrong. */
export function loadCheckpoint(dir: string): CheckpointContents {
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw new Error(`No checkpoint in ${dir}: ${MANIFEST_FILE} is missing.`);
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  } catch (error) {
    throw new Error(`Checkpoint ${manifestPath} is not valid JSON (${(error as Error).message}); the file is damaged.`);
  }
  if (manifest.format !== CHECKPOINT_FORMAT || manifest.formatVersion !== CHECKPOINT_FORMAT_VERSION) {
    throw new Error(`${manifestPath} is not a ${CHECKPOINT_FORMAT} v${CHECKPOINT_FORMAT_VERSION} manifest (format "${manifest.format}" v${manifest.formatVersion}).`);
  }
  const tensorPath = join(dir, manifest.tensors.file);
  if (!existsSync(tensorPath)) throw new Error(`Checkpoint ${dir}: its tensor file ${manifest.tensors.file} is missing.`);
  const bytes = readFileSync(tensorPath);
  const expectedBytes = manifest.tensors.entries.reduce((n, e) => n + 4 * e.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes.length !== expectedBytes) {
    throw new Error(`Checkpoint ${tensorPath} has ${bytes.length} bytes, the manifest needs ${expectedBytes}: the file is truncated or damaged.`);
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== manifest.tensors.sha256) {
    throw new Error(`Checkpoint ${tensorPath} does not match the sha256 in its manifest: the file is damaged.`);
  }
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const groups: Record<TensorGroup, WeightMap> = { model: {}, optimizer: {}, ema: {} };
  for (const entry of manifest.tensors.entries) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    groups[entry.group][entry.name] = { shape: entry.shape, data: floats.slice(entry.offset, entry.offset + size) };
  }
  const orNull = (w: WeightMap) => (Object.keys(w).length > 0 ? w : null);
  return { manifest, model: groups.model, optimizer: orNull(groups.optimizer), ema: orNull(groups.ema) };
}

/**
 * Differences between what a checkpoint was made with and what it is asked to fill, one line
 * each ("architecture.config.nFeat: checkpoint 32, model 64"); empty when they agree.
 */
export function describeMismatch(expected: unknown, found: unknown, path: string): string[] {
  if (typeof expected !== "object" || expected === null || typeof found !== "object" || found === null) {
    return JSON.stringify(expected) === JSON.stringify(found) ? [] : [`${path}: checkpoint ${JSON.stringify(found)}, expected ${JSON.stringify(expected)}`];
  }
  const keys = new Set([...Object.keys(expected), ...Object.keys(found)]);
  return [...keys].flatMap((k) => describeMismatch((expected as Record<string, unknown>)[k], (found as Record<string, unknown>)[k], `${path}.${k}`));
}
