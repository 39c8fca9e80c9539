/**
 * Checkpoints of models and of training runs: save a Trainer, load a model by its manifest
 * (whichever architecture it names), resume a Trainer. Loading checks the manifest against what
 * it is asked to fill and names every difference.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { PROJECT_ROOT } from "../data/projectRoot";
import { type Schedule, scheduleFromConfig } from "../diffusion/schedule";
import type { DdpmConfig } from "../config/ddpmConfig";
import { isModelFile, loadModelFile } from "../interop/modelFile";
import { architectureOf, buildModel, resolveArchitecture } from "../model/architecture";
import type { AttentionUnet } from "../model/attentionUnet/attentionUnet";
import { ContextUnet } from "../model/contextUnet";
import type { TrainableNoiseModel } from "../model/trainableNoiseModel";
import { TextContextUnet } from "../text/textContextUnet";
import { resolveTrainConfig } from "./config";
import { CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, type CheckpointManifest, type DataRecord, MANIFEST_FILE, describeMismatch, loadCheckpoint, saveCheckpoint } from "./checkpoint";
import type { Trainer } from "./trainer";

/** The library's version from the project's package.json. */
export const LIBRARY_VERSION: string = (() => {
  const path = join(PROJECT_ROOT, "package.json");
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")).version as string) : "unknown";
})();

/** What a run trained on, as its checkpoint records it. */
export type DataInfo = DataRecord;


/**
 * Saves the trainer's model (its architecture by name), position, config, history, EMA weights and
 * (unless weightsOnly) its optimizer state, atomically. weightsOnly makes a small file for shipping
 * (no resuming). `ddpmConfig`: the config file the run was made from, recorded whole.
 */
export async function saveTrainingCheckpoint(
  dir: string,
  trainer: Trainer<TrainableNoiseModel>,
  data: DataInfo,
  weightsOnly = false,
  ddpmConfig: DdpmConfig | null = null,
): Promise<CheckpointManifest> {
  const model = await trainer.model.getWeights();
  const { optimizer, ema, timestepHistory } = await trainer.readState();
  const state = { optimizer: weightsOnly ? null : optimizer, ema };
  return saveCheckpoint(
    dir,
    {
      libraryVersion: LIBRARY_VERSION,
      architecture: { ...architectureOf(trainer.model), parameterCount: trainer.model.parameterCount },
      schedule: { ...trainer.schedule.config },
      training: { ...trainer.position, epochSoFar: { ...trainer.epochSoFar }, config: trainer.config, history: trainer.history, ...(timestepHistory ? { timestepHistory } : {}) },
      data,
      backend: tf.getBackend(),
      ...(ddpmConfig ? { ddpmConfig } : {}),
    },
    { model, ...state },
  );
}

/**
 * The noise schedule a checkpoint's model was trained with, rebuilt from its manifest; throws
 * naming the kind and the file when the manifest holds a kind this library cannot build.
 */
function manifestSchedule(manifest: CheckpointManifest, dir: string): Schedule {
  const { kind } = manifest.schedule;
  if (kind !== "linear" && kind !== "cosine") {
    throw new Error(`${join(dir, MANIFEST_FILE)}: schedule kind "${kind}" is unknown to this library (it builds "linear" and "cosine"); load it with the version that saved it (${manifest.libraryVersion}).`);
  }
  try {
    return scheduleFromConfig(manifest.schedule);
  } catch (error) {
    throw new Error(`${join(dir, MANIFEST_FILE)}: ${(error as Error).message}`);
  }
}

/**
 * Which weights to load: "auto" (the default) takes the exponential moving average of the weights
 * when the checkpoint kept one and the trained weights otherwise; "ema" insists on the average;
 * "raw" takes the trained weights even when an average exists.
 */
export type WeightChoice = "auto" | "ema" | "raw";
export const WEIGHT_CHOICES: readonly WeightChoice[] = Object.freeze(["auto", "ema", "raw"]);

/** The weight choice named by `text`; throws listing the valid ones. */
export function parseWeightChoice(text: string): WeightChoice {
  const choice = WEIGHT_CHOICES.find((c) => c === text);
  if (!choice) throw new Error(`Unknown weights "${text}": use auto (EMA when the checkpoint has it), ema or raw.`);
  return choice;
}

/** A model loaded from a checkpoint, with the manifest and the schedule to sample it with. */
export interface LoadedModel<M extends TrainableNoiseModel = ContextUnet> {
  model: M;
  manifest: CheckpointManifest;
  /** The schedule the model was trained with (from the manifest): sample with this one. */
  schedule: Schedule;
  /** Which weights the model holds: the EMA of the weights, or the trained (raw) weights. */
  weights: "ema" | "raw";
  /** Says so in words: "EMA weights (decay 0.999)", "raw weights (the checkpoint keeps no EMA)". */
  weightsLabel: string;
}

/** A checkpoint's model of any architecture: narrow on `model instanceof ...` or `manifest.architecture.name`. */
export type LoadedNoiseModel = LoadedModel<ContextUnet> | LoadedModel<AttentionUnet> | LoadedModel<TextContextUnet>;

/**
 * A model from a single .pth / .pt / .safetensors file (src/lib/interop/modelFile.ts), with a
 * manifest made up for it: no training record, no data, the schedule the file records or the
 * course's. Such a file holds one set of weights: "ema" is refused.
 */
