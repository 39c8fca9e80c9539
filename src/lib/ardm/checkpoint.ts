/**
 * ARDM checkpoints: the diffusion checkpoints' folder layout and atomic writes
 * (../train/checkpoint.ts: manifest.json beside one hashed file of float32 tensors in the groups
 * model / optimizer / ema), under their own format tag, since an ARDM has no noise schedule and is
 * no noise model: the manifest records the transformer's config, the variables (D, K and their
 * layout), the training position, config and history, and the data it trained on.
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { type StateFormat, type StoredState, MANIFEST_FILE, describeMismatch, loadTrainingState, saveTrainingState } from "../train/checkpoint";
import type { EpochReport, TrainingPosition } from "../train/epochTrainer";
import { type DataInfo, LIBRARY_VERSION, type WeightChoice, parseWeightChoice } from "../train/trainingCheckpoint";
import { type ArdmTrainConfig, type ArdmTrainer, resolveArdmTrainConfig } from "./training";
import { ArdmTransformer, type ArdmTransformerConfig, checkArdmTransformerConfig } from "./transformer";

export const ARDM_CHECKPOINT: Readonly<StateFormat> = Object.freeze({ format: "sprite-diffusion-ardm-checkpoint", formatVersion: 1 });

/** How a datum's variables are laid out (the sprites' files, NHWC). */
export const ARDM_VARIABLE_LAYOUT = "NHWC uint8 channels: variable = (row * width + column) * channels + channel";

export interface ArdmManifestFields {
  libraryVersion: string;
  architecture: { name: "ArdmTransformer"; config: ArdmTransformerConfig; parameterCount: number };
  variables: { dimensions: number; categories: number; layout: string };
  training: TrainingPosition & { config: ArdmTrainConfig; history: EpochReport[] };
  /** The training data: fingerprint, count and files (a seeded --subset is rebuilt from them and training.config.seed). */
  data: DataInfo;
  backend: string;
}

export type ArdmCheckpointManifest = StoredState<ArdmManifestFields>;

/**
 * Saves the trainer's network, position, config, history, EMA weights and (unless weightsOnly)
 * its optimizer state into `dir`, atomically.
 */
export async function saveArdmCheckpoint(dir: string, trainer: ArdmTrainer, data: DataInfo, weightsOnly = false): Promise<ArdmCheckpointManifest> {
  const { network } = trainer;
  const model = await network.getWeights();
  const { optimizer, ema } = await trainer.readState();
  const fields: ArdmManifestFields = {
    libraryVersion: LIBRARY_VERSION,
    architecture: { name: "ArdmTransformer", config: { ...network.config }, parameterCount: network.parameterCount },
    variables: { dimensions: network.dimensions, categories: network.categories, layout: ARDM_VARIABLE_LAYOUT },
    training: { ...trainer.position, config: { ...trainer.config }, history: trainer.history },
    data,
    backend: tf.getBackend(),
  };
  return saveTrainingState(dir, ARDM_CHECKPOINT, fields, { model, optimizer: weightsOnly ? null : optimizer, ema });
}

/** The transformer a manifest records, its config checked (errors name the manifest). */
function manifestNetwork(manifest: ArdmCheckpointManifest, dir: string): ArdmTransformer {
  const { architecture } = manifest;
  const where = join(dir, MANIFEST_FILE);
  if (architecture?.name !== "ArdmTransformer") throw new Error(`${where}: architecture "${architecture?.name}" is not an ArdmTransformer; load it with the version that saved it (${manifest.libraryVersion}).`);
  try {
    return new ArdmTransformer(checkArdmTransformerConfig(architecture.config));
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}

/** An ARDM loaded from a checkpoint: the network, its manifest, and which weights it holds. */
export interface LoadedArdm {
  network: ArdmTransformer;
  manifest: ArdmCheckpointManifest;
  weights: "ema" | "raw";
  /** Says so in words, e.g. "EMA weights (decay 0.999)". */
  weightsLabel: string;
}

/**
 * Builds the transformer an ARDM checkpoint names and loads the weights `options.weights` asks
 * for ("auto", the default: the EMA weights when the checkpoint keeps them). The caller owns the
 * network (dispose() it).
 */
export function loadArdm(dir: string, options: { weights?: WeightChoice } = {}): LoadedArdm {
  const choice = parseWeightChoice(options.weights ?? "auto");
  const contents = loadTrainingState<ArdmCheckpointManifest>(dir, ARDM_CHECKPOINT);
  if (choice === "ema" && !contents.ema) throw new Error(`Checkpoint ${dir} keeps no EMA weights (it was trained with --ema off); load its trained weights with weights "raw" or "auto".`);
  const weights = choice !== "raw" && contents.ema ? "ema" : "raw";
  const network = manifestNetwork(contents.manifest, dir);
  try {
    network.setWeights(weights === "ema" ? contents.ema! : contents.model);
  } catch (error) {
    network.dispose();
    throw new Error(`Checkpoint ${dir}: ${(error as Error).message}`);
  }
  const decay = contents.manifest.training.config.emaDecay;
  const weightsLabel = weights === "ema" ? `EMA weights (decay ${decay})` : contents.ema ? "raw weights (the checkpoint also keeps an EMA)" : "raw weights (the checkpoint keeps no EMA)";
  return { network, manifest: contents.manifest, weights, weightsLabel };
}

/**
 * Restores a trainer from a checkpoint of the same run: same architecture, training config and
 * data. Throws listing every difference, and changes nothing then.
 */
export function resumeArdmTraining(dir: string, trainer: ArdmTrainer, data: DataInfo): ArdmCheckpointManifest {
  const contents = loadTrainingState<ArdmCheckpointManifest>(dir, ARDM_CHECKPOINT);
  const { manifest } = contents;
  const problems = [
    ...describeMismatch({ name: "ArdmTransformer", config: { ...trainer.network.config } }, { name: manifest.architecture?.name, config: manifest.architecture?.config }, "architecture"),
    ...describeMismatch(trainer.config, manifest.training ? resolveArdmTrainConfig(manifest.training.config) : undefined, "training.config"),
    ...describeMismatch(data.fingerprint, manifest.data?.fingerprint, "data.fingerprint"),
  ];
  if (!contents.optimizer) problems.push("the checkpoint holds weights only (no optimizer state): it cannot resume training");
  if (problems.length > 0) throw new Error(`Cannot resume from ${dir}; the checkpoint differs from this run:\n  ${problems.join("\n  ")}`);
  trainer.network.setWeights(contents.model);
  const { epoch, stepInEpoch, globalStep, history } = manifest.training;
  trainer.restore({ epoch, stepInEpoch, globalStep }, history, contents.optimizer!, contents.ema);
  return manifest;
}
