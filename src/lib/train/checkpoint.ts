/**
 * Checkpoints: a folder with `manifest.json` (architecture, schedule, training position and
 * config, data fingerprint, backend, library version, the DDPM config file of a run trained from
 * one, and the index of every tensor) and one
 * binary file of little-endian float32 tensors that the manifest names and hashes.
 *
 * Saving is atomic: the new tensor file is written under a new name (temporary file, fsync,
 * rename), then the manifest is replaced the same way, then the old tensor file is removed.
 * A crash at any moment leaves a manifest that points to a complete tensor file.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DdpmConfig } from "../config/ddpmConfig";
import type { ScheduleConfig } from "../diffusion/schedule";
import type { ModelArchitecture } from "../model/architecture";
import type { WeightMap } from "../model/parameters";
import { type TensorIndexEntry, commitManifest, readTensorFile, writeTensorFile } from "./tensorFile";
import type { TrainConfig } from "./config";
import type { EpochReport, EpochSoFar, TrainingPosition } from "./epochTrainer";

/** What a run trained on: a fingerprint of the data, how many images, from where. */
export interface DataRecord {
  fingerprint: string;
  count: number;
  source: string;
  /** A text run's held-out kind-and-colour pairs (../text/heldOutPrompts.ts), whose images it never trained on. */
  heldOut?: Array<{ kind: string; colour: string; prompt: string }>;
}

export const CHECKPOINT_FORMAT = "sprite-diffusion-checkpoint";
export const CHECKPOINT_FORMAT_VERSION = 1;
export const MANIFEST_FILE = "manifest.json";

/** Which part of the state a tensor belongs to. */
export type TensorGroup = "model" | "optimizer" | "ema";

export interface TensorEntry extends TensorIndexEntry {
  group: TensorGroup;
}

export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  formatVersion: number;
  libraryVersion: string;
  createdAt: string;
  /** Which network and its configuration (a tagged union: ContextUnet or AttentionUnet). */
  architecture: ModelArchitecture & { parameterCount: number };
  schedule: ScheduleConfig;
  /** timestepHistory: the importance sampler's last losses per t (runs with importance-sampled t only). */
  training: (TrainingPosition & { config: TrainConfig; history: EpochReport[]; timestepHistory?: number[][]; epochSoFar?: EpochSoFar }) | null;
  data: DataRecord | null;
  /** The whole config file a run of `npm run train -- --config FILE` was trained with (absent otherwise). */
  ddpmConfig?: DdpmConfig;
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

/** The tag and version a manifest of stored training state starts with, so loading can refuse another kind. */
export interface StateFormat {
  format: string;
  formatVersion: number;
}

/** The manifest fields every stored training state gets besides the caller's: format, time, tensor index. */
export type StoredState<F> = F & StateFormat & { createdAt: string; tensors: { file: string; sha256: string; entries: TensorEntry[] } };

/**
 * Writes `fields` and the state's tensors (model, optimizer, ema groups) into `dir` as a manifest
 * of `kind` atomically (see the module comment). Diffusion checkpoints and ARDM checkpoints
 * (../ardm/checkpoint.ts) are both written by it.
 */
export function saveTrainingState<F extends object>(
  dir: string,
  kind: StateFormat,
  fields: F,
  state: { model: WeightMap; optimizer?: WeightMap | null; ema?: WeightMap | null },
): StoredState<F> {
  mkdirSync(dir, { recursive: true });
  const tensors = writeTensorFile(dir, [
    { group: "model", weights: state.model },
    { group: "optimizer", weights: state.optimizer ?? {} },
    { group: "ema", weights: state.ema ?? {} },
  ]);
  const manifest = {
    format: kind.format,
    formatVersion: kind.formatVersion,
    createdAt: new Date().toISOString(),
    ...fields,
    tensors: tensors as { file: string; sha256: string; entries: TensorEntry[] },
  };
  commitManifest(dir, MANIFEST_FILE, manifest);
  return manifest;
}

/** Reads and verifies a stored training state of `kind`; errors say which file and what is wrong. */
export function loadTrainingState<M extends StateFormat & { tensors: { file: string; sha256: string; entries: TensorEntry[] } }>(
  dir: string,
  kind: StateFormat,
): { manifest: M; model: WeightMap; optimizer: WeightMap | null; ema: WeightMap | null } {
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw new Error(`No checkpoint in ${dir}: ${MANIFEST_FILE} is missing.`);
  let manifest: M;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  } catch (error) {
    throw new Error(`Checkpoint ${manifestPath} is not valid JSON (${(error as Error).message}); the file is damaged.`);
  }
  if (manifest.format !== kind.format || manifest.formatVersion !== kind.formatVersion) {
    throw new Error(`${manifestPath} is not a ${kind.format} v${kind.formatVersion} manifest (format "${manifest.format}" v${manifest.formatVersion}).`);
  }
  const groups = readTensorFile(dir, manifest.tensors, "Checkpoint");
  const group = (name: TensorGroup) => groups.get(name) ?? {};
  const orNull = (w: WeightMap) => (Object.keys(w).length > 0 ? w : null);
  return { manifest, model: group("model"), optimizer: orNull(group("optimizer")), ema: orNull(group("ema")) };
}

const DIFFUSION_CHECKPOINT: StateFormat = { format: CHECKPOINT_FORMAT, formatVersion: CHECKPOINT_FORMAT_VERSION };

/** Writes a checkpoint into `dir` atomically (see the module comment); optimizer/ema optional. */
export function saveCheckpoint(
  dir: string,
  fields: ManifestFields,
  state: { model: WeightMap; optimizer?: WeightMap | null; ema?: WeightMap | null },
): CheckpointManifest {
  return saveTrainingState(dir, DIFFUSION_CHECKPOINT, fields, state) as CheckpointManifest;
}

/** Reads and verifies a checkpoint; errors say which file and what is wrong. */
export function loadCheckpoint(dir: string): CheckpointContents {
  return loadTrainingState<CheckpointManifest>(dir, DIFFUSION_CHECKPOINT);
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