function loadFromModelFile(path: string, choice: WeightChoice): LoadedModel {
  if (choice === "ema") throw new Error(`${path} holds one set of weights and no EMA; load it with weights "auto" or "raw".`);
  const { model, config, schedule: scheduleConfig, label } = loadModelFile(path);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    libraryVersion: LIBRARY_VERSION,
    createdAt: new Date().toISOString(),
    architecture: { name: "ContextUnet", config, parameterCount: model.parameterCount },
    schedule: scheduleConfig,
    training: null,
    data: null,
    backend: tf.getBackend(),
    tensors: { file: path, sha256: "", entries: [] },
  };
  try {
    return { model, manifest, schedule: scheduleFromConfig(scheduleConfig), weights: "raw", weightsLabel: label };
  } catch (error) {
    model.dispose();
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}

/**
 * Builds the network a checkpoint's manifest names (ContextUnet, AttentionUnet or TextContextUnet, with its config)
 * and loads the weights `options.weights` asks for (default "auto": the EMA weights when the
 * checkpoint has them); returns it with its manifest and training schedule. The caller owns the
 * model. An architecture name this library does not know fails naming it and the manifest.
 * `dir` may also be a PyTorch .pth / .pt state_dict or a .safetensors file (a ContextUnet): the
 * architecture is then read off the tensors' shapes, and the schedule is the course's unless the
 * file records one.
 */
export function loadNoiseModel(dir: string, options: { weights?: WeightChoice } = {}): LoadedNoiseModel {
  const choice = parseWeightChoice(options.weights ?? "auto");
  if (isModelFile(dir)) return loadFromModelFile(dir, choice);
  const contents = loadCheckpoint(dir);
  if (choice === "ema" && !contents.ema) throw new Error(`Checkpoint ${dir} keeps no EMA weights (it was trained without --ema); load its trained weights with weights "raw" or "auto".`);
  const weights = choice !== "raw" && contents.ema ? "ema" : "raw";
  const schedule = manifestSchedule(contents.manifest, dir);
  const model = buildModel(resolveArchitecture(contents.manifest.architecture, join(dir, MANIFEST_FILE)));
  try {
    model.setWeights(weights === "ema" ? contents.ema! : contents.model);
  } catch (error) {
    model.dispose();
    throw new Error(`Checkpoint ${dir}: ${(error as Error).message}`);
  }
  const decay = contents.manifest.training?.config.emaDecay;
  const weightsLabel = weights === "ema" ? `EMA weights${decay ? ` (decay ${decay})` : ""}` : contents.ema ? "raw weights (the checkpoint also keeps an EMA)" : "raw weights (the checkpoint keeps no EMA)";
  const loaded = { manifest: contents.manifest, schedule, weights, weightsLabel } as const;
  // One branch per architecture, so each result carries its model's own type.
  if (model instanceof ContextUnet) return { model, ...loaded };
  if (model instanceof TextContextUnet) return { model, ...loaded };
  return { model, ...loaded };
}

/**
 * loadNoiseModel for the callers that need the course's ContextUnet (its context, classes and
 * learned variance: the lessons, guidance, editing, likelihood): the same model, typed as one;
 * a checkpoint of another architecture fails saying so (and is not kept).
 */
export function loadModel(dir: string, options: { weights?: WeightChoice } = {}): LoadedModel<ContextUnet> {
  const loaded = loadNoiseModel(dir, options);
  if (loaded.model instanceof ContextUnet) return loaded as LoadedModel<ContextUnet>;
  loaded.model.dispose();
  throw new Error(
    `${dir} holds ${/^[AEIOU]/.test(loaded.manifest.architecture.name) ? "an" : "a"} ${loaded.manifest.architecture.name}, and this needs a ContextUnet (the course's sprite model, with context); ` +
      "sample it with `npm run sample`, measure it with `npm run set-frechet -- --checkpoint DIR`, or load it with loadNoiseModel.",
  );
}

/**
 * Restores a trainer from a checkpoint made by the same kind of run: same architecture,
 * schedule, training config and data. Throws listing every difference; changes nothing then.
 */
export function resumeTraining(dir: string, trainer: Trainer<TrainableNoiseModel>, data: DataInfo): CheckpointManifest {
  const contents = loadCheckpoint(dir);
  const { manifest } = contents;
  const problems = [
    // Older manifests lack fields added since (outChannels, loss, variance, timesteps): their defaults fill them.
    ...describeMismatch(architectureOf(trainer.model), resolveArchitecture(manifest.architecture, join(dir, MANIFEST_FILE)), "architecture"),
    ...describeMismatch(trainer.schedule.config, manifest.schedule, "schedule"),
    ...describeMismatch(trainer.config, manifest.training ? resolveTrainConfig(manifest.training.config) : undefined, "training.config"),
    ...describeMismatch(data.fingerprint, manifest.data?.fingerprint, "data.fingerprint"),
  ];
  if (!manifest.training || !contents.optimizer) problems.push("the checkpoint holds weights only (no optimizer state): it cannot resume training");
  if (problems.length > 0) {
    throw new Error(`Cannot resume from ${dir}; the checkpoint differs from this run:\n  ${problems.join("\n  ")}`);
  }
  trainer.model.setWeights(contents.model);
  const { epoch, stepInEpoch, globalStep, history, timestepHistory, epochSoFar } = manifest.training!;
  trainer.restore({ epoch, stepInEpoch, globalStep }, history, contents.optimizer!, contents.ema, timestepHistory ?? null, epochSoFar ?? null);
  return manifest;
}

