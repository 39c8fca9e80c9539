/**
 * ARDM checkpoints: the diffusion checkpoints' folder layout and atomic writes
 * (../train/checkpoint.ts: manifest.json beside one hashed file of float32 tensors in the groups
 * model / optimizer / ema), under their own format tag, since an ARDM has no noise schedule and is
 * no noise model: the manifest records the network's architecture (its name, ArdmTransformer or
 * ArdmConvUnet, and config), the variables (D, K and their layout), the training position, config
 * and history, and the data it trained on.
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { type StateFormat, type StoredState, MANIFEST_FILE, describeMismatch, loadTrainingState, saveTrainingState } from "../train/checkpoint";
import type { EpochReport, EpochSoFar, TrainingPosition } from "../train/epochTrainer";
import { type DataInfo, LIBRARY_VERSION, type WeightChoice, parseWeightChoice } from "../train/trainingCheckpoint";
import { type ArdmTrainConfig, type ArdmTrainer, resolveArdmTrainConfig } from "./training";
import { type ArdmArchitecture, type ArdmTrainableNetwork, ardmArchitectureOf, buildArdmNetwork } from "./architectures";

export const ARDM_CHECKPOINT: Readonly<StateFormat> = Object.freeze({ format: "sprite-diffusion-ardm-checkpoint", formatVersion: 1 });

/** How a datum's variables are laid out (the sprites' files, NHWC). */
export const ARDM_VARIABLE_LAYOUT = "NHWC uint8 channels: variable = (row * width + column) * channels + channel";

export interface ArdmManifestFields {
  libraryVersion: string;
  architecture: ArdmArchitecture & { parameterCount: number };
  variables: { dimensions: number; categories: number; layout: string };
  training: TrainingPosition & { config: ArdmTrainConfig; history: EpochReport[]; epochSoFar?: EpochSoFar };
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
    architecture: { ...ardmArchitectureOf(network), parameterCount: network.parameterCount },
    variables: { dimensions: network.dimensions, categories: network.categories, layout: ARDM_VARIABLE_LAYOUT },
    training: { ...trainer.position, epochSoFar: { ...trainer.epochSoFar }, config: { ...trainer.config }, history: trainer.history },
    data,
    backend: tf.getBackend(),
  };
  return saveTrainingState(dir, ARDM_CHECKPOINT, fields, { model, optimizer: weightsOnly ? null : optimizer, ema });
}

/** The network a manifest records, its config checked (errors name the manifest). */
function manifestNetwork(manifest: ArdmCheckpointManifest, dir: string): ArdmTrainableNetwork {
  const { architecture } = manifest;
  const where = join(dir, MANIFEST_FILE);
  const name: string | undefined = architecture?.name;
  if (name !== "ArdmTransformer" && name !== "ArdmConvUnet") {
    throw new Error(`${where}: architecture "${name}" is neither an ArdmTransformer nor an ArdmConvUnet; load it with the version that saved it (${manifest.libraryVersion}).`);
  }
  try {
    return buildArdmNetwork(architecture);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}

/** An ARDM loaded from a checkpoint: the network, its manifest, and which weights it holds. */
export interface LoadedArdm {
  network: ArdmTrainableNetwork;
  manifest: ArdmCheckpointManifest;
  weights: "ema" | "raw";
  /** Says so in words, e.g. "EMA weights (decay 0.999)". */
  weightsLabel: string;
}

/**
 * Builds the network an ARDM checkpoint names and loads the weights `options.weights` asks
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
 * data. Throws listing every difference, and changes nothing then; a checkpoint of the other
 * network refuses at once, saying which network each is.
 */
export function resumeArdmTraining(dir: string, trainer: ArdmTrainer, data: DataInfo): ArdmCheckpointManifest {
  const contents = loadTrainingState<ArdmCheckpointManifest>(dir, ARDM_CHECKPOINT);
  const { manifest } = contents;
  const ours = ardmArchitectureOf(trainer.network);
  const theirs: string | undefined = manifest.architecture?.name;
  if (theirs !== ours.name) {
    const option = theirs === "ArdmConvUnet" ? " (train-ardm --network conv)" : theirs === "ArdmTransformer" ? " (train-ardm --network transformer)" : "";
    throw new Error(`Cannot resume from ${dir}: it holds an ${theirs} but this run trains an ${ours.name}; resume it with the network it was trained with${option}, or choose another folder.`);
  }
  const problems = [
    ...describeMismatch(ours, { name: manifest.architecture.name, config: manifest.architecture.config }, "architecture"),
    ...describeMismatch(trainer.config, manifest.training ? resolveArdmTrainConfig(manifest.training.config) : undefined, "training.config"),
    ...describeMismatch(data.fingerprint, manifest.data?.fingerprint, "data.fingerprint"),
  ];
  if (!contents.optimizer) problems.push("the checkpoint holds weights only (no optimizer state): it cannot resume training");
  if (problems.length > 0) throw new Error(`Cannot resume from ${dir}; the checkpoint differs from this run:\n  ${problems.join("\n  ")}`);
  trainer.network.setWeights(contents.model);
  const { epoch, stepInEpoch, globalStep, history, epochSoFar } = manifest.training;
  trainer.restore({ epoch, stepInEpoch, globalStep }, history, contents.optimizer!, contents.ema, epochSoFar ?? null);
  return manifest;
}
