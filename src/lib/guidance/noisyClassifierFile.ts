/**
 * The shipped noisy-sprite classifier on disk (models/noisy-classifier), stored as the metric
 * classifier is (../metrics/classifierFile.ts): manifest.json (architecture, the data and split it
 * was trained on, the noise schedule, its training recipe and held-out accuracy per band of steps)
 * and one file of little-endian float32 tensors that the manifest names and hashes. Written
 * atomically: tensor file first under a new name, then the manifest, then old tensor files go.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { projectPath } from "../data/projectRoot";
import type { LinearScheduleConfig } from "../diffusion/schedule";
import { type TensorIndex, commitManifest, readTensorFile, writeTensorFile } from "../train/tensorFile";
import { type NoisyClassifierConfig, NoisySpriteClassifier } from "./noisyClassifier";
import type { NoisyClassifierEpochReport, NoisyClassifierTrainConfig, TBandAccuracy } from "./noisyClassifierTraining";

export const NOISY_CLASSIFIER_FORMAT = "sprite-diffusion-noisy-classifier";
export const NOISY_CLASSIFIER_FORMAT_VERSION = 1;
/** Where the project's noisy classifier lives, relative to the project root. */
export const DEFAULT_NOISY_CLASSIFIER_DIR = "models/noisy-classifier";
const MANIFEST = "manifest.json";
const TRAIN_COMMAND = "`npm run train-noisy-classifier`";

export interface NoisyClassifierManifest {
  format: typeof NOISY_CLASSIFIER_FORMAT;
  formatVersion: number;
  createdAt: string;
  config: NoisyClassifierConfig;
  parameterCount: number;
  classNames: readonly string[];
  /** The sprite set it was trained on and how it was split (the metric classifier's split). */
  data: { source: string; generator: string; fingerprint: string; count: number; variantsPerBase: number };
  split: { heldOut: number; seed: number; groupSize: number; trainCount: number; heldOutCount: number };
  /** The forward process its training sprites were noised with (t / T is what it is told). */
  schedule: LinearScheduleConfig;
  training: { config: NoisyClassifierTrainConfig; history: NoisyClassifierEpochReport[]; backend: string; seconds: number };
  /** Held-out accuracy per band of steps, measured when it was saved (accuracyPerTBand). */
  heldOutAccuracy: { seed: number; bands: TBandAccuracy[] };
  tensors: TensorIndex;
}

/** What the caller supplies; the rest of the manifest comes from the classifier and the clock. */
export type NoisyClassifierFields = Omit<NoisyClassifierManifest, "format" | "formatVersion" | "createdAt" | "config" | "parameterCount" | "tensors">;

/** Writes the classifier's weights and `fields` into `dir` (relative to the project root). */
export async function saveNoisyClassifier(dir: string, classifier: NoisySpriteClassifier, fields: NoisyClassifierFields): Promise<NoisyClassifierManifest> {
  const folder = projectPath(dir);
  mkdirSync(folder, { recursive: true });
  const weights = await classifier.getWeights();
  const tensors = writeTensorFile(folder, [{ weights }]);
  const manifest: NoisyClassifierManifest = {
    format: NOISY_CLASSIFIER_FORMAT,
    formatVersion: NOISY_CLASSIFIER_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    config: { ...classifier.config, channels: [...classifier.config.channels] as [number, number, number] },
    parameterCount: classifier.parameterCount,
    ...fields,
    tensors,
  };
  commitManifest(folder, MANIFEST, manifest);
  return manifest;
}

/** Reads a noisy classifier's manifest; errors name the file, what is wrong, and what to run. */
export function readNoisyClassifierManifest(dir: string = DEFAULT_NOISY_CLASSIFIER_DIR): NoisyClassifierManifest {
  const folder = projectPath(dir);
  const path = join(folder, MANIFEST);
  if (!existsSync(folder)) throw new Error(`No noisy classifier: the folder ${folder} does not exist; train one with ${TRAIN_COMMAND} (it writes ${DEFAULT_NOISY_CLASSIFIER_DIR}).`);
  if (!existsSync(path)) throw new Error(`No noisy classifier in ${folder}: ${MANIFEST} is missing; train one with ${TRAIN_COMMAND}.`);
  let manifest: NoisyClassifierManifest;
  try {
    manifest = JSON.parse(readFileSync(path, "utf8")) as NoisyClassifierManifest;
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message}): the file is damaged; retrain with ${TRAIN_COMMAND}.`);
  }
  if (manifest?.format !== NOISY_CLASSIFIER_FORMAT || manifest.formatVersion !== NOISY_CLASSIFIER_FORMAT_VERSION) {
    throw new Error(`${path} is not a ${NOISY_CLASSIFIER_FORMAT} v${NOISY_CLASSIFIER_FORMAT_VERSION} manifest (format "${manifest?.format}" v${manifest?.formatVersion}); is this another kind of model folder?`);
  }
  return manifest;
}

/**
 * Builds the noisy classifier saved in `dir` (default: the shipped one, models/noisy-classifier)
 * and loads its weights, checking size and sha256. The caller owns the classifier: dispose() it.
 */
export function loadNoisyClassifier(dir: string = DEFAULT_NOISY_CLASSIFIER_DIR): { classifier: NoisySpriteClassifier; manifest: NoisyClassifierManifest } {
  const manifest = readNoisyClassifierManifest(dir);
  const weights = readTensorFile(projectPath(dir), manifest.tensors, "Noisy classifier").get("") ?? {};
  const classifier = new NoisySpriteClassifier(manifest.config);
  try {
    classifier.setWeights(weights);
  } catch (error) {
    classifier.dispose();
    throw new Error(`Noisy classifier ${projectPath(dir)}: ${(error as Error).message}`);
  }
  return { classifier, manifest };
}
