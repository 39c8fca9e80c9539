/**
 * The shipped classifier on disk (models/classifier): manifest.json (architecture, the data and
 * split it was trained on, its training recipe and held-out score) and one file of little-endian
 * float32 tensors that the manifest names and hashes. Written atomically, as the diffusion
 * checkpoints are: tensor file first under a new name, then the manifest, then old tensor files go.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { projectPath } from "../data/projectRoot";
import { type TensorIndex, commitManifest, readTensorFile, writeTensorFile } from "../train/tensorFile";
import type { ImageSetName } from "../data/namedImageSets";
import type { AttributeClassifierRecord } from "./attributeClassifier";
import { SpriteClassifier, type SpriteClassifierConfig } from "./classifier";
import type { ClassifierEpochReport, ClassifierScore, ClassifierTrainConfig } from "./classifierTraining";

export const CLASSIFIER_FORMAT = "sprite-diffusion-classifier";
export const CLASSIFIER_FORMAT_VERSION = 1;
/** Where the project's classifier lives, relative to the project root. */
export const DEFAULT_CLASSIFIER_DIR = "models/classifier";
const MANIFEST = "manifest.json";

export interface ClassifierManifest {
  format: typeof CLASSIFIER_FORMAT;
  formatVersion: number;
  createdAt: string;
  config: SpriteClassifierConfig;
  parameterCount: number;
  classNames: readonly string[];
  /** The sprite set it was trained on and how it was split (whole base sprites held out). */
  data: { source: string; generator: string; fingerprint: string; count: number; variantsPerBase: number };
  split: { heldOut: number; seed: number; groupSize: number; trainCount: number; heldOutCount: number };
  training: { config: ClassifierTrainConfig; history: ClassifierEpochReport[]; backend: string };
  /** Its score on the held-out split, measured when it was saved. */
  heldOutScore: ClassifierScore;
  /**
   * Only for a classifier of a named 28x28 set (models/classifier-<set>): which set, the
   * fingerprints of the train part it trained on and the test part it was scored and measures
   * against, and the Frechet distances measured when it was saved (see imageSetFrechet.ts).
   * `data` then describes the train part (variantsPerBase 1) and `split` the test part (groupSize 1).
   */
  imageSet?: ImageSetClassifierRecord;
  /**
   * Only for a classifier of a sprite attribute (models/classifier-kind, -colour; see
   * attributeClassifier.ts): which attribute, its classes' counts and recalls, its confused pairs.
   * `classNames` are then the attribute's values.
   */
  attribute?: AttributeClassifierRecord;
  tensors: TensorIndex;
}

export interface ImageSetClassifierRecord {
  name: ImageSetName;
  trainFingerprint: string;
  testFingerprint: string;
  /** Real-vs-real floor: two disjoint draws of n test images (seeded order), and test images against clipped Gaussian noise. */
  frechet: { n: number; seed: number; floor: number; noise: number };
}

/** Writes the classifier's weights and `fields` into `dir` (relative to the project root). */
export async function saveClassifier(dir: string, classifier: SpriteClassifier, fields: Omit<ClassifierManifest, "format" | "formatVersion" | "createdAt" | "config" | "parameterCount" | "tensors">): Promise<ClassifierManifest> {
  const folder = projectPath(dir);
  mkdirSync(folder, { recursive: true });
  const weights = await classifier.getWeights();
  const tensors = writeTensorFile(folder, [{ weights }]);
  const manifest: ClassifierManifest = {
    format: CLASSIFIER_FORMAT,
    formatVersion: CLASSIFIER_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    config: { ...classifier.config, channels: [...classifier.config.channels] as [number, number, number] },
    parameterCount: classifier.parameterCount,
    classNames: fields.classNames,
    data: fields.data,
    split: fields.split,
    training: fields.training,
    heldOutScore: fields.heldOutScore,
    ...(fields.imageSet ? { imageSet: fields.imageSet } : {}),
    ...(fields.attribute ? { attribute: fields.attribute } : {}),
    tensors,
  };
  commitManifest(folder, MANIFEST, manifest);
  return manifest;
}

/** Reads a classifier's manifest; errors name the file and what is wrong with it. */
export function readClassifierManifest(dir: string = DEFAULT_CLASSIFIER_DIR): ClassifierManifest {
  const path = join(projectPath(dir), MANIFEST);
  if (!existsSync(path)) throw new Error(`No classifier in ${projectPath(dir)}: ${MANIFEST} is missing; train one with \`npm run train-classifier\`.`);
  const manifest = JSON.parse(readFileSync(path, "utf8")) as ClassifierManifest;
  if (manifest.format !== CLASSIFIER_FORMAT || manifest.formatVersion !== CLASSIFIER_FORMAT_VERSION) {
    throw new Error(`${path} is not a ${CLASSIFIER_FORMAT} v${CLASSIFIER_FORMAT_VERSION} manifest (format "${manifest.format}" v${manifest.formatVersion}).`);
  }
  return manifest;
}

/**
 * Builds the classifier saved in `dir` (default: the shipped one, models/classifier) and loads
 * its weights, checking size and sha256. The caller owns the classifier: dispose() it.
 */
export function loadClassifier(dir: string = DEFAULT_CLASSIFIER_DIR): { classifier: SpriteClassifier; manifest: ClassifierManifest } {
  const manifest = readClassifierManifest(dir);
  const weights = readTensorFile(projectPath(dir), manifest.tensors, "Classifier").get("") ?? {};
  const classifier = new SpriteClassifier(manifest.config);
  try {
    classifier.setWeights(weights);
  } catch (error) {
    classifier.dispose();
    throw new Error(`Classifier ${projectPath(dir)}: ${(error as Error).message}`);
  }
  return { classifier, manifest };
}
